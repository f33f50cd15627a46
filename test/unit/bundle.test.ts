// The bundled runtime (scripts/bundle.mjs → dist/pkg/), as the package's
// exports resolve it: one copy of every module across the entries (classes
// are the same objects whichever entry hands them out), a plain import
// reading the index, the loader and the core, and what it does not need
// left unrun. Read from the built files (`npm run build`).

import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const PKG = join(ROOT, 'dist', 'pkg');

/** The bundle's own files a module statically imports, transitively (the module included). */
function staticGraph(file: string): string[] {
  const seen = new Set<string>();
  const stack = [file];
  while (stack.length > 0) {
    const current = stack.pop()!;
    if (seen.has(current)) continue;
    seen.add(current);
    const source = readFileSync(current, 'utf8');
    for (const match of source.matchAll(/^(?:import|export)\s[^;]*?from\s*"(\.[^"]+)"|^import\s*"(\.[^"]+)"/gmu)) {
      stack.push(resolve(dirname(current), match[1] ?? match[2]!));
    }
  }
  return [...seen].map((path) => relative(PKG, path)).sort();
}

/** The dist/ modules an output file carries (esbuild marks each with a `// dist/…` line). */
function modulesIn(file: string): Set<string> {
  return new Set([...readFileSync(join(PKG, file), 'utf8').matchAll(/^\/\/ (dist\/\S+\.js)$/gmu)].map((m) => m[1]!));
}

function outputFiles(dir = PKG): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? outputFiles(join(dir, entry.name)) : [relative(PKG, join(dir, entry.name))]);
}

describe('bundle: the runtime the package exports (dist/pkg)', () => {
  it('is what the package name resolves to, for every entry', () => {
    for (const [specifier, file] of [['tun-lifecycle', 'index.js'], ['tun-lifecycle/testing', 'testing.js'], ['tun-lifecycle/inspect', 'inspect/index.js']]) {
      expect(fileURLToPath(import.meta.resolve(specifier!)), specifier).to.equal(join(PKG, file!));
    }
  });

  it('hands out one class whichever entry it comes from (one copy of every module)', async () => {
    const index = await import('tun-lifecycle');
    const testing = await import('tun-lifecycle/testing');
    expect(testing.TunSystemError).to.equal(index.TunSystemError);
    const owners = new Map<string, string[]>();
    for (const file of outputFiles()) for (const module of modulesIn(file)) owners.set(module, [...(owners.get(module) ?? []), file]);
    expect(owners.get('dist/src/errors.js'), 'src/errors.ts in the bundle').to.have.length(1);
    expect([...owners].filter(([, files]) => files.length > 1)).to.deep.equal([]);
  });

  it('reads the index and the loader on a plain import, the loader the core; the lazily loaded modules only as lazy inits in it', () => {
    expect(staticGraph(join(PKG, 'index.js'))).to.deep.equal(['index.js', 'load.js']);
    expect(readFileSync(join(PKG, 'load.js'), 'utf8')).to.include('"core.cjs"');
    const core = readFileSync(join(PKG, 'core.cjs'), 'utf8');
    expect(modulesIn('core.cjs')).to.include('dist/src/errors.js');
    for (const lazy of ['lifecycle/recover.js', 'lifecycle/cleanup.js', 'lifecycle/reconfigure.js', 'adapter/worker-queues.js', 'inspect/server.js', 'cli/main.js', 'testing.js']) {
      // esbuild's __esm wrapper: the module's body runs when its init is first called, not when the bundle loads.
      expect(core, lazy).to.match(new RegExp(`= __esm\\(\\{\\n\\s+"dist/src/${lazy.replace(/[./]/gu, '\\$&')}"\\(\\) \\{`, 'u'));
    }
  });

  it('a plain import runs none of what it does not need: no model testing, inspector, diagram renderer or worker threads loaded', () => {
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', `
      import { createRequire } from 'node:module';
      await import('tun-lifecycle');
      const cached = Object.keys(createRequire(import.meta.url).cache);
      process.stdout.write(JSON.stringify({ cached, builtins: process.moduleLoadList }));
    `], { cwd: ROOT, encoding: 'utf8' });
    expect(child.status, child.stderr).to.equal(0);
    const { cached, builtins } = JSON.parse(child.stdout) as { cached: string[]; builtins: string[] };
    expect(cached.some((file) => file.includes('/xstate/dist/xstate.cjs.js')), 'the probe sees xstate loaded').to.equal(true);
    expect(cached.filter((file) => /xstate-graph|@viz-js|\/ws\//u.test(file))).to.deep.equal([]);
    for (const lazy of ['NativeModule worker_threads', 'NativeModule http', 'NativeModule child_process']) expect(builtins, lazy).to.not.include(lazy);
  });

  it('a plain import loads neither node:net nor node:stream (src/binding/contract/builtins.ts), and the bin alone reads no chunk', () => {
    const child = spawnSync(process.execPath, ['--input-type=module', '-e',
      // Read before touching process.stdout: a piped stdout loads node:net itself.
      "await import('tun-lifecycle'); const loaded = JSON.stringify(process.moduleLoadList); process.stdout.write(loaded)"], { cwd: ROOT, encoding: 'utf8' });
    expect(child.status, child.stderr).to.equal(0);
    const loaded = JSON.parse(child.stdout) as string[];
    expect(loaded, 'the probe sees the builtins a plain import loads').to.include('NativeModule events');
    for (const lazy of ['NativeModule net', 'NativeModule stream']) expect(loaded, lazy).to.not.include(lazy);
    // --help and --version need only the bin: its static graph is itself (the CLI's main is a lazy import).
    expect(staticGraph(join(PKG, 'cli.js'))).to.deep.equal(['cli.js']);
    expect([...modulesIn('cli.js')].sort()).to.deep.equal(['dist/src/cli.js', 'dist/src/cli/usage.js']);
  });
});
