// The README's main command, `npm run demo` (also `tun-lifecycle demo`):
// a TUN interface's whole life under the statechart, in a private network
// namespace it makes itself — bring-up, an echo responder answering ping and
// UDP from kernel sockets, the interface deleted from outside and recovered,
// cleanup, nothing left. Without root the same story runs on the simulated
// binding. `--inspect PORT` follows it in the offline inspector page.
//
// The story lives in the CLI (src/cli/demo/), so the installed package has it
// too; this example runs that CLI as a user would, found through the package's
// own public entry points (its package.json "bin").

import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const manifestUrl = import.meta.resolve('tun-lifecycle/package.json');
const manifest = JSON.parse(readFileSync(new URL(manifestUrl), 'utf8')) as { bin: Record<string, string> };
const cli = fileURLToPath(new URL(manifest.bin['tun-lifecycle']!, manifestUrl));
const child = spawn(process.execPath, [cli, 'demo', ...process.argv.slice(2)], { stdio: 'inherit' });
child.on('exit', (code, signal) => { process.exitCode = code ?? (signal ? 1 : 0); });
