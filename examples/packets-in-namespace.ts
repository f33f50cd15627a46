// The README's main command (`npm run demo`): bring up a real TUN interface in
// a network namespace of its own, show packets crossing it both ways, tear
// it down, and show it is gone. Everything goes through the native binding
// (ioctl + rtnetlink from the addon); no `ip` commands.
//
// It needs root (or CAP_NET_ADMIN): it re-runs itself under `unshare -n`, so
// the host's interfaces are never touched and all traffic stays inside the
// private namespace, which vanishes when the demo exits.

import { spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createNativeBinding, TunSystemError } from 'tun-lifecycle';
import type { PacketQueue } from 'tun-lifecycle';

const IN_NAMESPACE = 'TUN_LIFECYCLE_DEMO_NETNS';
const TUN_V4 = '10.200.0.1';
const TUN_V6 = 'fd00:200::1';
const ROUTED_PREFIX = '10.201.0.0/16';
const PEER_V4 = '10.201.0.7';
const PEER_V6 = 'fd00:200::7';
const PEER_PORT = 9999;

function needsRoot(reason: string): never {
  console.error(`packets-in-namespace: ${reason}`);
  console.error('This demo creates a real TUN interface: run it as root (or with CAP_NET_ADMIN), e.g. `sudo npm run demo`.');
  console.error('It works inside a private network namespace it makes itself; the host network is not touched.');
  process.exit(1);
}

function enterPrivateNamespace(): void {
  if (process.env[IN_NAMESPACE] === '1') return;
  if (process.getuid?.() !== 0) needsRoot('not running as root.');
  if (!existsSync('/dev/net/tun')) needsRoot('/dev/net/tun is missing (load the tun module).');
  const script = fileURLToPath(import.meta.url);
  const child = spawnSync('unshare', ['-n', '--', process.execPath, ...process.execArgv, script, ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, [IN_NAMESPACE]: '1' },
  });
  if (child.error) needsRoot(`cannot make a private network namespace with unshare -n: ${child.error.message}`);
  process.exit(child.status ?? 1);
}

// ---- reading and writing raw IP packets (just enough for the demo) ----

const PROTOCOLS: Record<number, string> = { 1: 'ICMP', 6: 'TCP', 17: 'UDP', 58: 'ICMPv6' };

interface Summary {
  version: number;
  src: string;
  dst: string;
  protocol: number;
  length: number;
  /** ICMPv6 type, to recognise the kernel's own router solicitations. */
  icmpType?: number;
  udpPayload?: Buffer;
}

/** Dotted IPv4, or IPv6 as eight hex groups (uncompressed: enough for a log line). */
function formatAddress(bytes: Uint8Array): string {
  if (bytes.length === 4) return [...bytes].join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  return groups.join(':');
}

function parseIPv4(text: string): Buffer {
  return Buffer.from(text.split('.').map(Number));
}

function summarize(packet: Buffer): Summary {
  const version = packet[0]! >> 4;
  if (version === 4) {
    const headerLength = (packet[0]! & 0x0f) * 4;
    const protocol = packet[9]!;
    const udpPayload = protocol === 17 ? packet.subarray(headerLength + 8) : undefined;
    return { version, src: formatAddress(packet.subarray(12, 16)), dst: formatAddress(packet.subarray(16, 20)), protocol, length: packet.length, udpPayload };
  }
  const protocol = packet[6]!;
  return {
    version,
    src: formatAddress(packet.subarray(8, 24)),
    dst: formatAddress(packet.subarray(24, 40)),
    protocol,
    length: packet.length,
    icmpType: protocol === 58 ? packet[40] : undefined,
    udpPayload: protocol === 17 ? packet.subarray(48) : undefined,
  };
}

function describe(s: Summary): string {
  const payload = s.udpPayload ? ` payload "${s.udpPayload.toString()}"` : '';
  return `IPv${s.version} ${s.src} → ${s.dst} ${PROTOCOLS[s.protocol] ?? `proto ${s.protocol}`} ${s.length} bytes${payload}`;
}

/** Router solicitations (133) and MLD reports (143) the kernel sends on link-up: not ours. */
function isKernelChatter(s: Summary): boolean {
  return s.icmpType === 133 || s.icmpType === 143 || s.protocol === 2;
}

function checksum(bytes: Buffer): number {
  let sum = 0;
  for (let i = 0; i < bytes.length; i += 2) sum += (bytes[i]! << 8) | (bytes[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** An IPv4/UDP packet (UDP checksum 0: "not computed", which IPv4 allows). */
function ipv4Udp(src: string, dst: string, srcPort: number, dstPort: number, payload: Buffer): Buffer {
  const packet = Buffer.alloc(28 + payload.length);
  packet[0] = 0x45;
  packet.writeUInt16BE(packet.length, 2);
  packet[8] = 64;
  packet[9] = 17;
  parseIPv4(src).copy(packet, 12);
  parseIPv4(dst).copy(packet, 16);
  packet.writeUInt16BE(checksum(packet.subarray(0, 20)), 10);
  packet.writeUInt16BE(srcPort, 20);
  packet.writeUInt16BE(dstPort, 22);
  packet.writeUInt16BE(8 + payload.length, 24);
  payload.copy(packet, 28);
  return packet;
}

function collect(queue: PacketQueue, wanted: number, timeoutMs: number): Promise<{ ours: Summary[]; chatter: number }> {
  return new Promise((resolve) => {
    const ours: Summary[] = [];
    let chatter = 0;
    const finish = (): void => {
      clearTimeout(timer);
      queue.off('packets', onPackets);
      resolve({ ours, chatter });
    };
    const onPackets = (packets: Buffer[]): void => {
      for (const packet of packets) {
        const s = summarize(packet);
        if (isKernelChatter(s)) chatter++;
        else {
          ours.push(s);
          console.log(`  read from TUN: ${describe(s)}`);
        }
      }
      if (ours.length >= wanted) finish();
    };
    const timer = setTimeout(finish, timeoutMs);
    queue.on('packets', onPackets);
  });
}

async function main(): Promise<void> {
  enterPrivateNamespace();
  const binding = createNativeBinding();

  // A fresh namespace has only a down loopback.
  const lo = await binding.getLink('lo');
  await binding.setUp(lo.ifindex, true);

  const started = process.hrtime.bigint();
  const device = await binding.open({ name: 'tun%d' });
  await binding.setMtu(device.ifindex, 1400);
  await binding.addAddress(device.ifindex, `${TUN_V4}/24`);
  await binding.addAddress(device.ifindex, `${TUN_V6}/64`);
  await binding.setUp(device.ifindex, true); // routes need the link up (ENETDOWN otherwise)
  await binding.addRoute(device.ifindex, { destination: ROUTED_PREFIX });
  const bringUpUs = Number(process.hrtime.bigint() - started) / 1000;
  const link = await binding.getLink(device.ifindex);
  console.log(`${device.name} (ifindex ${device.ifindex}) up in ${bringUpUs.toFixed(0)} µs: mtu ${link.mtu}, ` +
    `operstate ${link.operstate}, carrier ${link.carrier}`);
  console.log(`  addresses: ${(await binding.listAddresses(device.ifindex)).map((a) => a.cidr).join(', ')}`);
  console.log(`  routes:    ${(await binding.listRoutes(device.ifindex)).map((r) => `${r.destination} metric ${r.metric}`).join(', ')}`);

  const queue = device.queues[0]!;
  queue.on('error', (err) => console.error(`queue error: ${err.message}`));

  // Kernel → TUN: datagrams to addresses routed into the interface come out of the queue.
  console.log(`\nsending 3 UDP datagrams to ${PEER_V4}:${PEER_PORT} and [${PEER_V6}]:${PEER_PORT} …`);
  const reading = collect(queue, 6, 2000);
  const udp4 = dgram.createSocket('udp4');
  const udp6 = dgram.createSocket('udp6');
  for (let i = 1; i <= 3; i++) {
    udp4.send(`hello v4 #${i}`, PEER_PORT, PEER_V4);
    udp6.send(`hello v6 #${i}`, PEER_PORT, PEER_V6);
  }
  const { ours, chatter } = await reading;
  console.log(`  ${ours.length} packets read (and ${chatter} of the kernel's own: router solicitation / MLD, skipped)`);

  // TUN → kernel: a packet written to the queue is delivered to a socket bound in the namespace.
  const receiver = dgram.createSocket('udp4');
  receiver.bind(0, TUN_V4);
  await once(receiver, 'listening');
  const port = receiver.address().port;
  const payload = Buffer.from('hello from the TUN side');
  console.log(`\nwriting a crafted IPv4/UDP packet 10.200.0.9:5555 → ${TUN_V4}:${port} into the TUN …`);
  const received = once(receiver, 'message') as Promise<[Buffer, dgram.RemoteInfo]>;
  queue.write(ipv4Udp('10.200.0.9', TUN_V4, 5555, port, payload));
  const [message, from] = await Promise.race([
    received,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error('the socket received nothing within 2 s')), 2000)),
  ]);
  console.log(`  socket received "${message.toString()}" from ${from.address}:${from.port}`);

  const stats = (await binding.getLink(device.ifindex)).stats;
  const q = queue.stats();
  console.log(`\nlink stats (kernel): rx ${stats.rxPackets} packets/${stats.rxBytes} bytes, tx ${stats.txPackets} packets/${stats.txBytes} bytes, ` +
    `dropped rx ${stats.rxDropped} tx ${stats.txDropped}`);
  console.log(`queue stats (binding): read ${q.rxPackets} packets/${q.rxBytes} bytes, wrote ${q.txPackets} packets/${q.txBytes} bytes`);

  udp4.close();
  udp6.close();
  receiver.close();
  const name = device.name;
  device.close();
  try {
    await binding.getLink(name);
    console.error(`\n${name} still exists after close`);
    process.exitCode = 1;
  } catch (err) {
    if (!(err instanceof TunSystemError) || err.code !== 'ENODEV') throw err;
    console.log(`\nclosed: ${name} is gone (getLink → ${err.code}); binding holds ${binding.openFdCount()} fd(s) (idle netlink sockets)`);
  }
}

main().catch((err: unknown) => {
  if (err instanceof TunSystemError && (err.code === 'EPERM' || err.code === 'EACCES')) needsRoot(err.message);
  console.error(err);
  process.exit(1);
});
