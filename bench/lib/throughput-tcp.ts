// The TCP rows of bench/throughput.ts: the package's queue in each offload
// mode against a real kernel TCP end, in Gbit/s of TCP payload.
//   read:  kernel socket (bench/c/tcp_stream.c send) → TUN → the queue, answered
//          by lib/tcp-responder.ts; Gbit/s of in-order payload it took.
//   write: lib/tcp-sender.ts on the queue → TUN → kernel listener
//          (tcp_stream.c sink); Gbit/s the kernel socket received.
// Each run opens its own interface with the mode's offload (so no mask is left
// from another mode) and checks the stream ended whole: every byte sent arrived
// and the FIN came; a run that lost or stalled fails its row instead of counting.
import { execFileSync } from 'node:child_process';
import type { OffloadOption, TunBinding, TunDevice } from '../../src/binding/contract/types.js';
import { startHelper } from './proc.js';
import { respondTcp } from './tcp-responder.js';
import { sendTcp, type SendMode } from './tcp-sender.js';
import { fmt, markdownTable, median, ratio } from './stats.js';

const KERNEL_ADDR = '10.11.0.1'; // on the TUN: the kernel socket's side
const JS_ADDR = '10.11.0.2'; // routed into the TUN: the mini-TCP's side
const STALL_MS = 1000;

export interface TcpMode { name: string; offload: OffloadOption; send: SendMode }
export const TCP_MODES: TcpMode[] = [
  { name: 'offload off', offload: false, send: 'off' },
  { name: 'segmented', offload: true, send: 'segmented' },
  { name: 'pass-through', offload: 'raw', send: 'raw' },
];

export interface TcpRun {
  gbits: number;
  /** The JS process's CPU (user + system) per GB of payload moved. */
  cpuPerGB: number;
  /** Frames of more than one segment the queue read or wrote. */
  superframes: number;
  frames: number;
  /** Empty when the stream ended whole; else what went wrong. */
  failure: string;
  /** Segments the responder saw past a gap, and bytes the kernel sent again (read runs). */
  outOfOrder: number;
  retransmitted: number;
}

let runs = 0;
async function openFor(binding: TunBinding, mode: TcpMode): Promise<TunDevice> {
  const dev = await binding.open({ name: `btt${runs}`, offload: mode.offload, configure: { addresses: [`${KERNEL_ADDR}/24`], up: true } });
  if (mode.offload !== false && !dev.offload?.tso) throw new Error(`offload ${mode.name}: the kernel refused TSO (${dev.offload?.reason})`);
  return dev;
}

/** Closes the run's interface and waits until the kernel let go of its name and address. */
async function closeRun(dev: TunDevice): Promise<void> {
  dev.close();
  for (let i = 0; i < 200; i++) {
    const links = JSON.parse(execFileSync('ip', ['-j', 'link', 'show'], { encoding: 'utf8' })) as { ifname: string }[];
    if (!links.some((l) => l.ifname === dev.name)) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`${dev.name} still there 5 s after its close`);
}

const cpuSince = (cpu0: NodeJS.CpuUsage) => {
  const c = process.cpuUsage(cpu0);
  return (c.user + c.system) / 1e6;
};

export async function tcpReadOnce(binding: TunBinding, tcpStream: string, mode: TcpMode, seconds: number, idleMs: number, maxS: number): Promise<TcpRun> {
  const dev = await openFor(binding, mode);
  const queue = dev.queues[0]!;
  const port = 7000 + (runs++ % 1000);
  try {
    const cpu0 = process.cpuUsage();
    const taking = respondTcp(queue, { address: JS_ADDR, port, raw: mode.offload === 'raw', idleMs: Math.max(idleMs, STALL_MS), maxS });
    const sender = startHelper<{ bytes: number }>(tcpStream, ['send', JS_ADDR, String(port), String(seconds)], { timeoutMs: (maxS + 10) * 1000 }).result;
    const [got, sent] = await Promise.all([taking, sender]);
    const cpu = cpuSince(cpu0);
    const stats = queue.stats();
    const failure = !got.finished ? `no FIN: took ${got.delivered} of ${sent.bytes} B`
      : got.delivered !== sent.bytes ? `took ${got.delivered} of ${sent.bytes} B` : '';
    return {
      gbits: got.last > got.first ? (got.delivered * 8) / ((got.last - got.first) / 1000) / 1e9 : NaN,
      cpuPerGB: cpu / (got.delivered / 1e9), superframes: stats.rxSuperframes ?? 0, frames: stats.rxPackets,
      failure, outOfOrder: got.outOfOrder, retransmitted: got.duplicate,
    };
  } finally {
    await closeRun(dev);
  }
}

export async function tcpWriteOnce(binding: TunBinding, tcpStream: string, mode: TcpMode, seconds: number, idleMs: number, maxS: number): Promise<TcpRun> {
  const dev = await openFor(binding, mode);
  const queue = dev.queues[0]!;
  const port = 7000 + (runs++ % 1000);
  try {
    const sink = startHelper<{ bytes: number; seconds: number; eof: number }>(tcpStream, ['sink', KERNEL_ADDR, String(port), String(idleMs), String(maxS)]);
    await sink.ready;
    const cpu0 = process.cpuUsage();
    const sent = await sendTcp(queue, { mode: mode.send, local: JS_ADDR, localPort: 40000 + (runs % 20000), remote: KERNEL_ADDR, remotePort: port, seconds, stallMs: STALL_MS });
    const cpu = cpuSince(cpu0);
    const stats = queue.stats();
    const got = await sink.result;
    const failure = sent.stalled ? `stalled: ${sent.acked} B acknowledged, socket read ${got.bytes} B`
      : !got.eof || got.bytes !== sent.acked ? `socket read ${got.bytes} of ${sent.acked} B acknowledged${got.eof ? '' : ', no EOF'}` : '';
    return {
      gbits: got.seconds > 0 ? (got.bytes * 8) / got.seconds / 1e9 : NaN,
      cpuPerGB: cpu / (got.bytes / 1e9), superframes: mode.send === 'raw' ? sent.superframes : stats.txSuperframes ?? 0, frames: stats.txPackets,
      failure, outOfOrder: 0, retransmitted: 0,
    };
  } finally {
    await closeRun(dev);
  }
}

/** The TCP table: medians of the whole runs, ratios against offload off; failed runs named, not counted. */
export function tcpTable(reads: Map<string, TcpRun[]>, writes: Map<string, TcpRun[]>): string {
  const rows: string[][] = [];
  for (const [direction, m] of [['read', reads], ['write', writes]] as const) {
    const whole = (name: string) => (m.get(name) ?? []).filter((r) => !r.failure);
    const base = median(whole(TCP_MODES[0]!.name).map((r) => r.gbits));
    for (const mode of TCP_MODES) {
      const all = m.get(mode.name) ?? [];
      const ok = whole(mode.name);
      const gbits = median(ok.map((r) => r.gbits));
      const failed = all.filter((r) => r.failure);
      const extra = direction === 'read' ? `, ${fmt(median(all.map((r) => r.outOfOrder)), 0)} past a gap, ${fmt(median(all.map((r) => r.retransmitted)), 0)} B again` : '';
      rows.push([
        direction, mode.name, fmt(gbits),
        ok.length ? `${fmt(Math.min(...ok.map((r) => r.gbits)))}–${fmt(Math.max(...ok.map((r) => r.gbits)))}` : 'n/a',
        ratio(gbits, base), fmt(median(ok.map((r) => r.cpuPerGB))),
        fmt(median(all.map((r) => r.frames)), 0), fmt(median(all.map((r) => r.superframes)), 0),
        (failed.length ? `**${failed.length}/${all.length} runs FAILED** (${failed[0]!.failure})` : `${all.length}/${all.length} whole`) + extra,
      ]);
    }
  }
  return markdownTable(['direction', 'queue offload', 'Gbit/s', 'range', 'vs offload off', 'JS CPU s per GB', 'packets', 'superframes', 'stream check'], rows);
}
