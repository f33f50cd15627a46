#!/usr/bin/env node
// Makes the package's code cache (dist/pkg/code-cache/, src/load/code-cache.ts)
// for the Node running this script: a fresh process loads the package, brings
// an interface up and down (simulated; and through the kernel, in a network
// namespace of its own, when root), then writes the cache of everything it
// compiled in place of this Node's older files (saveCodeCacheNow). Run by the build
// (scripts/bundle.mjs) and by the install step (scripts/install.mjs), so an
// install by a Node other than the one that packed the package gets its own.
// The cache only speeds a cold start up: a failure here is reported and
// nothing else.

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = join(root, 'dist', 'pkg');

const warmUp = `
const { core, saveCodeCacheNow } = await import(${JSON.stringify(join(pkg, 'load.js'))});
const plan = { mtu: 1400, addresses: ['10.250.0.1/24', 'fd00:250::1/64'], routes: ['10.251.0.0/16'] };
const { SimulatedBinding } = core.loadTesting();
const simulated = await core.createAdapter('warm0', { ...plan, binding: new SimulatedBinding() });
await simulated.cleanup();
if (process.env.TUN_LIFECYCLE_WARM_NATIVE === '1') {
  // No addon built yet (a build before the native one): the simulated run's cache is still worth writing.
  try {
    const native = await core.createAdapter('warm0', plan);
    await native.cleanup();
  } catch (error) {
    process.stderr.write('code cache: the run through the kernel was skipped: ' + error.message + String.fromCharCode(10));
  }
}
process.stdout.write(String(saveCodeCacheNow()));
`;

const native = process.getuid?.() === 0 && existsSync('/dev/net/tun') && spawnSync('unshare', ['-n', 'true']).status === 0;
const [command, prefix] = native ? ['unshare', ['-n', process.execPath]] : [process.execPath, []];
const warm = spawnSync(command, [...prefix, '--input-type=module', '-e', warmUp], {
  cwd: root, encoding: 'utf8', env: { ...process.env, TUN_LIFECYCLE_WARM_NATIVE: native ? '1' : '0' },
});
if (warm.status !== 0) {
  console.warn(`tun-lifecycle: no code cache written (the warm-up run failed):\n${warm.stderr || `exit ${warm.status}`}`);
} else if (!(Number(warm.stdout) > 0)) {
  console.warn('tun-lifecycle: the warm-up run wrote no code cache (TUN_LIFECYCLE_CODE_CACHE=0, or dist/pkg not writable)');
}
