// The runtime the package's exports and bin point at: the entry points tsc
// built in dist/src, bundled by esbuild into dist/pkg/ (ESM, split into shared
// chunks). Node's loader pays per module (resolve, read, compile, link), so a
// plain import reading two files instead of ~40 modules is most of the cold
// start saved. Splitting keeps one copy of every module across the entries
// and the lazily imported ones (recovery, cleanup, reconfiguration, worker
// queues, the CLI's commands): one TunError class, so `instanceof` holds
// between entries. Dependencies and peers stay external (resolved from
// node_modules as before); types stay tsc's dist/src/**/*.d.ts. Run by
// `npm run build`, after tsc.
//
// The bin (dist/pkg/cli.js) is built apart: with it in the split build,
// esbuild's shared helpers (__name) would sit in a chunk of their own that
// every entry reads, and the bin would read the index's chunk; apart, it
// carries only its usage text, answers --help and --version by itself and
// imports the CLI's main (chunks/cli-main.js, an entry of the split build)
// for everything else.

import { build } from 'esbuild';
import { readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const from = join(root, 'dist', 'src');
const outdir = join(root, 'dist', 'pkg');
const hotPath = join(from, 'index.js');
const cliMain = join(from, 'cli', 'main.js');
const entryPoints = [
  ...['index.js', 'testing.js', 'inspect/index.js'].map((entry) => join(from, entry)),
  // A fixed name, so that the bin can import it.
  { in: cliMain, out: 'chunks/cli-main' },
];

const options = {
  absWorkingDir: root,
  entryPoints,
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
};

/** Our modules loaded by import() somewhere: each is an entry of its own to esbuild. */
async function dynamicTargets() {
  const { metafile } = await build({ ...options, write: false, metafile: true });
  const targets = new Set();
  for (const input of Object.values(metafile.inputs)) {
    for (const imported of input.imports) if (imported.kind === 'dynamic-import' && !imported.external) targets.add(join(root, imported.path));
  }
  return targets;
}

/**
 * esbuild puts each module in the chunk of the set of entries (static or
 * dynamic) that reach it, so the index's modules, reached by different
 * subsets, would land in some 20 chunks. Every other entry and every lazily
 * imported module also reaching the index's whole graph (they load after it,
 * or with it, anyway) puts that graph in one chunk: a plain import reads the
 * index and that chunk.
 */
function oneHotChunk(reachers) {
  return {
    name: 'one-hot-chunk',
    setup(b) {
      b.onLoad({ filter: /\.js$/ }, (args) => {
        if (!reachers.has(args.path)) return undefined;
        const source = readFileSync(args.path, 'utf8');
        // Using the namespace as a value keeps all of the index's exports (and what they reach) live here.
        const hook = `\nimport * as hotPath__ from ${JSON.stringify(hotPath)};\nif (hotPath__ === undefined) throw new Error('unreachable');\n`;
        return { contents: source + hook, loader: 'js', resolveDir: dirname(args.path) };
      });
    },
  };
}

const reachers = new Set([...entryPoints.map((entry) => entry.in ?? entry), ...(await dynamicTargets())]);
reachers.delete(hotPath);
rmSync(outdir, { recursive: true, force: true });
await build({ ...options, plugins: [oneHotChunk(reachers)] });

/** The bin's import of the CLI's main: the split build's entry, not a second copy. */
const cliMainExternal = {
  name: 'cli-main-external',
  setup(b) {
    b.onResolve({ filter: /\/cli\/main\.js$/ }, (args) =>
      (join(args.resolveDir, args.path) === cliMain ? { path: './chunks/cli-main.js', external: true } : undefined));
  },
};
await build({ ...options, entryPoints: [join(from, 'cli.js')], splitting: false, plugins: [cliMainExternal] });
