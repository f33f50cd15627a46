// Loads the package's runtime: one CommonJS bundle (dist/pkg/core.cjs, made by
// scripts/bundle.mjs from everything in src/), compiled through V8's code
// cache (code-cache.ts), with xstate's own files compiled the same way. The
// package's ES module entries (index, testing, inspect, the CLI's main) are
// thin files re-exporting from what this module loads, once per thread, so a
// class is the same object whichever entry hands it out.
//
// xstate is loaded here through Node's own require, with one change for the
// length of that call (synchronous, so no other code runs meanwhile): the
// files under xstate's directory are compiled by compileCached. They land in
// require's cache as usual, so the user's own `import 'xstate'` (its ESM
// wrapper re-exports the same CommonJS files) gets this very instance. When
// the app has loaded xstate already, nothing of it is compiled again.

import type ModuleClass from 'node:module';
export { codeCacheReport } from './code-cache.js';
import { codeCacheEnabled, compileCached, nodeRequire, pruneCodeCache, saveCodeCache, uncachedScripts } from './code-cache.js';

const Module = nodeRequire('node:module') as typeof ModuleClass;
const { createRequire } = Module;
const { readFileSync } = nodeRequire('node:fs') as typeof import('node:fs');
const { dirname, join, sep } = nodeRequire('node:path') as typeof import('node:path');
const { fileURLToPath } = nodeRequire('node:url') as typeof import('node:url');

/** The content hash of core.cjs, written in by the bundle (scripts/bundle.mjs). */
declare const CORE_IDENTITY: string;

/**
 * A process that had to compile without a cache saves one this long after
 * loading (its first create is usually done by then), or when it exits
 * first (a short-lived CLI call): one write of a few milliseconds, once per
 * install and Node.
 */
const SAVE_AFTER_MS = 3000;

const here = dirname(fileURLToPath(import.meta.url));
const CORE_FILE = join(here, 'core.cjs');
/** Beside the code, as trusted as it (never a shared directory: see code-cache.ts). */
export const CODE_CACHE_DIR = join(here, 'code-cache');
const requireFromCore = createRequire(CORE_FILE);

type CompileFn = (this: ModuleClass, content: string, filename: string, ...rest: unknown[]) => unknown;

function loadXstateThroughCache(): void {
  const main = requireFromCore.resolve('xstate');
  if (requireFromCore.cache[main]) return;
  const dir = dirname(main) + sep;
  const { version } = requireFromCore('xstate/package.json') as { version: string };
  const proto = Module.prototype as unknown as { _compile: CompileFn };
  const original = proto._compile;
  proto._compile = function compileXstateCached(content, filename, ...rest) {
    if (!filename.startsWith(dir)) return original.call(this, content, filename, ...rest);
    const moduleFn = compileCached(CODE_CACHE_DIR, filename, content, `xstate@${version}:${content.length}`);
    return moduleFn.call(this.exports, this.exports, createRequire(filename), this, filename, dirname(filename));
  };
  try {
    requireFromCore('xstate');
  } finally {
    proto._compile = original;
  }
}

function saveLater(): void {
  const save = () => {
    process.off('exit', save);
    saveCodeCache(CODE_CACHE_DIR);
  };
  setTimeout(save, SAVE_AFTER_MS).unref();
  process.on('exit', save);
}

function loadCore(): Record<string, unknown> {
  let loaded: Record<string, unknown>;
  if (!codeCacheEnabled) {
    // Node loads the bundle as any CommonJS file.
    loaded = requireFromCore(CORE_FILE) as Record<string, unknown>;
  } else {
    loadXstateThroughCache();
    const module = { exports: {} as Record<string, unknown> };
    const moduleFn = compileCached(CODE_CACHE_DIR, CORE_FILE, readFileSync(CORE_FILE, 'utf8'), CORE_IDENTITY);
    moduleFn.call(module.exports, module.exports, requireFromCore, module, CORE_FILE, here);
    loaded = module.exports;
    if (uncachedScripts() > 0) saveLater();
  }
  // The core's import() of its optional peers and @viz-js/viz (src/load/dynamic-import.ts), resolved from beside core.cjs.
  (loaded.useImporter as (importer: (specifier: string) => Promise<unknown>) => void)((specifier) => import(specifier));
  return loaded;
}

/** Everything the entries export, and lazy accessors for the parts a plain import does not load. */
export const core = loadCore();

/** Writes this process's code cache now, in place of this Node's stale files (the warm-up run: scripts/code-cache.mjs). */
export function saveCodeCacheNow(): number {
  pruneCodeCache(CODE_CACHE_DIR);
  return saveCodeCache(CODE_CACHE_DIR, { all: true });
}
