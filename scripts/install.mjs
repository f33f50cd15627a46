#!/usr/bin/env node
// The package's install step. Never downloads anything: the addon shipped in
// prebuilds/ (or a local build/Release) is used when it loads on this machine;
// only when none does is it compiled, with node-gyp against the running Node's
// own headers (python3, make and g++ needed then). No headers, no compile: it
// says so rather than letting node-gyp fetch them. In a git checkout it always
// compiles into build/ (`npm ci`, `npm run install` after native/ changes): a
// developer runs what the sources say, not a prebuild of older ones.
//
// Then, in an installed package, the code cache for this Node
// (scripts/code-cache.mjs; the build makes it in a checkout).

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { localNodeDir, nodeGypCommand } from './node-headers.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));

function loadsHere() {
  try {
    const file = require('node-gyp-build').path(root);
    require(file);
    return file;
  } catch (error) {
    return { error };
  }
}

/** The code cache for this Node (it only speeds a cold start: never fails the install). */
function codeCacheForThisNode() {
  if (existsSync(join(root, 'dist', 'pkg', 'load.js'))) spawnSync(process.execPath, [join(root, 'scripts', 'code-cache.mjs')], { stdio: 'inherit' });
}

if (existsSync(join(root, '.git'))) {
  console.log('tun-lifecycle: a git checkout: compiling the addon into build/');
} else {
  const found = loadsHere();
  if (typeof found === 'string') {
    console.log(`tun-lifecycle: using ${found.slice(root.length + 1)}`);
    codeCacheForThisNode();
    process.exit(0);
  }
  console.log(`tun-lifecycle: no prebuilt addon loads here (${found.error.message.split('\n')[0]}); compiling it`);
}
const nodedir = localNodeDir();
const gyp = nodeGypCommand(require);
if (!nodedir || !gyp) {
  console.error(`tun-lifecycle: cannot compile the addon offline: ${!nodedir
    ? `this Node (${process.execPath}) has no headers (include/node/node_api.h); set npm_config_nodedir to a Node source or headers directory`
    : 'node-gyp is not available (npm normally provides it)'}`);
  process.exit(1);
}
const result = spawnSync(process.execPath, [gyp, 'rebuild', `--nodedir=${nodedir}`], { cwd: root, stdio: 'inherit' });
if (result.status === 0) codeCacheForThisNode();
process.exit(result.status ?? 1);
