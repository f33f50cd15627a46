#!/usr/bin/env node
// The `tun-lifecycle` command (package.json "bin"). See src/cli/usage.ts.

import { main } from './cli/main.js';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // Everything is closed by now; a straggling handle (an inspector's reconnect timer) must not hold the exit.
    setTimeout(() => process.exit(code), 1500).unref();
  },
  (error: unknown) => {
    process.stderr.write(`tun-lifecycle: ${(error as Error)?.stack ?? String(error)}\n`);
    process.exitCode = 1;
  },
);
