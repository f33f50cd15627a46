// A real tunnel, measured end to end: iperf3 from namespace A to a server in
// namespace B, every packet crossing a user-space relay between a TUN in A
// (10.9.0.1/30) and a TUN in B (10.9.0.2/30). The relays, each its own process:
//   - C relay: bench/c/tun_relay.c, poll() + one read()/write() per packet;
//   - this package, one queue: bench/lib/tunnel-relay.ts `package`
//     (binding.namespace(), batched reads, write per packet);
//   - this package, 2 queues in 2 worker_threads (`workers 2`: queue.handOff() / attachQueue());
//   - naive Node: fs.read/fs.write on the same kind of fds (tunnel-relay.ts `naive`).
// Tests: TCP one stream, TCP 4 streams, UDP 1400-byte datagrams (iperf3 -u -b 0,
// one datagram per sendmsg), and UDP 1400 B with USO: bench/c/udp_flood.c
// sending USO_SEGMENTS datagrams per send (UDP_SEGMENT) to bench/c/udp_sink.c
// in B (UDP_GRO), which iperf3 cannot do.
// Rounds are interleaved (every relay once per round); medians are reported,
// with the relay's CPU seconds (user + system, from /proc/PID/stat) per GB
// carried, and ratios against the C relay of the same run.
//   node dist/bench/tunnel.js [--seconds S] [--rounds R] [--relays RE] [--tests RE]   (full run: -s 10 -r 5)
// --relays / --tests keep only the rows whose name matches (short runs while developing).
import { execFile, execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { buildC } from './lib/cbuild.js';
import { machineDescription } from './lib/machine.js';
import { enterPrivateNetns, isMain } from './lib/netns.js';
import { distBenchDir } from './lib/paths.js';
import { startHelper, type Helper } from './lib/proc.js';
import { fmt, markdownTable, median, ratio } from './lib/stats.js';

const A_ADDR = '10.9.0.1';
const B_ADDR = '10.9.0.2';
const NAME_A = 'tna0';
const NAME_B = 'tnb0';

/** iperf3 runs with `args`; 'uso' is the UDP_SEGMENT flood (measureUso). */
interface Test { name: string; args: string[]; udp: boolean; uso?: true }
const TESTS: Test[] = [
  { name: 'TCP, 1 stream', args: [], udp: false },
  { name: 'TCP, 4 streams', args: ['-P', '4'], udp: false },
  { name: 'UDP 1400 B', args: ['-u', '-b', '0', '-l', '1400'], udp: true },
  { name: 'UDP 1400 B, USO', args: [], udp: true, uso: true },
];
/** Datagrams per send in the USO test: 40 × 1400 B = 56,000 B, under the 64-segment cap and 64 KiB. */
const USO_SEGMENTS = 40;
const USO_PAYLOAD = 1400;
const USO_PORT = 5201;

interface Relay { name: string; start(nsA: string, nsB: string): Helper<unknown> }

interface Sample { gbits: number; retransmits: number; lossPercent: number; cpuPerGB: number }

function option(flag: string, short: string, fallback: number): number {
  const args = process.argv;
  const at = args.findIndex((a) => a === flag || a === short);
  return at >= 0 && args[at + 1] ? Number(args[at + 1]) : fallback;
}

/** The items named by `flag`'s pattern; with keepFirst the baseline (item 0) stays whatever the pattern. */
function filter<T extends { name: string }>(list: T[], flag: string, keepFirst: boolean): T[] {
  const at = process.argv.indexOf(flag);
  if (at < 0 || !process.argv[at + 1]) return list;
  const re = new RegExp(process.argv[at + 1]!, 'i');
  return list.filter((item, i) => (keepFirst && i === 0) || re.test(item.name));
}

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => execFile(cmd, args, { maxBuffer: 64 << 20 }, (err, stdout, stderr) => (err ? reject(new Error(`${cmd} ${args.join(' ')}: ${stderr || err.message}`)) : resolve(stdout))));
}

/** utime + stime of a process and all its threads, in seconds. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function gone(ns: string, name: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const links = JSON.parse(execFileSync('ip', ['-n', ns, '-j', 'link', 'show'], { encoding: 'utf8' })) as { ifname: string }[];
    if (!links.some((l) => l.ifname === name)) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`${name} still in ${ns} 5 s after its relay ended`);
}

function configure(ns: string, name: string, address: string): void {
  execFileSync('ip', ['-n', ns, 'addr', 'add', `${address}/30`, 'dev', name]);
  execFileSync('ip', ['-n', ns, 'link', 'set', name, 'up']);
}

/** The USO test: the sink in B (UDP_GRO), then the UDP_SEGMENT flood from A for `seconds`; loss = payload sent but not received. */
async function measureUso(tools: CTools, nsA: string, nsB: string, relayPid: number, seconds: number): Promise<Sample> {
  const sink = startHelper<{ bytes: number; seconds: number }>('ip', ['netns', 'exec', nsB, tools.sink, B_ADDR, String(USO_PORT), '500', String(seconds + 10), 'gro'], { timeoutMs: (seconds + 20) * 1000 });
  await sink.ready;
  const cpu0 = cpuSeconds(relayPid);
  const sent = await startHelper<{ bytes: number }>('ip', ['netns', 'exec', nsA, tools.flood, B_ADDR, String(USO_PORT), String(USO_PAYLOAD), String(seconds), String(USO_SEGMENTS)], { timeoutMs: (seconds + 20) * 1000 }).result;
  const got = await sink.result;
  const cpu = cpuSeconds(relayPid) - cpu0;
  return {
    gbits: got.seconds > 0 ? (got.bytes * 8) / got.seconds / 1e9 : 0,
    retransmits: NaN,
    lossPercent: sent.bytes > 0 ? (100 * (sent.bytes - got.bytes)) / sent.bytes : NaN,
    cpuPerGB: cpu / (got.bytes / 1e9),
  };
}

interface CTools { flood: string; sink: string }

async function measure(test: Test, nsA: string, nsB: string, relayPid: number, seconds: number, tools: CTools): Promise<Sample> {
  if (test.uso) return measureUso(tools, nsA, nsB, relayPid, seconds);
  const server = spawn('ip', ['netns', 'exec', nsB, 'iperf3', '-s', '-1', '-B', B_ADDR], { stdio: 'ignore' });
  try {
    // The server listens within a few ms; retry the client until it connects.
    let json = '';
    for (let attempt = 0; ; attempt++) {
      await new Promise((r) => setTimeout(r, 100));
      const cpu0 = cpuSeconds(relayPid);
      try {
        json = await run('ip', ['netns', 'exec', nsA, 'iperf3', '-c', B_ADDR, '-t', String(seconds), '-J', ...test.args]);
      } catch (error) {
        if (attempt < 20 && /Connection refused|unable to connect/i.test(String(error))) continue;
        throw error;
      }
      const cpu = cpuSeconds(relayPid) - cpu0;
      const end = JSON.parse(json).end;
      if (test.udp) {
        const sum = end.sum;
        const received = sum.bytes * (1 - sum.lost_percent / 100);
        return { gbits: (sum.bits_per_second * (1 - sum.lost_percent / 100)) / 1e9, retransmits: NaN, lossPercent: sum.lost_percent, cpuPerGB: cpu / (received / 1e9) };
      }
      return {
        gbits: end.sum_received.bits_per_second / 1e9,
        retransmits: end.sum_sent.retransmits ?? NaN,
        lossPercent: NaN,
        cpuPerGB: cpu / (end.sum_received.bytes / 1e9),
      };
    }
  } finally {
    server.kill('SIGKILL');
  }
}

export async function main(): Promise<void> {
  const entry = enterPrivateNetns('tunnel');
  if (!entry.inside) process.exit(entry.exitCode);
  try {
    execFileSync('iperf3', ['--version'], { stdio: 'ignore' });
  } catch {
    execFileSync('sh', ['-c', 'apt-get update -qq && apt-get install -y -qq iperf3'], { stdio: 'ignore' });
  }
  const seconds = option('--seconds', '-s', 10);
  const rounds = option('--rounds', '-r', 5);
  const cRelay = buildC('tun_relay');
  const cTools: CTools = { flood: buildC('udp_flood'), sink: buildC('udp_sink') };
  const nodeRelay = path.join(distBenchDir, 'lib', 'tunnel-relay.js');
  const relays: Relay[] = filter([
    { name: 'C relay', start: (a, b) => startHelper(cRelay, ['relay', a, b, NAME_A, NAME_B], { timeoutMs: 600_000 }) },
    { name: 'tun-lifecycle, 1 queue', start: (a, b) => startHelper(process.execPath, [nodeRelay, 'package', a, b, NAME_A, NAME_B], { timeoutMs: 600_000, killsItself: true }) },
    { name: 'tun-lifecycle, 2 queues in 2 workers', start: (a, b) => startHelper(process.execPath, [nodeRelay, 'workers', '2', a, b, NAME_A, NAME_B], { timeoutMs: 600_000, killsItself: true }) },
    { name: 'C relay, vnet_hdr+TSO', start: (a, b) => startHelper(cRelay, ['relay-vnet', a, b, NAME_A, NAME_B], { timeoutMs: 600_000 }) },
    ...(['off', 'segmented', 'raw'] as const).map((mode) => ({
      name: `tun-lifecycle, offload ${mode === 'raw' ? 'pass-through' : mode}`,
      start: (a: string, b: string) => startHelper(process.execPath, [nodeRelay, 'offload', mode, a, b, NAME_A, NAME_B], { timeoutMs: 600_000, killsItself: true }),
    })),
    { name: 'naive Node (fs.read/fs.write)', start: (a, b) => startHelper(cRelay, ['exec', a, b, NAME_A, NAME_B, process.execPath, nodeRelay, 'naive'], { timeoutMs: 600_000, killsItself: true }) },
  ], '--relays', true);
  const tests = filter(TESTS, '--tests', false);
  const nsA = `tunnel-a-${process.pid}`;
  const nsB = `tunnel-b-${process.pid}`;
  const samples = new Map<string, Sample[]>();
  try {
    for (const ns of [nsA, nsB]) {
      execFileSync('ip', ['netns', 'add', ns]);
      execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    }
    const pathA = `/var/run/netns/${nsA}`;
    const pathB = `/var/run/netns/${nsB}`;
    for (let round = 0; round < rounds; round++) {
      for (const relay of relays) {
        const helper = relay.start(pathA, pathB);
        await helper.ready;
        if (helper.child.exitCode !== null || helper.child.signalCode !== null) await helper.result;  // says why
        try {
          configure(nsA, NAME_A, A_ADDR);
          configure(nsB, NAME_B, B_ADDR);
          for (const test of tests) {
            process.stderr.write(`tunnel: round ${round + 1}/${rounds}, ${relay.name}, ${test.name}\n`);
            const key = `${test.name}|${relay.name}`;
            samples.set(key, [...(samples.get(key) ?? []), await measure(test, nsA, nsB, helper.child.pid!, seconds, cTools)]);
          }
        } finally {
          helper.child.kill('SIGTERM');
          await helper.result.catch(() => undefined);
          // The kernel unregisters the devices after the fds close: the next relay needs the names.
          await gone(nsA, NAME_A);
          await gone(nsB, NAME_B);
        }
      }
    }
  } finally {
    for (const ns of [nsA, nsB]) execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
  }

  const med = (list: Sample[], pick: (s: Sample) => number) => median(list.map(pick));
  const rows: string[][] = [];
  for (const test of tests) {
    const base = med(samples.get(`${test.name}|${relays[0]!.name}`)!, (s) => s.gbits);
    for (const relay of relays) {
      const list = samples.get(`${test.name}|${relay.name}`)!;
      const gbits = med(list, (s) => s.gbits);
      rows.push([
        test.name, relay.name, fmt(gbits), ratio(gbits, base),
        test.udp ? `${fmt(med(list, (s) => s.lossPercent), 1)} % lost` : fmt(med(list, (s) => s.retransmits), 0),
        fmt(med(list, (s) => s.cpuPerGB)),
      ]);
    }
  }
  console.log([
    '### Tunnel: iperf3 from namespace A to B through a user-space TUN relay',
    '',
    `${machineDescription()}; ${rounds} interleaved round(s) of ${seconds} s per test; medians.`,
    ...(tests.some((t) => t.uso) ? ['', `"UDP 1400 B, USO" is not iperf3 (which sends one datagram per sendmsg, so never a USO superframe): bench/c/udp_flood.c sends ${USO_SEGMENTS} datagrams of ${USO_PAYLOAD} B per send with UDP_SEGMENT, as fast as the kernel takes them, to bench/c/udp_sink.c in B with UDP_GRO; Gbit/s is the payload the sink received between its first and last message, loss the share of the payload the kernel accepted from the flood that never arrived (mostly dropped at A's full TUN ring).`] : []),
    '',
    markdownTable(['test', 'relay', 'Gbit/s', 'vs C relay', 'retransmits / loss', 'relay CPU s per GB'], rows),
  ].join('\n'));
}

if (isMain(import.meta.url)) await main();
