// The receiving half of the bench's mini-TCP (bench/throughput.ts, TCP read
// rows): a kernel socket sends to an address routed into the TUN, and this
// answers it from the queue so the kernel keeps sending — SYN → SYN-ACK with
// window scaling and a 1 GiB window, then one cumulative ACK per batch read
// (so per superframe or better in pass-through mode). Segments past a gap (the
// TUN ring drops what the reader does not take in time) are held as ranges
// (tcp-ranges.ts) and reported in SACK blocks, so the kernel's own
// retransmission fills just the holes; both are counted, never hidden.
import type { PacketQueue } from '../../src/binding/contract/types.js';
import { clock } from './queue-drive.js';
import { ipv4 } from './packet.js';
import { StreamRanges } from './tcp-ranges.js';
import { buildTcp4, MSS, parseTcp4, sackOption, seqDiff, synOptions, TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN, type Endpoints, type Framing } from './tcp-segment.js';

/** Our window: 65535 << 14, a gigabyte, so the sender is bounded by its own cwnd and buffers only. */
const WINDOW_SCALE = 14;

export interface Received {
  /** In-order payload bytes taken. */
  delivered: number;
  /** When the first and the last payload byte arrived (absolute ms). */
  first: number;
  last: number;
  /** The sender's FIN came in order: every byte it sent was taken. */
  finished: boolean;
  /** Segments that came past a gap (a packet lost on the way, then retransmitted by the kernel). */
  outOfOrder: number;
  /** Payload bytes that came again (the kernel's retransmissions). */
  duplicate: number;
  acks: number;
}

export interface ResponderOptions {
  /** Our address and port: the destination the kernel sender connects to. */
  address: string;
  port: number;
  /** Pass-through framing: every frame read and written carries a virtio_net_hdr. */
  raw: boolean;
  /** Give up after this long without a packet once the connection began, or maxS in all. */
  idleMs: number;
  maxS: number;
}

/** Answers one connection to address:port on `queue` until its FIN (or silence); resolves with what it took. */
export function respondTcp(queue: PacketQueue, o: ResponderOptions): Promise<Received> {
  const got: Received = { delivered: 0, first: 0, last: 0, finished: false, outOfOrder: 0, duplicate: 0, acks: 0 };
  const framing: Framing = o.raw ? { kind: 'vnet' } : { kind: 'plain' };
  const offset = o.raw ? 10 : 0;
  const iss = 0x1000_0000;
  let peer: Endpoints | undefined; // the reply direction: us → the kernel sender
  let irs = 0; // the sender's initial sequence number: stream offset 0 is irs + 1
  let sack = false;
  let ranges = new StreamRanges();
  let finAt = -1; // stream offset of the FIN, once seen
  let lastPacket = 0;
  const seqAt = (offset: number) => (irs + 1 + offset) >>> 0;
  const rcvNxt = () => (seqAt(ranges.edge) + (got.finished ? 1 : 0)) >>> 0;
  const reply = (flags: number, seq: number, options?: Uint8Array) => {
    queue.write(buildTcp4(peer!, { seq, ack: rcvNxt(), flags, window: 0xffff, options }, undefined, framing));
    got.acks++;
  };
  queue.on('packets', (batch: Buffer[]) => {
    let answer = false;
    for (const frame of batch) {
      const s = parseTcp4(frame, offset);
      if (!s || s.dport !== o.port) continue;
      lastPacket = clock();
      if (s.flags & TCP_SYN) {
        // A new connection (or the SYN again, if our SYN-ACK was lost): answer it.
        peer = { src: ipv4(o.address), dst: [...frame.subarray(offset + 12, offset + 16)], sport: o.port, dport: s.sport };
        irs = s.seq;
        sack = s.syn?.sackPermitted ?? false;
        ranges = new StreamRanges();
        reply(TCP_SYN | TCP_ACK, iss, synOptions(MSS, WINDOW_SCALE, sack));
        continue;
      }
      if (!peer || s.sport !== peer.dport || s.flags & TCP_RST) continue;
      const from = ranges.edge + seqDiff(s.seq, seqAt(ranges.edge));
      const to = from + s.payloadLength;
      if (s.flags & TCP_FIN) finAt = to;
      if (s.payloadLength > 0) {
        answer = true;
        if (to <= ranges.edge) {
          got.duplicate += s.payloadLength;
          continue;
        }
        if (from > ranges.edge) got.outOfOrder++;
        const moved = ranges.take(from, to);
        if (moved > 0) {
          const t = clock();
          if (!got.delivered) got.first = t;
          got.last = t;
          got.delivered += moved;
        }
      }
      if (finAt >= 0 && ranges.edge === finAt && !got.finished) {
        got.finished = true;
        answer = true;
      }
    }
    // One cumulative ACK for the whole batch, with what came past a gap.
    if (answer) {
      const held = sack && !got.finished ? ranges.blocks(4) : [];
      reply(TCP_ACK, (iss + 1) >>> 0, held.length ? sackOption(held.map(([a, b]) => [seqAt(a), seqAt(b)] as const)) : undefined);
    }
  });
  queue.resume();
  const start = clock();
  return new Promise((resolve) => {
    const timer = setInterval(() => {
      const t = clock();
      if (got.finished || (lastPacket && t - lastPacket > o.idleMs) || t - start > o.maxS * 1000) {
        clearInterval(timer);
        resolve(got);
      }
    }, 20);
  });
}
