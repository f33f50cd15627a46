// The runtime the package's exports and bin point at: the entry points tsc
// built in dist/src, bundled by esbuild into dist/pkg/ (ESM, split into shared
// chunks). Node's loader costs about 0.5–1 ms per module, so a plain import
// reading a few chunks instead of ~40 modules is most of the cold start saved.
// Splitting keeps one copy of every module across the entries and the lazily
// imported ones (recovery, cleanup, reconfiguration, worker queues, the CLI's
// commands): one TunError class, so `instanceof` holds between entries.
// Dependencies and peers stay external (resolved from node_modules as before);
// types stay tsc's dist/src/**/*.d.ts. Run by `npm run build`, after tsc.

import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const from = join(root, 'dist', 'src');
const outdir = join(root, 'dist', 'pkg');

rmSync(outdir, { recursive: true, force: true });
await build({
  absWorkingDir: root,
  entryPoints: ['index.js', 'testing.js', 'inspect/index.js', 'cli.js'].map((entry) => join(from, entry)),
  outbase: from,
  outdir,
  entryNames: '[dir]/[name]',
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // xstate, @viz-js/viz, node-gyp-build and the optional peers: the user's node_modules.
  packages: 'external',
  keepNames: true,
  minify: false,
  sourcemap: false,
  legalComments: 'none',
  logLevel: 'warning',
});
