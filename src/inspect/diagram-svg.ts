// The inspector's diagram as SVG, laid out on the server by Graphviz compiled
// to WebAssembly (@viz-js/viz, ~5 MB, no native code, no download): the page
// gets a finished drawing and needs no diagram library of its own. Graphviz
// is loaded on the first request only, and each distinct text is laid out once.

import { importModule } from '../load/dynamic-import.js';
import { mermaidToDot } from './diagram-dot.js';

type Viz = Awaited<ReturnType<typeof import('@viz-js/viz').instance>>;
let viz: Promise<Viz> | undefined;
const rendered = new Map<string, Promise<string>>();

/** The Mermaid text a feed's welcome carries → SVG whose state elements have the Mermaid ids. */
export function diagramSvg(mermaid: string): Promise<string> {
  let svg = rendered.get(mermaid);
  if (!svg) {
    svg = (async () => {
      viz ??= importModule<typeof import('@viz-js/viz')>('@viz-js/viz').then((module) => module.instance());
      return (await viz).renderString(mermaidToDot(mermaid), { format: 'svg', engine: 'dot' });
    })();
    svg.catch(() => rendered.delete(mermaid));
    rendered.set(mermaid, svg);
  }
  return svg;
}
