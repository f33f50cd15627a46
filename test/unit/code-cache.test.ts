// The code cache a cold start loads the package through (src/load/code-cache.ts,
// src/load/core.ts; made by scripts/code-cache.mjs in the build): each test runs
// fresh node processes, because a cache only matters to a process that has
// compiled nothing yet. The tests that change the cache work on a copy of
// dist/pkg inside dist/ (so it still finds the package root and node_modules).

import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { cpSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const PKG = join(ROOT, 'dist', 'pkg');

interface Report { file: string; cacheFile: string; fromCache: boolean }
interface Probe { report: Report[]; state: string; sameXstate: boolean; compileRestored: boolean; svg: boolean }

/** A fresh process: loads `pkg`'s loader, brings a simulated interface up and down, reports what came from the cache. */
function probe(pkg: string, env: Record<string, string> = {}): Probe {
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', `
    import Module, { createRequire } from 'node:module';
    const compileBefore = Module.prototype._compile;
    const { core, codeCacheReport } = await import(${JSON.stringify(join(pkg, 'load.js'))});
    const compileRestored = Module.prototype._compile === compileBefore;
    const { SimulatedBinding } = core.loadTesting();
    const tun = await core.createAdapter('cc0', { addresses: ['10.9.0.1/24'], binding: new SimulatedBinding() });
    const state = tun.state;
    // The inspector's diagram: the core's import() of @viz-js/viz, which a vm.Script cannot make itself (src/load/dynamic-import.ts).
    const server = await core.loadInspect().serveInspector(tun);
    const svg = (await (await fetch(server.url + 'diagram.svg')).text()).includes('<g id="ready" class="node"');
    await server.close();
    await tun.cleanup();
    // The app's own import of xstate: the instance the package runs on.
    const mine = await import('xstate');
    const theirs = createRequire(${JSON.stringify(join(pkg, 'core.cjs'))})('xstate');
    process.stdout.write(JSON.stringify({ report: codeCacheReport(), state, sameXstate: mine.createActor === theirs.createActor, compileRestored, svg }));
  `], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ...env } });
  expect(child.status, child.stderr).to.equal(0);
  return JSON.parse(child.stdout) as Probe;
}

const thisNode = `.${process.version}-${process.arch}.`;
const cacheFiles = (pkg: string) => readdirSync(join(pkg, 'code-cache')).filter((file) => file.includes(thisNode)).sort();

describe('code cache: the package loaded through V8\'s cached data', () => {
  let copy: string | undefined;

  afterEach(() => {
    if (copy) rmSync(copy, { recursive: true, force: true });
    copy = undefined;
  });

  function copyOfPkg(): string {
    copy = join(ROOT, 'dist', `code-cache-test-${process.pid}`);
    cpSync(PKG, join(copy, 'pkg'), { recursive: true });
    // The build's cache was made under dist/pkg's path: of no use to the copy, and in the way of its own.
    rmSync(join(copy, 'pkg', 'code-cache'), { recursive: true });
    return join(copy, 'pkg');
  }

  it('the build made this Node\'s cache of the core and of xstate\'s files, and a fresh process takes every one of them', () => {
    const files = cacheFiles(PKG);
    expect(files.some((file) => file.startsWith('core.cjs.'))).to.equal(true);
    expect(files.some((file) => file.startsWith('xstate.cjs.js.'))).to.equal(true);
    const { report, state, sameXstate, compileRestored, svg } = probe(PKG);
    expect(state).to.equal('ready');
    expect(svg, 'the diagram drawn: import() works in the cached core').to.equal(true);
    expect(report.map((entry) => entry.file)).to.include(join(PKG, 'core.cjs'));
    expect(report.filter((entry) => !entry.fromCache), 'scripts compiled without their cache').to.deep.equal([]);
    expect(sameXstate, 'the app\'s import of xstate is the instance the package loaded').to.equal(true);
    expect(compileRestored, 'Module.prototype._compile is Node\'s own again once loaded').to.equal(true);
  });

  it('a copy elsewhere compiles without a cache (a cache keeps the path it was made under) and writes its own on exit, which the next process takes', () => {
    const pkg = copyOfPkg();
    const first = probe(pkg);
    expect(first.report.find((entry) => entry.file === join(pkg, 'core.cjs'))?.fromCache).to.equal(false);
    expect(probe(pkg).report.filter((entry) => !entry.fromCache)).to.deep.equal([]);
  });

  it('a cache file cut short is rejected (V8 checks the length): the plain compile, and the process writes a good one', () => {
    const pkg = copyOfPkg();
    probe(pkg);
    const [core, xstate] = ['core.cjs.', 'raise-'].map((prefix) => join(pkg, 'code-cache', cacheFiles(pkg).find((file) => file.startsWith(prefix))!));
    for (const file of [core!, xstate!]) writeFileSync(file, readFileSync(file).subarray(0, 1000));
    const cut = probe(pkg);
    expect(cut.state).to.equal('ready');
    expect(cut.report.filter((entry) => !entry.fromCache).map((entry) => entry.file).sort())
      .to.deep.equal([join(pkg, 'core.cjs'), join(ROOT, 'node_modules/xstate/dist', basename(xstate!).split('.v')[0]!)].sort());
    expect(probe(pkg).report.filter((entry) => !entry.fromCache)).to.deep.equal([]);
  });

  it('a process under other V8 flags keeps a cache of its own, and the one the rest use stays theirs (no thrashing)', () => {
    const pkg = copyOfPkg();
    probe(pkg);
    const plain = cacheFiles(pkg);
    const flagged = probe(pkg, { NODE_OPTIONS: '--max-old-space-size=300' });
    expect(flagged.report.find((entry) => entry.file === join(pkg, 'core.cjs'))?.fromCache, 'the plain cache is refused under other flags').to.equal(false);
    const both = cacheFiles(pkg);
    expect(both.length, 'a file per script for those flags, beside the plain ones').to.be.greaterThan(plain.length);
    for (const file of plain) expect(both).to.include(file);
    expect(probe(pkg).report.filter((entry) => !entry.fromCache), 'the plain processes still take theirs').to.deep.equal([]);
    expect(probe(pkg, { NODE_OPTIONS: '--max-old-space-size=300' }).report.filter((entry) => !entry.fromCache), 'and the flagged one its own').to.deep.equal([]);
  });

  it('core.cjs edited after its cache was made: V8 rejects the cache made from the old text, and the process compiles the new one', () => {
    const pkg = copyOfPkg();
    probe(pkg);
    writeFileSync(join(pkg, 'core.cjs'), `${readFileSync(join(pkg, 'core.cjs'), 'utf8')}\nglobalThis.__tunLifecycleEdited = true;\n`);
    // The file's name comes from the content hash the build wrote into the loader, so the edited file finds the old
    // entry; V8's own check (the source's length) is what refuses it.
    const { report, state } = probe(pkg);
    expect(state).to.equal('ready');
    expect(report.find((entry) => entry.file.endsWith('core.cjs'))?.fromCache).to.equal(false);
  });

  it('a save now (the warm-up run) replaces this Node\'s files made from older sources and leaves other Nodes\' alone', () => {
    const pkg = copyOfPkg();
    probe(pkg);
    const stale = `core.cjs${thisNode}00000000.v8`;
    const otherNode = 'core.cjs.v0.0.0-x64.00000000.v8';
    for (const file of [stale, otherNode]) writeFileSync(join(pkg, 'code-cache', file), 'old');
    const made = spawnSync(process.execPath, ['--input-type=module', '-e', `
      const { saveCodeCacheNow } = await import(${JSON.stringify(join(pkg, 'load.js'))});
      process.stdout.write(String(saveCodeCacheNow()));
    `], { cwd: ROOT, encoding: 'utf8' });
    expect(Number(made.stdout), made.stderr).to.be.greaterThan(0);
    const files = readdirSync(join(pkg, 'code-cache'));
    expect(files).to.not.include(stale);
    expect(files).to.include(otherNode);
    expect(probe(pkg).report.filter((entry) => !entry.fromCache)).to.deep.equal([]);
  });

  it('TUN_LIFECYCLE_CODE_CACHE=0: nothing read through the cache, nothing written, and the package works as any CommonJS file', () => {
    const pkg = copyOfPkg();
    const { report, state, sameXstate, svg } = probe(pkg, { TUN_LIFECYCLE_CODE_CACHE: '0' });
    expect(state).to.equal('ready');
    expect(svg).to.equal(true);
    expect(report).to.deep.equal([]);
    expect(sameXstate).to.equal(true);
    expect(() => readdirSync(join(pkg, 'code-cache'))).to.throw(/ENOENT/u);
  });
});
