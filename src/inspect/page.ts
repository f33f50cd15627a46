// The offline inspector page: markup only; style and script live beside it.
// The first response already holds the drawn diagram and the welcome (state,
// context, log), so the page shows the last known state before its event
// stream connects; /events then streams from there.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { findPackageRoot } from '../binding/native/addon.js';
import { PAGE_STYLE } from './page-style.js';

// Where tsc copies it (allowJs), found from the package root: this module runs
// from dist/src/inspect/ (tests) or from a chunk of the bundle in dist/pkg/.
const PAGE_SCRIPT_PATH = ['dist', 'src', 'inspect', 'browser', 'page.js'];
let pageScript: string | undefined;

/** The page's script, read once; without the source-map comment, which points nowhere once inlined. */
function readPageScript(): string {
  pageScript ??= readFileSync(join(findPackageRoot(), ...PAGE_SCRIPT_PATH), 'utf8').replace(/^\/\/# sourceMappingURL=.*$/mu, '').trimEnd();
  return pageScript;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"]/gu, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}

/** JSON safe inside a <script> element: no '</script>', no '<!--'. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</gu, '\\u003c');
}

/**
 * The drawing as the page's own element: from <svg> on (no XML prolog, doctype
 * or comments), without the namespace declarations HTML does not need (their
 * URIs are names, but the page promises no address of elsewhere in it).
 */
function inlineSvg(svg: string): string {
  const start = svg.indexOf('<svg');
  return (start < 0 ? '' : svg.slice(start)).replace(/\s+xmlns(?::\w+)?="[^"]*"/gu, '').trimEnd();
}

/** What the first response carries: the diagram as SVG and the welcome message it starts from. */
export interface PageStart {
  svg: string;
  welcome: unknown;
}

export function inspectorPage(title: string, start?: PageStart): string {
  const t = escapeHtml(title);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${t} — inspector</title>
<style>${PAGE_STYLE}</style>
</head>
<body data-state="">
<header>
  <h1 id="title">${t}</h1>
  <span id="state" class="badge">connecting…</span>
  <span id="conn" class="conn">connecting…</span>
</header>
<main>
  <section id="diagram-panel"><h2>Statechart (generated from the machine)</h2><div id="diagram">${start ? inlineSvg(start.svg) : ''}</div></section>
  <div class="side">
    <section><h2>Context</h2><dl id="context"></dl></section>
    <section><h2>Pending timers</h2><div id="timers"></div></section>
    <section><h2>Stats</h2><dl id="stats"><dd class="none">waiting…</dd></dl></section>
    <section><h2>Configuration</h2><dl id="details"></dl></section>
  </div>
  <section id="log-panel"><h2>Event log (newest first)</h2><div id="log-wrap"><table>
    <thead><tr><th>time</th><th>since first event</th><th>event / transition</th><th>from</th><th>detail</th></tr></thead>
    <tbody id="log"></tbody></table></div></section>
</main>
<footer>tun-lifecycle offline inspector · served from this process on loopback · no network access needed</footer>
${start ? `<script type="application/json" id="tl-welcome">${scriptJson(start.welcome)}</script>\n` : ''}<script type="module">
${readPageScript()}
</script>
</body>
</html>
`;
}
