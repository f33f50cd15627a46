// Packet throughput through a TUN, inside a private network namespace:
//  - read:  kernel UDP socket → TUN → reader (C flood process as the source)
//  - write: writer → TUN → kernel UDP socket (C recvmmsg sink counts what arrives)
// for the binding, naive Node (fs.read/fs.write on a TUN fd) and a plain C loop
// (the practical limit), measured in the same run, 64- and 1400-byte UDP payloads;
// and the binding with several flows over 2 queues of one interface, each queue
// read or written by its own worker_threads Worker (lib/throughput-worker.ts);
// and TCP rows in Gbit/s for the queue's offload modes (off, segmented,
// pass-through) against a real kernel TCP end (lib/throughput-tcp.ts).
// Prints markdown tables of medians; not a timed test.
// BENCH_REPS=N sets the rounds (default 5); BENCH_ROWS=udp or =tcp keeps only those rows.
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { TunBinding } from '../src/binding/contract/types.js';
import { loadBinding } from './lib/binding.js';
import { buildC } from './lib/cbuild.js';
import { machineDescription } from './lib/machine.js';
import { enterPrivateNetns, isMain } from './lib/netns.js';
import { buildUdp4 } from './lib/packet.js';
import { drainUntilIdle, writeFor, type Drained } from './lib/queue-drive.js';
import { distBenchDir } from './lib/paths.js';
import { startHelper } from './lib/proc.js';
import { fmt, fmtInt, markdownTable, median, ratio } from './lib/stats.js';
import { TCP_MODES, tcpReadOnce, tcpTable, tcpWriteOnce, type TcpRun } from './lib/throughput-tcp.js';

const IFNAME = 'bt0';
const TUN_ADDR = '10.9.0.1'; // ours, on the TUN: the write direction's destination
const PEER_ADDR = '10.9.0.2'; // "the other side": routed into the TUN
const FLOOD_PORT = 9;
const SINK_PORT = 5000;
const PAYLOADS = [64, 1400];
// BENCH_REPS overrides, for a quick look; the committed table uses the default.
const REPS = Number(process.env.BENCH_REPS) || 5;
const ROWS = new RegExp(process.env.BENCH_ROWS ?? '.', 'i');
const UDP_ROWS = ROWS.test('udp');
const TCP_ROWS = ROWS.test('tcp');
const FLOOD_S = 1.5;
const WRITE_S = 1.0;
const IDLE_MS = 300; // a reader is done after this long without a packet
const MAX_S = 20;

// The 2-worker rows: an interface of 2 queues made for each run (so the C loop
// and naive Node, which attach single-queue, keep bt0), FLOWS flows spread over
// its queues by the kernel's flow hash.
const MQ_QUEUES = 2;
const MQ_TUN_ADDR = '10.10.0.1';
const MQ_PEER_ADDR = '10.10.0.2';
const FLOWS = 4;
const WORKERS: Impl = `binding, ${MQ_QUEUES} workers`;

type Impl = 'binding' | 'C loop' | 'naive Node' | `binding, ${number} workers`;
const IMPLS: Impl[] = ['binding', WORKERS, 'C loop', 'naive Node'];

/** One reader's or writer's run: what it moved and over how long. */
interface Moved {
  packets: number;
  bytes: number;
  seconds: number;
  /** CPU time (user + system, all threads) the reader/writer process used. */
  cpuSeconds: number;
}
interface ReadSample extends Moved {
  sent: number;
  droppedInTun: number;
}
interface WriteSample extends Moved {
  delivered: number;
}

interface Tools {
  tunRw: string;
  flood: string;
  sink: string;
  tcpStream: string;
  naive: string;
  binding: TunBinding | null;
  bindingReason: string;
}

function setUpTun(): void {
  // Persistent, so each reader/writer can attach in turn by name.
  execFileSync('ip', ['tuntap', 'add', 'dev', IFNAME, 'mode', 'tun']);
  configureTun(IFNAME, TUN_ADDR);
}

function configureTun(ifname: string, address: string): void {
  execFileSync('ip', ['addr', 'add', `${address}/24`, 'dev', ifname]);
  // No IPv6: link-up would otherwise send router solicitations into the TUN.
  writeFileSync(`/proc/sys/net/ipv6/conf/${ifname}/disable_ipv6`, '1');
  execFileSync('ip', ['link', 'set', ifname, 'up']);
}

function tunTxCounters(ifname = IFNAME): { packets: number; dropped: number } {
  const [link] = JSON.parse(execFileSync('ip', ['-s', '-j', 'link', 'show', ifname], { encoding: 'utf8' }));
  return { packets: link.stats64.tx.packets, dropped: link.stats64.tx.dropped };
}

/** The binding as a reader: attach, count every batch, stop after IDLE_MS of silence. */
async function bindingReader(binding: TunBinding): Promise<{ result: Promise<Moved> }> {
  const dev = await binding.open({ name: IFNAME, attachExisting: true });
  // The whole bench process: its own timers and helper bookkeeping are in it too (a slight overcount).
  const cpu0 = process.cpuUsage();
  const result = drainUntilIdle(dev.queues[0]!, IDLE_MS, MAX_S).then(({ packets, bytes, first, last }) => {
    dev.close();
    const cpu = process.cpuUsage(cpu0);
    return { packets, bytes, seconds: packets ? (last - first) / 1000 : 0, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
  });
  return { result };
}

/** The binding as a writer: write the same packet for WRITE_S, honouring backpressure. */
async function bindingWrite(binding: TunBinding, payload: number): Promise<Moved> {
  const dev = await binding.open({ name: IFNAME, attachExisting: true });
  const queue = dev.queues[0]!;
  const pkt = buildUdp4(PEER_ADDR, TUN_ADDR, 40000, SINK_PORT, payload);
  const cpu0 = process.cpuUsage();
  const { first, last } = await writeFor(queue, pkt, WRITE_S);
  const cpu = process.cpuUsage(cpu0);
  const { txPackets, txBytes } = queue.stats();
  dev.close();
  return { packets: txPackets, bytes: txBytes, seconds: (last - first) / 1000, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
}

let mqRuns = 0;
/** An interface of MQ_QUEUES queues, configured like bt0, its queues handed to one worker each. */
async function multiQueueWorkers(binding: TunBinding, job: (index: number) => object) {
  const ifname = `btw${mqRuns++}`;
  const dev = await binding.open({ name: ifname, queues: MQ_QUEUES });
  configureTun(ifname, MQ_TUN_ADDR);
  const script = new URL('./lib/throughput-worker.js', import.meta.url);
  const workers = dev.queues.map((queue, i) => new Worker(script, {
    workerData: { ...job(i), handle: (queue as unknown as { handOff(): unknown }).handOff() },
  }));
  await Promise.all(workers.map((w) => once(w, 'message')));
  const results = workers.map((w) => once(w, 'message').then(([m]) => m as Drained));
  /** Sums the workers' counts over the span from the first one's start to the last one's end. */
  const finish = async (cpu0: NodeJS.CpuUsage): Promise<Moved & { perQueue: number[] }> => {
    const all = await Promise.all(results);
    const cpu = process.cpuUsage(cpu0);
    await Promise.all(workers.map((w) => w.terminate()));
    dev.close();
    const moving = all.filter((r) => r.packets > 0);
    const seconds = moving.length ? (Math.max(...moving.map((r) => r.last)) - Math.min(...moving.map((r) => r.first))) / 1000 : 0;
    return {
      packets: all.reduce((n, r) => n + r.packets, 0), bytes: all.reduce((n, r) => n + r.bytes, 0),
      seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, perQueue: all.map((r) => r.packets),
    };
  };
  return { ifname, workers, finish };
}

/** FLOWS floods (one socket, so one source port, each) into the 2-queue interface; the workers drain its queues. */
async function workersRead(tools: Tools, payload: number): Promise<ReadSample> {
  const { ifname, finish } = await multiQueueWorkers(tools.binding!, () => ({ role: 'read', idleMs: IDLE_MS, maxS: MAX_S }));
  const cpu0 = process.cpuUsage();
  const before = tunTxCounters(ifname);
  const floods = await Promise.all(Array.from({ length: FLOWS }, (_, i) =>
    startHelper<{ packets: number }>(tools.flood, [MQ_PEER_ADDR, String(FLOOD_PORT + i), String(payload), String(FLOOD_S)]).result));
  const after = tunTxCounters(ifname);
  const moved = await finish(cpu0);
  mqSplits.push(moved.perQueue);
  return { ...moved, sent: floods.reduce((n, f) => n + f.packets, 0), droppedInTun: after.dropped - before.dropped };
}

/** Each worker writes its own flows' packet into its queue for WRITE_S; the sink counts what the kernel delivered. */
async function workersWrite(tools: Tools, payload: number): Promise<WriteSample> {
  const { workers, finish } = await multiQueueWorkers(tools.binding!, (i) => ({
    role: 'write', seconds: WRITE_S, src: MQ_PEER_ADDR, dst: MQ_TUN_ADDR, srcPort: 40000 + i, dstPort: SINK_PORT, payload,
  }));
  // After the interface: the sink binds to its address.
  const sink = startHelper<Moved>(tools.sink, [MQ_TUN_ADDR, String(SINK_PORT), String(IDLE_MS), String(MAX_S)]);
  await sink.ready;
  const cpu0 = process.cpuUsage();
  for (const w of workers) w.postMessage('go');
  const moved = await finish(cpu0);
  return { ...moved, delivered: (await sink.result).packets };
}
/** Packets each queue carried, per read run: how evenly the flow hash spread the flows. */
const mqSplits: number[][] = [];

async function readOnce(tools: Tools, impl: Impl, payload: number): Promise<ReadSample | null> {
  if (impl === WORKERS) return tools.binding ? workersRead(tools, payload) : null;
  let reader: Promise<Moved>;
  if (impl === 'binding') {
    if (!tools.binding) return null;
    reader = (await bindingReader(tools.binding)).result;
  } else {
    const args =
      impl === 'C loop'
        ? ['read', IFNAME, String(IDLE_MS), String(MAX_S)]
        : ['exec', IFNAME, process.execPath, tools.naive, 'read', String(IDLE_MS), String(MAX_S)];
    const h = startHelper<Moved>(tools.tunRw, args, { killsItself: impl === 'naive Node' });
    await h.ready;
    reader = h.result;
  }
  const before = tunTxCounters();
  const flood = await startHelper<{ packets: number }>(tools.flood, [PEER_ADDR, String(FLOOD_PORT), String(payload), String(FLOOD_S)]).result;
  const moved = await reader;
  const after = tunTxCounters();
  return { ...moved, sent: flood.packets, droppedInTun: after.dropped - before.dropped };
}

async function writeOnce(tools: Tools, impl: Impl, payload: number): Promise<WriteSample | null> {
  if ((impl === 'binding' || impl === WORKERS) && !tools.binding) return null;
  if (impl === WORKERS) return workersWrite(tools, payload);
  const sink = startHelper<Moved>(tools.sink, [TUN_ADDR, String(SINK_PORT), String(IDLE_MS), String(MAX_S)]);
  await sink.ready;
  let moved: Moved;
  if (impl === 'binding') moved = await bindingWrite(tools.binding!, payload);
  else {
    const common = [String(payload), String(WRITE_S), PEER_ADDR, TUN_ADDR, String(SINK_PORT)];
    const args =
      impl === 'C loop'
        ? ['write', IFNAME, ...common]
        : ['exec', IFNAME, process.execPath, tools.naive, 'write', String(WRITE_S), String(payload), PEER_ADDR, TUN_ADDR, String(SINK_PORT)];
    moved = await startHelper<Moved>(tools.tunRw, args).result;
  }
  const delivered = (await sink.result).packets;
  return { ...moved, delivered };
}

const pps = (m: Moved) => (m.seconds > 0 ? m.packets / m.seconds : NaN);
/** CPU microseconds the reader/writer spent per packet. */
const cpuPerPacket = (m: Moved) => (m.packets > 0 ? (m.cpuSeconds * 1e6) / m.packets : NaN);
const gbps = (m: Moved) => (m.seconds > 0 ? (m.bytes * 8) / m.seconds / 1e9 : NaN);
const med = <T>(xs: T[], f: (x: T) => number) => median(xs.map(f));
/** "min–max" of the runs' packets/s, so the spread on a shared machine is visible. */
const spread = (xs: Moved[] | undefined) => {
  if (!xs?.length) return 'n/a';
  const r = xs.map(pps);
  return `${fmtInt(Math.min(...r))}–${fmtInt(Math.max(...r))}`;
};

function verdict(ok: boolean | null): string {
  return ok === null ? 'n/a' : ok ? 'met' : 'MISSED';
}

export async function runThroughputBench(): Promise<string> {
  const tools: Tools = {
    tunRw: buildC('tun_rw'),
    flood: buildC('udp_flood'),
    sink: buildC('udp_sink'),
    tcpStream: buildC('tcp_stream'),
    naive: path.join(distBenchDir, 'lib', 'naive-tun.js'),
    binding: null,
    bindingReason: '',
  };
  const load = await loadBinding();
  if (load.binding) tools.binding = load.binding;
  else tools.bindingReason = load.reason;
  setUpTun();

  const reads = new Map<string, ReadSample[]>();
  const writes = new Map<string, WriteSample[]>();
  const tcpReads = new Map<string, TcpRun[]>();
  const tcpWrites = new Map<string, TcpRun[]>();
  const key = (impl: Impl, payload: number) => `${impl}/${payload}`;
  // Implementations interleaved within each repetition, so drift in the
  // shared machine's load spreads over all of them rather than one.
  for (let rep = 0; rep < REPS; rep++) {
    for (const mode of TCP_ROWS && tools.binding ? TCP_MODES : []) {
      process.stderr.write(`throughput: rep ${rep + 1}/${REPS}, TCP, ${mode.name}\n`);
      tcpReads.set(mode.name, [...(tcpReads.get(mode.name) ?? []), await tcpReadOnce(tools.binding!, tools.tcpStream, mode, FLOOD_S, IDLE_MS, MAX_S)]);
      tcpWrites.set(mode.name, [...(tcpWrites.get(mode.name) ?? []), await tcpWriteOnce(tools.binding!, tools.tcpStream, mode, WRITE_S, IDLE_MS, MAX_S)]);
    }
    for (const payload of UDP_ROWS ? PAYLOADS : []) {
      for (const impl of IMPLS) {
        process.stderr.write(`throughput: rep ${rep + 1}/${REPS}, ${payload} B, ${impl}\n`);
        const r = await readOnce(tools, impl, payload);
        if (r) reads.set(key(impl, payload), [...(reads.get(key(impl, payload)) ?? []), r]);
        const w = await writeOnce(tools, impl, payload);
        if (w) writes.set(key(impl, payload), [...(writes.get(key(impl, payload)) ?? []), w]);
      }
    }
  }

  const readRows: string[][] = [];
  const writeRows: string[][] = [];
  const targets: string[][] = [];
  for (const payload of UDP_ROWS ? PAYLOADS : []) {
    const rate = (m: Map<string, Moved[]>, impl: Impl) => {
      const xs = m.get(key(impl, payload));
      return xs ? med(xs, pps) : NaN;
    };
    for (const impl of IMPLS) {
      const r = reads.get(key(impl, payload));
      const w = writes.get(key(impl, payload));
      const rp = r ? med(r, pps) : NaN;
      const wp = w ? med(w, pps) : NaN;
      const rc = r ? med(r, cpuPerPacket) : NaN;
      const wc = w ? med(w, cpuPerPacket) : NaN;
      const cpuOf = (m: Map<string, Moved[]>, i: Impl) => {
        const xs = m.get(key(i, payload));
        return xs ? med(xs, cpuPerPacket) : NaN;
      };
      readRows.push([
        `${payload} B`, impl, fmtInt(rp), spread(r), fmt(r ? med(r, gbps) : NaN),
        ratio(rp, rate(reads, 'C loop')), ratio(rp, rate(reads, 'naive Node')),
        fmt(rc), ratio(rc, cpuOf(reads, 'C loop')),
        r ? fmtInt(med(r, (s) => s.sent)) : 'n/a', r ? fmtInt(med(r, (s) => s.packets)) : 'n/a',
        r ? fmtInt(med(r, (s) => s.droppedInTun)) : 'n/a',
      ]);
      writeRows.push([
        `${payload} B`, impl, fmtInt(wp), spread(w), fmt(w ? med(w, gbps) : NaN),
        ratio(wp, rate(writes, 'C loop')), ratio(wp, rate(writes, 'naive Node')),
        fmt(wc), ratio(wc, cpuOf(writes, 'C loop')),
        w ? fmtInt(med(w, (s) => s.packets)) : 'n/a', w ? fmtInt(med(w, (s) => s.delivered)) : 'n/a',
      ]);
    }
    for (const [dir, m] of [['read', reads], ['write', writes]] as const) {
      const b = rate(m, 'binding');
      const c = rate(m, 'C loop');
      const n = rate(m, 'naive Node');
      const cpu = (i: Impl) => {
        const xs = m.get(key(i, payload));
        return xs ? med(xs, cpuPerPacket) : NaN;
      };
      const have = Number.isFinite(b);
      targets.push([
        `${dir}, ${payload} B`, ratio(b, c), verdict(have ? b >= 0.5 * c : null), ratio(b, n), verdict(have ? b >= 5 * n : null),
        ratio(cpu('C loop'), cpu('binding')), ratio(cpu('naive Node'), cpu('binding')),
      ]);
    }
  }

  const udpLines = [
    '### Throughput (packets through one TUN queue)',
    '',
    `Machine: ${machineDescription()}. Medians of ${REPS} runs, implementations interleaved; "range" is the slowest and fastest run. Payload = UDP payload; Gbit/s counts whole IP packets (payload + 28 B). "CPU µs/packet" is the reader's or writer's own CPU time (user + system, all its threads, from getrusage / process.cpuUsage) per packet moved: unlike packets/s, it barely moves when other work shares the machine.`,
    '',
    `**Read** (kernel UDP socket → TUN → reader). A C sendmmsg flood sends for ${FLOOD_S} s; the rate is what the reader drained per second between its first and last packet. The TUN ring holds ~500 packets and drops the rest (counted in the link's tx_dropped).`,
    '',
    markdownTable(['payload', 'reader', 'packets/s', 'range', 'Gbit/s', 'vs C loop', 'vs naive Node', 'CPU µs/packet', 'CPU vs C', 'sent by flood', 'received', 'dropped at TUN'], readRows),
    '',
    `**Write** (writer → TUN → kernel UDP socket). Each writer writes the same IPv4/UDP packet for ${WRITE_S} s; a C recvmmsg sink counts what the kernel delivered.`,
    '',
    markdownTable(['payload', 'writer', 'packets/s', 'range', 'Gbit/s', 'vs C loop', 'vs naive Node', 'CPU µs/packet', 'CPU vs C', 'written', 'delivered to socket'], writeRows),
    '',
    '**Targets**: binding ≥ 0.5× the C loop and ≥ 5× naive Node, in packets/s. The last two columns put the same comparison in CPU per packet (higher = the binding does the work with less CPU).',
    '',
    markdownTable(['case', 'binding / C loop', '≥ 0.5×', 'binding / naive Node', '≥ 5×', 'CPU efficiency vs C', 'CPU efficiency vs naive'], targets),
    '',
    `**${WORKERS}**: one interface of ${MQ_QUEUES} queues, queue i handed to worker_threads Worker i (queue.handOff() / attachQueue()), this thread only opening it. Reads: ${FLOWS} floods (${FLOWS} flows, one source port each) spread over the queues by the kernel's flow hash; packets per queue in the read runs: ${mqSplits.map((s) => s.join('/')).join(', ') || 'n/a'}. Writes: each worker writes its own flow. CPU µs/packet counts the whole process (every thread); on this 2-core machine the floods and the sink share the cores with the workers.`,
  ];
  const tcpLines = [
    '',
    `**TCP through the queue, by offload mode** (Gbit/s of TCP payload; a fresh interface per run, opened with the mode). Read: a kernel TCP socket (bench/c/tcp_stream.c) writes for ${FLOOD_S} s to an address routed into the TUN; the bench's mini-TCP (bench/lib/tcp-responder.ts) answers from the queue — SYN-ACK with a 1 GiB scaled window, then one cumulative ACK per batch read — and the rate is the in-order payload it took between its first and last byte. Write: the mini-TCP sender (bench/lib/tcp-sender.ts) sends MSS-sized (1460 B) segments for ${WRITE_S} s within the window the kernel listener advertises, reading its ACKs from the queue to move on: offload off writes each segment as a packet, segmented hands the same segments to writeBatch (coalesced natively), pass-through builds its own superframes (one TCPV4 virtio_net_hdr + up to 44 segments); the rate is what the kernel socket read between its first and last byte. Every run must end whole (the FIN came, every byte sent arrived); a run that stalled or lost bytes is named in "stream check" and left out of the figures. Nothing is retransmitted by the mini-TCP; in the read rows the kernel retransmits what the responder dropped past a gap. "JS CPU" is this whole process (the queue, the mini-TCP and the bench's bookkeeping) per GB of payload; "packets" is the queue's rxPackets (read, after the split) or txPackets (write, frames written to the fd); "superframes" the frames of more than one segment.`,
    '',
    tcpTable(tcpReads, tcpWrites),
  ];
  const lines = [...(UDP_ROWS ? udpLines : ['### Throughput (packets through one TUN queue)', '', `Machine: ${machineDescription()}. Medians of ${REPS} runs.`]), ...(TCP_ROWS ? tcpLines : [])];
  if (!tools.binding) lines.push('', `Binding rows are n/a: ${tools.bindingReason}.`);
  return lines.join('\n');
}

if (isMain(import.meta.url)) {
  const entry = enterPrivateNetns('throughput bench');
  if (!entry.inside) process.exit(entry.exitCode);
  console.log(await runThroughputBench());
  process.exit(0);
}
