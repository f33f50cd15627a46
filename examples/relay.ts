// The smallest VPN, without the crypto (`npm run example:relay`, as root): two
// network namespaces A and B, one adapter in each (the `netns` option), and
// every packet read from one written to the other. A pings B through it.
//
//   namespace A: tun 10.9.0.1/30 ──┐            ┌── namespace B: tun 10.9.0.2/30
//                                  └─ this process ─┘
//
// The namespaces are made with `ip netns add` under names of their own and
// deleted at the end; the host's interfaces are never touched.

import { execFile, execFileSync } from 'node:child_process';
import { TunAdapter } from 'tun-lifecycle';

const A = `relay-a-${process.pid}`;
const B = `relay-b-${process.pid}`;

function run(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => execFile(command, args, (err, stdout, stderr) => (err ? reject(new Error(`${command} ${args.join(' ')}: ${stderr || err.message}`)) : resolve(stdout))));
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) {
    console.error('relay: needs root (it makes two network namespaces and a TUN in each): sudo npm run example:relay');
    process.exit(1);
  }
  for (const ns of [A, B]) {
    execFileSync('ip', ['netns', 'add', ns]);
    execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  }
  const left = new TunAdapter('relay0', { netns: A, addresses: ['10.9.0.1/30'] });
  const right = new TunAdapter('relay1', { netns: B, addresses: ['10.9.0.2/30'] });
  try {
    await Promise.all([left.start(), right.start()]);
    console.log(`up: ${A}/relay0 10.9.0.1/30  <->  ${B}/relay1 10.9.0.2/30`);
    const crossed = { aToB: 0, bToA: 0, bytes: 0 };
    left.on('packet', (packet: Buffer) => { crossed.aToB += 1; crossed.bytes += packet.length; right.write(packet); });
    right.on('packet', (packet: Buffer) => { crossed.bToA += 1; crossed.bytes += packet.length; left.write(packet); });
    // A child process, so this event loop keeps relaying while ping waits.
    const ping = await run('ip', ['netns', 'exec', A, 'ping', '-c', '3', '-i', '0.2', '-W', '2', '10.9.0.2']);
    console.log(ping.trim().split('\n').slice(-2).join('\n'));
    console.log(`crossed: ${crossed.aToB} packets A→B, ${crossed.bToA} B→A, ${crossed.bytes} bytes`);
  } finally {
    await Promise.allSettled([left.cleanup(), right.cleanup()]);
    for (const ns of [A, B]) execFileSync('ip', ['netns', 'del', ns]);
    console.log('cleaned up: both adapters stopped, both namespaces deleted');
  }
}

await main();
