// The runtime the package's exports and bin point at, made from what tsc
// built in dist/src, in dist/pkg/:
//
//  - core.cjs: everything in one CommonJS bundle (esbuild). What a plain
//    import does not need (the testing and inspect entries, the CLI's main,
//    recovery, cleanup, reconfiguration, the worker queues, the CLI's
//    commands) sits in it as lazily initialised modules, run on first use.
//    One copy of every module, so one TunError class whichever entry hands
//    it out. Dependencies and peers stay external (the user's node_modules).
//  - load.js: the ES module that loads core.cjs through V8's code cache
//    (src/load/core.ts; the cache in code-cache/, made by
//    scripts/code-cache.mjs at the end of this script). CommonJS, because Node 20 lets a vm.Script take
//    cached data and has no compile cache for ES modules.
//  - index.js, testing.js, inspect/index.js, chunks/cli-main.js: the entries,
//    each re-exporting its names from what load.js loaded (the names are
//    the tsc entries' own, read by esbuild).
//  - cli.js: the bin, built apart: it carries only its usage text, answers
//    --help and --version by itself, and imports chunks/cli-main.js for
//    everything else.
//
// Types stay tsc's dist/src/**/*.d.ts. Run by `npm run build`, after tsc.

import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const from = join(root, 'dist', 'src');
const outdir = join(root, 'dist', 'pkg');

/** The entries: the module tsc built, the file users import, and the core's accessor for the lazily loaded ones. */
const entries = [
  { module: 'index.js', file: 'index.js' },
  { module: 'testing.js', file: 'testing.js', accessor: 'loadTesting' },
  { module: 'inspect/index.js', file: 'inspect/index.js', accessor: 'loadInspect' },
  // A fixed name, so that the bin can import it.
  { module: 'cli/main.js', file: 'chunks/cli-main.js', accessor: 'loadCliMain' },
];

const common = {
  absWorkingDir: root,
  bundle: true,
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

/** The names an entry module exports (esbuild's reading of it). */
async function exportsOf(module) {
  const { metafile } = await build({ ...common, entryPoints: [join(from, module)], format: 'esm', write: false, metafile: true, outdir });
  return Object.values(metafile.outputs).find((output) => output.entryPoint)?.exports ?? [];
}

rmSync(outdir, { recursive: true, force: true });

// core.cjs. require() of an ES module in a bundle is lazy and synchronous in
// esbuild's output: the accessors load their part on first call, and the
// entries need no top-level await (so require('tun-lifecycle/testing') works too).
const coreEntry = [
  "export * from './index.js';",
  // The loader's import() for the core's (src/load/dynamic-import.ts).
  "export { useImporter } from './load/dynamic-import.js';",
  ...entries.filter((entry) => entry.accessor).map((entry) => `export const ${entry.accessor} = () => require('./${entry.module}');`),
].join('\n');
await build({
  ...common,
  stdin: { contents: coreEntry, resolveDir: from, sourcefile: 'core-entry.js', loader: 'js' },
  outfile: join(outdir, 'core.cjs'),
  format: 'cjs',
  // The few import.meta.url uses (finding the package root, createRequire) get core.cjs's own URL.
  define: { 'import.meta.url': '__coreFileUrl' },
  banner: { js: 'var __coreFileUrl = require("node:url").pathToFileURL(__filename).href;' },
});
const coreIdentity = createHash('sha256').update(readFileSync(join(outdir, 'core.cjs'))).digest('hex');

await build({
  ...common,
  entryPoints: [join(from, 'load', 'core.js')],
  outfile: join(outdir, 'load.js'),
  format: 'esm',
  define: { CORE_IDENTITY: JSON.stringify(coreIdentity) },
});

for (const entry of entries) {
  const names = await exportsOf(entry.module);
  const load = relative(dirname(join(outdir, entry.file)), join(outdir, 'load.js'));
  const source = entry.accessor ? `core.${entry.accessor}()` : 'core';
  mkdirSync(dirname(join(outdir, entry.file)), { recursive: true });
  writeFileSync(join(outdir, entry.file), [
    `// ${entry.module}'s exports, from the package's core (scripts/bundle.mjs).`,
    `import { core } from ${JSON.stringify(load.startsWith('.') ? load : `./${load}`)};`,
    `export const { ${names.join(', ')} } = ${source};`,
    '',
  ].join('\n'));
}

/** The bin's import of the CLI's main: the entry file above, not a second copy. */
const cliMainExternal = {
  name: 'cli-main-external',
  setup(b) {
    b.onResolve({ filter: /\/cli\/main\.js$/ }, (args) =>
      (join(args.resolveDir, args.path) === join(from, 'cli', 'main.js') ? { path: './chunks/cli-main.js', external: true } : undefined));
  },
};
await build({ ...common, entryPoints: [join(from, 'cli.js')], outdir, format: 'esm', plugins: [cliMainExternal] });

// The code cache of this Node, made by a warm-up run of what was just built.
const cache = spawnSync(process.execPath, [join(root, 'scripts', 'code-cache.mjs')], { stdio: 'inherit' });
if (cache.status !== 0) console.warn(`bundle: scripts/code-cache.mjs exited with ${cache.status}`);
