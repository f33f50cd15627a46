#!/usr/bin/env node
// Builds the addons the package ships: prebuilds/linux-x64/ and
// prebuilds/linux-arm64/ (glibc), each tun-lifecycle.napi.glibc.node (the
// name node-gyp-build matches: Node-API, so one build serves every Node >= 20).
// arm64 is cross-compiled with Debian's toolchain (g++-aarch64-linux-gnu).
// Each build runs in its own directory under .prebuild/, so build/ (the
// checkout's own development build) is left alone. Headers come from the
// running Node (--nodedir), never from a download. Run by .ci/run before the
// tests, so a release is reproducible from a clean clone; `npm pack` ships them.
//   node scripts/prebuild.mjs [x64] [arm64]

import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { localNodeDir, nodeGypCommand } from './node-headers.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));
export const PREBUILD_FILE = 'tun-lifecycle.napi.glibc.node';

/** arch → the compilers and strip for it (x64: the host's own). */
const TOOLCHAINS = {
  x64: { CC: 'gcc', CXX: 'g++', STRIP: 'strip' },
  arm64: { CC: 'aarch64-linux-gnu-gcc', CXX: 'aarch64-linux-gnu-g++', STRIP: 'aarch64-linux-gnu-strip' },
};

const nodedir = localNodeDir();
const gyp = nodeGypCommand(require);
if (!nodedir) throw new Error('prebuild: this Node has no headers (include/node/node_api.h); set npm_config_nodedir');
if (!gyp) throw new Error('prebuild: node-gyp is missing (a devDependency: run npm ci)');

const arches = process.argv.slice(2).length ? process.argv.slice(2) : Object.keys(TOOLCHAINS);
for (const arch of arches) {
  const tools = TOOLCHAINS[arch];
  if (!tools) throw new Error(`prebuild: unknown arch ${arch} (${Object.keys(TOOLCHAINS).join(', ')})`);
  const work = join(root, '.prebuild', `linux-${arch}`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  copyFileSync(join(root, 'binding.gyp'), join(work, 'binding.gyp'));
  symlinkSync(join(root, 'native'), join(work, 'native'));
  const env = { ...process.env, CC: tools.CC, CXX: tools.CXX, CC_host: 'gcc', CXX_host: 'g++' };
  execFileSync(process.execPath, [gyp, 'rebuild', `--arch=${arch}`, `--nodedir=${nodedir}`, '--jobs=2'], { cwd: work, env, stdio: 'inherit' });
  const out = join(root, 'prebuilds', `linux-${arch}`);
  mkdirSync(out, { recursive: true });
  const file = join(out, PREBUILD_FILE);
  copyFileSync(join(work, 'build', 'Release', 'tun_lifecycle.node'), file);
  execFileSync(tools.STRIP, ['--strip-unneeded', file]);
  rmSync(work, { recursive: true, force: true });
  console.log(`prebuild: ${file.slice(root.length + 1)}`);
}
