#!/usr/bin/env node
// The test runner behind `npm test` (run after `npm run build`).
//
// As root it re-runs itself under `unshare -n`, so every kernel test lives in a
// fresh, private network namespace that vanishes with the run: the host's
// interfaces are never touched. Without root the kernel tests skip with a loud
// notice; under CI=true a skipped test is a failure. It ends with one plain
// line `N passed, N failed, N skipped`, the line CI reads.

import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { warmNpmCacheForPackageTest } from './warm-npm-cache.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const isRoot = process.getuid?.() === 0;
const inNamespace = process.env.TUN_LIFECYCLE_NETNS === '1';
const ci = process.env.CI === 'true' || process.env.CI === '1';

if (isRoot && !inNamespace) {
  if (!existsSync('/usr/bin/unshare') && spawnSync('unshare', ['--version']).error) {
    console.error('run-tests: `unshare` (util-linux) is needed to make the test namespace');
    process.exit(1);
  }
  if (args.length === 0 || args.some((file) => file.includes('package'))) warmNpmCacheForPackageTest(root);
  // -n: a new network namespace holding only a down loopback; the child brings it up.
  const child = spawnSync('unshare', ['-n', '--', process.execPath, fileURLToPath(import.meta.url), ...args], {
    stdio: 'inherit',
    // The child proves it is elsewhere by comparing with the namespace we are in now
    // (/proc/1/ns/net is not always readable, e.g. in sandboxes).
    env: { ...process.env, TUN_LIFECYCLE_NETNS: '1', TUN_LIFECYCLE_HOST_NETNS: readNs() },
  });
  if (child.error) {
    console.error(`run-tests: could not enter a private network namespace: ${child.error.message}`);
    process.exit(1);
  }
  process.exit(child.status ?? 1);
}

if (inNamespace) {
  execFileSync('ip', ['link', 'set', 'lo', 'up']);
  console.log(`run-tests: in private network namespace ${readNs()}`);
}

function readNs() {
  return readlinkSync('/proc/self/ns/net');
}

function findTests(dir) {
  if (!existsSync(dir)) return [];
  const out = [];
  for (const entry of readdirSync(dir)) {
    const full = join(dir, entry);
    if (statSync(full).isDirectory()) out.push(...findTests(full));
    else if (entry.endsWith('.test.js')) out.push(full);
  }
  return out.sort();
}

const files = args.length > 0 ? args.map((f) => resolve(f)) : findTests(join(root, 'dist', 'test'));
if (files.length === 0) {
  console.error('run-tests: no compiled tests under dist/test (run `npm run build` first)');
  console.log('0 passed, 1 failed');
  process.exit(1);
}

// mocha's ✔/✖ come from log-symbols, which colours them whenever CI is set,
// even into a pipe; NO_COLOR (read when mocha loads) keeps a piped log plain.
if (!process.stdout.isTTY) process.env.NO_COLOR ??= '1';
const { default: Mocha } = await import('mocha');
const mocha = new Mocha({
  timeout: Number(process.env.TEST_TIMEOUT_MS ?? 20_000),
  reporter: 'spec',
  color: Boolean(process.stdout.isTTY),
});
for (const file of files) mocha.addFile(file);
await mocha.loadFilesAsync();

let passed = 0;
let failed = 0;
let skipped = 0;
const runner = mocha.run();
runner.on('pass', () => passed++);
runner.on('fail', () => failed++);
runner.on('pending', () => skipped++);
await new Promise((resolveRun) => runner.on('end', resolveRun));

console.log('');
if (skipped > 0) {
  const why = ci
    ? 'CI=true: skipped tests count as failures (the kernel tests must run in CI)'
    : 'skipped tests are kernel tests that could not run here; CI fails on them';
  console.log(`run-tests: ${skipped} test(s) skipped — ${why}`);
}
const ok = failed === 0 && !(ci && skipped > 0) && passed > 0;
console.log(`${passed} passed, ${failed + (ci ? skipped : 0)} failed, ${skipped} skipped`);
process.exit(ok ? 0 : 1);
