// The package test (test/package/install.test.ts) installs the packed
// tarball into a fresh project with no network (it runs in the test
// namespace): npm then resolves the dependencies and the optional peers from
// its cache, as it would for a user who has installed anything before. A
// fresh machine's cache holds the tarballs `npm ci` fetched but not the
// registry documents a plain `npm install` asks for, so the test runner,
// while it still has the network, makes the same install once into a scratch
// project. Best effort: offline, it says so, and the test names what is missing.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function warmNpmCacheForPackageTest(root) {
  const work = mkdtempSync(join(tmpdir(), 'tl-npm-warm-'));
  try {
    execFileSync('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', work], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
    const tarball = join(work, readdirSync(work).find((file) => file.endsWith('.tgz')));
    writeFileSync(join(work, 'package.json'), JSON.stringify({ name: 'warm', version: '1.0.0', private: true }));
    execFileSync('npm', ['install', '--prefer-offline', '--ignore-scripts', '--no-audit', '--no-fund', '--silent', tarball], { cwd: work, stdio: ['ignore', 'ignore', 'inherit'] });
  } catch (error) {
    console.error(`run-tests: could not warm npm's cache for the package test (${error.message.split('\n')[0]}); it may fail offline`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
