// V8's code cache for the package's CommonJS code (the core bundle and
// xstate's files). Node 20 has no compile cache of its own (module.enableCompileCache
// is Node ≥ 22.1), and a cold process spends most of its first create
// compiling: the parse of the code and the bytecode of every function the
// first create calls, XState's included. A script compiled with the cached
// data of an earlier run skips both (measured here: the first create 13 → 4 ms).
//
// The cache lives beside the code (dist/pkg/code-cache/ in the package), as
// trusted as the code itself: never in a shared directory, where whoever can
// write a cache file runs their bytecode in this process. A file's name holds
// the file's own name, the Node version, the arch and a hash of the file's
// path and of what its source is (core.cjs: its content hash, written in by
// the build; xstate's files: xstate's version and the file's length), so a
// changed source or another Node never finds a stale entry. The path is in
// it because V8 keeps the file name a cache was made under (stack traces
// would name the build's directory): a cache serves the install that made it,
// so the package ships none, and each install makes its own. V8 checks its own version and flags
// besides and rejects what does not match; a rejected or missing cache only
// costs the plain compile. V8 checks the data's length, not its bytes (it
// checksums code caches only in debug builds): a file cut short or grown is
// rejected, one altered in place is as harmful as altered code. So files are
// only ever written whole (aside, then renamed), and only beside the code. A
// checksum here would cost more than it guards: node:crypto and node:zlib
// take 2.5 and 2 ms to load (both load node:stream), a JS loop over the
// core's cache about 2.5 ms.

import { createRequire } from 'node:module';

/**
 * Node's built-ins for the loader, through require: their ES module facades
 * cost milliseconds of a cold start (see src/binding/contract/builtins.ts),
 * and this is the first code of the package a process runs.
 */
export const nodeRequire = createRequire(import.meta.url);
const { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } = nodeRequire('node:fs') as typeof import('node:fs');
const { basename, join } = nodeRequire('node:path') as typeof import('node:path');
const { Script } = nodeRequire('node:vm') as typeof import('node:vm');

/** TUN_LIFECYCLE_CODE_CACHE=0 turns the cache off (nothing read, nothing written). */
export const codeCacheEnabled = process.env.TUN_LIFECYCLE_CODE_CACHE !== '0';

interface Compiled {
  file: string;
  script: import('node:vm').Script;
  /** Where its cache is for any process of this Node (cacheFileFor). */
  primary: string;
  /** Where this process reads and writes it: the primary, or its flags variant (withFlags). */
  cacheFile: string;
  /** The cache this process read was there and V8 took it. */
  fromCache: boolean;
}

/** The scripts compiled in this process, for save(). */
const compiled: Compiled[] = [];

/** FNV-1a, 32 bits: names a cache file (node:crypto would cost its load on every cold start). */
function fnv1a(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return (hash >>> 0).toString(16).padStart(8, '0');
}

/** What every cache file of this Node and arch has in its name. */
const THIS_NODE = `.${process.version}-${process.arch}.`;

/** Where the cache of `filename` made from `identity` is, for this Node and arch. */
export function cacheFileFor(dir: string, filename: string, identity: string): string {
  return join(dir, `${basename(filename)}${THIS_NODE}${fnv1a(`${filename}\0${identity}`)}.v8`);
}

function readCache(file: string): Buffer | undefined {
  try {
    return readFileSync(file);
  } catch {
    return undefined;
  }
}

/**
 * Compiles `source` (a CommonJS module's text) as Node would (the same
 * wrapper, the same file name in stacks) with the cached data for `identity`
 * when there is one; returns the module function.
 */
export function compileCached(dir: string, filename: string, source: string, identity: string): (...args: unknown[]) => unknown {
  const wrapped = `(function (exports, require, module, __filename, __dirname) { ${source}\n})`;
  // No importModuleDynamically: the code imports through src/load/dynamic-import.ts.
  const compile = (cachedData: Buffer | undefined) => new Script(wrapped, { filename, ...(cachedData ? { cachedData } : {}) });
  const primary = cacheFileFor(dir, filename, identity);
  let cacheFile = primary;
  let cachedData = codeCacheEnabled ? readCache(cacheFile) : undefined;
  let script = compile(cachedData);
  if (cachedData !== undefined && script.cachedDataRejected) {
    // V8 refuses a cache made under other V8 flags (--expose-gc, --max-old-space-size …): such a process
    // keeps a file of its own, named by its flags, rather than overwriting the one the rest use (each
    // would then throw the other's away, and pay a save, at every start).
    cacheFile = withFlags(cacheFile);
    cachedData = readCache(cacheFile);
    if (cachedData !== undefined) script = compile(cachedData);
  }
  compiled.push({ file: filename, script, primary, cacheFile, fromCache: cachedData !== undefined && !script.cachedDataRejected });
  return script.runInThisContext() as (...args: unknown[]) => unknown;
}

/** The cache file's name for this process's flags (its node options), for a process whose flags V8 found different. */
function withFlags(cacheFile: string): string {
  return cacheFile.replace(/\.v8$/u, `.${fnv1a(`${process.execArgv.join('\0')}\0${process.env.NODE_OPTIONS ?? ''}`)}.v8`);
}

/** What this process compiled and whether each came from the cache (tests, and anyone asking why a cold start is slow). */
export function codeCacheReport(): { file: string; cacheFile: string; fromCache: boolean }[] {
  return compiled.map((entry) => ({ file: entry.file, cacheFile: entry.cacheFile, fromCache: entry.fromCache }));
}

/** Scripts of this process whose cache was missing or rejected (what save() would write). */
export function uncachedScripts(): number {
  return compiled.filter((entry) => !entry.fromCache).length;
}

/**
 * Writes the cache of every script compiled so far, with the functions they
 * have run by now (so the later the call, the more of a first create it
 * holds). Each file goes in whole (written aside, then renamed); a directory
 * that cannot be written (a read-only install) is left as it is. Returns the
 * number of files written.
 */
export function saveCodeCache(dir: string, { all = false } = {}): number {
  if (!codeCacheEnabled) return 0;
  try {
    mkdirSync(dir, { recursive: true });
  } catch {
    return 0;
  }
  let written = 0;
  for (const entry of compiled) {
    if (entry.fromCache && !all) continue;
    try {
      const aside = `${entry.cacheFile}.${process.pid}.tmp`;
      writeFileSync(aside, entry.script.createCachedData());
      renameSync(aside, entry.cacheFile);
      entry.fromCache = true;
      written++;
    } catch {
      // Not writable here: the plain compile goes on being used.
    }
  }
  return written;
}

/**
 * Removes this Node's cache files that no script compiled in this process
 * names (made from an older source), keeping the flags variants of the ones
 * it does. Other Nodes' files are theirs. Returns the number removed.
 */
export function pruneCodeCache(dir: string): number {
  const current = compiled.map((entry) => basename(entry.primary).replace(/\.v8$/u, ''));
  let removed = 0;
  let files: string[];
  try {
    files = readdirSync(dir);
  } catch {
    return 0;
  }
  for (const file of files) {
    if (!file.includes(THIS_NODE) || current.some((name) => file.startsWith(name))) continue;
    try {
      rmSync(join(dir, file));
      removed++;
    } catch {
      // Not ours to remove here (a read-only install): it is never read anyway, its name no source's.
    }
  }
  return removed;
}
