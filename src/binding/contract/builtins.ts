// Node's built-in modules that the index's graph needs, taken through
// require() rather than `import` (kept in the contract so both bindings and
// the rest of src/ may use it). Measured on Node 20, in a fresh process:
// `import 'node:fs'` costs about 2.4 ms (the ES module facade over its
// hundred-odd exports) where require('node:fs') costs 0.25 ms, and the facade
// of node:util runs its lazy getters (parseArgs, MIMEType, AbortController);
// node:events, node:path and node:url together 0.35 ms against 0.03 ms; node:net and
// node:stream cost about 2 ms each to load at all, so they load when first
// used (an IPv6 address parsed, a stream() asked for). All of it is on every
// cold start, the create most users see.

import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export const fs = require('node:fs') as typeof import('node:fs');
export const os = require('node:os') as typeof import('node:os');
export const util = require('node:util') as typeof import('node:util');
export const events = require('node:events') as typeof import('node:events');
export const path = require('node:path') as typeof import('node:path');
export const url = require('node:url') as typeof import('node:url');

let net: typeof import('node:net') | undefined;
let stream: typeof import('node:stream') | undefined;

/** node:net, loaded on first use. */
export function netModule(): typeof import('node:net') {
  net ??= require('node:net') as typeof import('node:net');
  return net;
}

/** node:stream, loaded on first use. */
export function streamModule(): typeof import('node:stream') {
  stream ??= require('node:stream') as typeof import('node:stream');
  return stream;
}
