#!/usr/bin/env node
// Regenerates the README's generated blocks from their sources, so the README
// cannot drift from the code: the lifecycle diagram (from the machine), the CLI
// usage (from the CLI), and the latest benchmark and reliability tables (from
// bench/RESULTS.md and test/reliability/RESULTS.md, written by their scripts).
// Run after `npm run build`. test/unit/readme.test.ts fails when the diagram
// or the usage differ.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { toMermaid, tunLifecycleMachine } = await import(join(root, 'dist/src/index.js'));
const { USAGE } = await import(join(root, 'dist/src/cli/usage.js'));

/** A results file without its own top-level title. */
function results(path) {
  const full = join(root, path);
  if (!existsSync(full)) return undefined;
  return readFileSync(full, 'utf8').replace(/^# .*\n+/u, '').trim();
}

const blocks = {
  diagram: `\`\`\`mermaid\n${toMermaid(tunLifecycleMachine).trimEnd()}\n\`\`\``,
  usage: USAGE.trimEnd(),
  bench: results('bench/RESULTS.md'),
  reliability: results('test/reliability/RESULTS.md'),
};

let readme = readFileSync(join(root, 'README.md'), 'utf8');
for (const [name, body] of Object.entries(blocks)) {
  if (body === undefined) continue;
  const pattern = new RegExp(`(<!-- ${name}:start[^\\n]*-->\\n)[\\s\\S]*?(<!-- ${name}:end -->)`, 'u');
  if (!pattern.test(readme)) continue;
  readme = readme.replace(pattern, (_, start, end) => `${start}${body}\n${end}`);
}
writeFileSync(join(root, 'README.md'), readme);
console.log('README.md: generated blocks updated');
