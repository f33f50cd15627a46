#!/usr/bin/env node
// The `tun-lifecycle` command (package.json "bin"). See src/cli/usage.ts.
//
// `--help` and `--version` on their own are answered here, without loading
// the CLI's commands, the library or xstate (about 20 ms of start; the bundle
// builds this entry apart, scripts/bundle.mjs). Anything else, those flags
// among other arguments too, goes through main's parser, which gives the
// same answers.

import { USAGE, VERSION } from './cli/usage.js';

const argv = process.argv.slice(2);
const only = argv.length === 1 ? argv[0] : undefined;
if (only === '--help' || only === '-h' || only === 'help' || only === '--version' || only === '-V') {
  // A reader gone early (`| head -1`) ends the printing and nothing else, as in main (src/cli/output.ts).
  process.stdout.on('error', (error: NodeJS.ErrnoException) => { if (error.code !== 'EPIPE') throw error; });
  process.stdout.write(only === '--version' || only === '-V' ? `${VERSION}\n` : USAGE);
} else {
  const { main } = await import('./cli/main.js');
  main(argv, { usage: USAGE, version: VERSION }).then(
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
}
