// The README's main command, `npm run demo` (also `tun-lifecycle demo`):
// a TUN interface's whole life under the statechart, in a private network
// namespace it makes itself — bring-up, an echo responder answering ping and
// UDP from kernel sockets, the interface deleted from outside and recovered,
// cleanup, nothing left. Without root the same story runs on the simulated
// binding. `--inspect PORT` follows it in the offline inspector page.
//
// The story lives in src/cli/demo/ (so the installed CLI has it too).

import { parseArgs } from 'node:util';
import { runDemo } from '../src/cli/demo/run.js';

const { values } = parseArgs({ options: { inspect: { type: 'string' } }, strict: true });
const inspectPort = values.inspect === undefined ? undefined : Number(values.inspect);
if (inspectPort !== undefined && !(Number.isInteger(inspectPort) && inspectPort >= 0 && inspectPort <= 65535)) {
  console.error(`demo: --inspect needs a port number, got '${values.inspect}'`);
  process.exit(2);
}
process.exitCode = await runDemo({ inspectPort });
