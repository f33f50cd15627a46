// The package as a user gets it: `npm pack` of this checkout (after the build
// and scripts/prebuild.mjs), installed into a fresh empty project from npm's
// cache (--prefer-offline: npm ci filled it; the test namespace has no network
// anyway), by an npm that has no nodedir configured and a PATH with no
// compiler on it (no cc, g++, make, python3). Asserted: the packed files
// against an allow-list, the node_modules size budget, no engine warning, the
// prebuilt addon used (nothing compiled), and then, in the fresh project, an
// interface brought up through the public API, the offline inspector drawing
// its diagram and Stately's inspector naming what to install.

import { expect } from 'chai';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describeKernel } from '../helpers/netns.js';
import { ipAddresses, ipLink } from '../helpers/iproute.js';

const run = promisify(execFile);
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const SIZE_BUDGET = 10_000_000;
const NAME = 'tlpkg0';

/** What the tarball may hold: what runs (the bundle in dist/pkg, the inspector page's script), the types, what the README shows, what a fallback compile needs. */
const ALLOWED: RegExp[] = [
  /^package\.json$/u, /^README\.md$/u, /^LICENSE$/u, /^docs\/inspector\.png$/u,
  /^dist\/pkg\/(chunks\/|inspect\/)?[\w-]+\.js$/u, /^dist\/pkg\/core\.cjs$/u, /^dist\/(src|machines)\/.+\.d\.ts$/u, /^dist\/src\/inspect\/browser\/page\.js$/u,
  /^native\/(offload\/)?[a-z_]+\.(cc|h)$/u, /^binding\.gyp$/u,
  /^scripts\/(install|node-headers|code-cache)\.mjs$/u,
  /^prebuilds\/linux-(x64|arm64)\/tun-lifecycle\.napi\.glibc\.node$/u,
];
const REQUIRED = [
  'package.json', 'README.md', 'LICENSE', 'docs/inspector.png', 'dist/pkg/index.js', 'dist/src/index.d.ts', 'dist/pkg/cli.js',
  'dist/pkg/inspect/index.js', 'dist/src/inspect/browser/page.js', 'dist/pkg/testing.js', 'dist/src/testing.d.ts', 'binding.gyp', 'native/addon.cc',
  'dist/pkg/core.cjs', 'dist/pkg/load.js', 'scripts/install.mjs', 'scripts/code-cache.mjs', 'prebuilds/linux-x64/tun-lifecycle.napi.glibc.node', 'prebuilds/linux-arm64/tun-lifecycle.napi.glibc.node',
];

function treeSize(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) total += treeSize(full);
    else if (entry.isFile()) total += statSync(full).size;
  }
  return total;
}

/** A bin directory holding only node, npm and the basic tools npm's scripts use: no compiler, no make, no python. */
function bareBin(dir: string): string {
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  for (const tool of ['node', 'npm', 'sh', 'env', 'cat', 'ls', 'mkdir', 'rm', 'cp', 'mv', 'uname', 'tar', 'gzip']) {
    for (const where of ['/usr/bin', '/bin', '/usr/local/bin']) {
      if (existsSync(join(where, tool))) {
        symlinkSync(join(where, tool), join(bin, tool));
        break;
      }
    }
  }
  return bin;
}

/** Runs `node --input-type=module -e code` in the fresh project; resolves with its stdout lines as they come. */
function child(cwd: string, env: NodeJS.ProcessEnv, code: string) {
  const proc = spawn(process.execPath, ['--input-type=module', '-e', code], { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const waiters: Array<() => void> = [];
  proc.stdout.setEncoding('utf8').on('data', (chunk: string) => { out += chunk; waiters.splice(0).forEach((w) => w()); });
  proc.stderr.setEncoding('utf8').on('data', (chunk: string) => { err += chunk; });
  const exited = new Promise<number | null>((done) => proc.on('exit', (status) => { waiters.splice(0).forEach((w) => w()); done(status); }));
  return {
    proc,
    exited,
    /** The first JSON line whose `step` is step. */
    async line(step: string, ms = 15_000): Promise<Record<string, any>> {
      const deadline = Date.now() + ms;
      for (;;) {
        const found = out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, any>).find((m) => m.step === step);
        if (found) return found;
        if (proc.exitCode !== null || Date.now() > deadline) throw new Error(`the child never said ${step}; stdout ${out}; stderr ${err}`);
        await new Promise<void>((wake) => { waiters.push(wake); setTimeout(wake, 200); });
      }
    },
    stderr: () => err,
  };
}

describe('package: the packed tarball installed into a fresh project, offline, with no compiler', function () {
  this.timeout(180_000);
  let work: string;
  let app: string;
  let installLog: string;
  let packed: string[];
  let env: NodeJS.ProcessEnv;

  before(async () => {
    for (const arch of ['x64', 'arm64']) {
      const prebuild = join(ROOT, 'prebuilds', `linux-${arch}`, 'tun-lifecycle.napi.glibc.node');
      if (!existsSync(prebuild)) throw new Error(`${prebuild} is missing: run \`node scripts/prebuild.mjs\` first (.ci/run does)`);
    }
    work = mkdtempSync(join(tmpdir(), 'tl-package-'));
    const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: ROOT, maxBuffer: 16 << 20 });
    const report = JSON.parse(stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
    packed = report[0]!.files.map((f) => f.path).sort();
    const tarball = join(work, report[0]!.filename);

    app = join(work, 'app');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'fresh-app', version: '1.0.0', private: true, type: 'module' }));
    // A user's npm: no ~/.npmrc (these machines set nodedir there), the machine's npm cache.
    const userconfig = join(work, 'empty-npmrc');
    writeFileSync(userconfig, '');
    env = {
      HOME: process.env.HOME, PATH: bareBin(work), npm_config_userconfig: userconfig, npm_config_update_notifier: 'false',
      ...(process.env.npm_config_cache ? { npm_config_cache: process.env.npm_config_cache } : {}),
    };
    const install = await run('npm', ['install', '--offline', '--engine-strict', '--foreground-scripts', '--no-audit', '--no-fund', tarball],
      { cwd: app, env, maxBuffer: 16 << 20 }).catch((error: { stdout?: string; stderr?: string; message: string }) => {
      throw new Error(`npm install of the tarball failed: ${error.message}\n${error.stdout ?? ''}\n${error.stderr ?? ''}`);
    });
    installLog = `${install.stdout}\n${install.stderr}`;
  });

  after(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('packs only what runs, what the README shows and what a fallback compile needs, both prebuilds included', () => {
    const stray = packed.filter((path) => !ALLOWED.some((pattern) => pattern.test(path)));
    expect(stray, 'packed files outside the allow-list').to.deep.equal([]);
    expect(packed).to.include.members(REQUIRED);
    expect(packed.filter((path) => /^(build|test|bench|dist\/test|dist\/bench)\//u.test(path) || path.endsWith('.map'))).to.deep.equal([]);
  });

  it(`installs in at most ${SIZE_BUDGET / 1e6} MB of node_modules, without an engine warning, using the prebuild`, () => {
    const size = treeSize(join(app, 'node_modules'));
    process.stdout.write(`      node_modules: ${(size / 1e6).toFixed(2)} MB (${readdirSync(join(app, 'node_modules')).join(', ')})\n`);
    expect(size).to.be.at.most(SIZE_BUDGET);
    expect(installLog).to.not.match(/EBADENGINE|Unsupported engine/u);
    // The install step either found the prebuild or did not run at all (npm's allowScripts): either way nothing compiled.
    expect(installLog).to.not.match(/no prebuilt addon loads here|gyp info/u);
    expect(existsSync(join(app, 'node_modules/tun-lifecycle/build')), 'a build/ directory: something compiled').to.equal(false);
    expect(existsSync(join(app, 'node_modules/mermaid'))).to.equal(false);
    expect(existsSync(join(app, 'node_modules/@statelyai/inspect')), 'Stately\'s inspector is an optional peer').to.equal(false);
  });

  it('makes its own code cache (the tarball ships none: a cache keeps the path it was made under): by the install step, or on the first exit', async () => {
    const probe = async () => {
      const { stdout } = await run(process.execPath, ['--input-type=module', '-e', `
        await import('tun-lifecycle');
        const { codeCacheReport } = await import('./node_modules/tun-lifecycle/dist/pkg/load.js');
        process.stdout.write(JSON.stringify(codeCacheReport()));
      `], { cwd: app, env });
      return JSON.parse(stdout) as Array<{ file: string; fromCache: boolean }>;
    };
    expect(packed.filter((path) => path.includes('code-cache/'))).to.deep.equal([]);
    // npm runs the install step (scripts/install.mjs makes the cache) unless its allowScripts keeps it from doing so.
    const byInstall = /tun-lifecycle: using prebuilds\//u.test(installLog);
    expect(existsSync(join(app, 'node_modules/tun-lifecycle/dist/pkg/code-cache')), 'a cache after the install').to.equal(byInstall);
    const first = await probe();
    expect(first.map((entry) => entry.file)).to.include.members([join(app, 'node_modules/xstate/dist/xstate.cjs.js'), join(app, 'node_modules/tun-lifecycle/dist/pkg/core.cjs')]);
    expect(first.filter((entry) => entry.fromCache !== byInstall)).to.deep.equal([]);
    expect((await probe()).filter((entry) => !entry.fromCache)).to.deep.equal([]);
  });

  describeKernel('package: the fresh project at work', () => {
  it('brings an interface up and down through the public API, serves the inspector with its diagram, and names the Stately install', async () => {
    const code = `
      import { createAdapter } from 'tun-lifecycle';
      import { serveInspector, createStatelyInspector } from 'tun-lifecycle/inspect';
      import { createRequire } from 'node:module';
      const say = (m) => process.stdout.write(JSON.stringify(m) + '\\n');
      const addon = createRequire(import.meta.url)('node-gyp-build').path('node_modules/tun-lifecycle');
      const tun = await createAdapter(${JSON.stringify(NAME)}, { addresses: ['10.237.0.1/24'], mtu: 1420 });
      const server = await serveInspector(tun);
      const svg = await (await fetch(server.url + 'diagram.svg')).text();
      const stately = await createStatelyInspector().then(() => 'loaded', (e) => ({ code: e.code, message: e.message }));
      say({ step: 'ready', state: tun.state, ifindex: tun.ifindex, addon, svgHasReady: svg.includes('<g id="ready" class="node"'), stately });
      await new Promise((go) => process.stdin.once('data', go));
      process.stdin.destroy();
      await server.close();
      await tun.cleanup();
      say({ step: 'stopped', state: tun.state });
    `;
    const proc = child(app, env, code);
    try {
      const ready = await proc.line('ready');
      expect(ready.state).to.equal('ready');
      expect(ready.addon).to.match(/node_modules\/tun-lifecycle\/prebuilds\/linux-(x64|arm64)\/tun-lifecycle\.napi\.glibc\.node$/u);
      expect(ready.svgHasReady, 'the inspector drew the diagram, out of the box').to.equal(true);
      expect(ready.stately).to.deep.equal({
        code: 'ERR_TUN_MISSING_PEER',
        message: "Stately's inspector needs @statelyai/inspect, which is not installed: run `npm install @statelyai/inspect ws`",
      });
      // Cross-checked with ip: the interface the fresh project made is there, up, with its address and MTU.
      const link = ipLink(NAME);
      expect(link?.ifindex).to.equal(ready.ifindex);
      expect(link?.mtu).to.equal(1420);
      expect(link?.flags).to.include('UP');
      expect(ipAddresses(NAME).map((a) => `${a.address}/${a.prefixLength}`)).to.include('10.237.0.1/24');
      proc.proc.stdin.end('go\n');
      expect((await proc.line('stopped')).state).to.equal('stopped');
      expect(await proc.exited, proc.stderr()).to.equal(0);
      expect(ipLink(NAME), 'the interface is gone after cleanup').to.equal(undefined);
    } finally {
      if (proc.proc.exitCode === null) proc.proc.kill('SIGKILL');
    }
  });

  it('the CLI\'s --stately without the optional peers: one line naming the install, exit 1, no interface made', async () => {
    const cli = join(app, 'node_modules/.bin/tun-lifecycle');
    const failed = await run(cli, ['up', 'tlpkg1', '--address', '10.238.0.1/24', '--stately', 'ws://127.0.0.1:9'], { cwd: app, env })
      .then(() => undefined, (error: { code?: number; stdout: string; stderr: string }) => error);
    expect(failed?.code).to.equal(1);
    expect(failed?.stderr).to.equal("tun-lifecycle: Stately's inspector needs @statelyai/inspect, which is not installed: run `npm install @statelyai/inspect ws`\n");
    expect(ipLink('tlpkg1')).to.equal(undefined);
  });
  });

  // After the suite above (mocha runs a suite's own tests before its nested suites): this removes the prebuilds.
  describe('package: the fallback compile', () => {
  it('without a prebuild for the machine, `npm rebuild` compiles the addon offline against the running Node\'s headers', async () => {
    // The compiler is needed now (the PATH of this test); the network is not (the test namespace has none),
    // nor a nodedir setting (the empty user config): the install script finds the headers beside node.
    const pkg = join(app, 'node_modules/tun-lifecycle');
    rmSync(join(pkg, 'prebuilds'), { recursive: true });
    const { stdout, stderr } = await run('npm', ['rebuild', 'tun-lifecycle', '--foreground-scripts'],
      { cwd: app, env: { ...env, PATH: process.env.PATH }, maxBuffer: 64 << 20 });
    expect(stdout + stderr).to.match(/no prebuilt addon loads here/u);
    expect(stdout + stderr).to.not.match(/gyp http GET|downloading/iu);
    const { stdout: loaded } = await run(process.execPath, ['--input-type=module', '-e', `
      import { createRequire } from 'node:module';
      const require = createRequire(import.meta.url);
      const file = require('node-gyp-build').path('node_modules/tun-lifecycle');
      process.stdout.write(file + ' ' + typeof require(file).openDevice);
    `], { cwd: app, env });
    expect(loaded).to.match(/node_modules\/tun-lifecycle\/build\/Release\/tun_lifecycle\.node function$/u);
  });
  });
});
