// The sending half of the bench's mini-TCP (bench/throughput.ts, TCP write
// rows): a handshake with a kernel listener reached through the TUN, then
// MSS-sized segments within the window the kernel advertises, its ACKs read
// back from the same queue to move on. Per mode, what the queue is given:
//   off        one segment per packet, writeBatch of all a window allows;
//   segmented  the same segments, which writeBatch coalesces into superframes;
//   raw        superframes built here: one TCPV4 virtio_net_hdr + up to 64 KiB.
// Nothing is retransmitted: a lost segment stalls the stream, which is reported
// (stalled, with what was acknowledged) instead of being papered over.
import type { PacketQueue } from '../../src/binding/contract/types.js';
import { clock } from './queue-drive.js';
import {
  buildTcp4, endpoints, MSS, parseTcp4, payloadOf, repeatPayload, seqDiff, synOptions,
  TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN, type Framing, type Payload,
} from './tcp-segment.js';

export type SendMode = 'off' | 'segmented' | 'raw';

/** Segments in one pass-through superframe: 44 × 1460 + 40 header bytes ≤ 65,535. */
const SUPER_SEGMENTS = Math.floor((65535 - 40) / MSS);
/** Frames handed to the queue before the loop gets a turn to read ACKs. */
const FRAMES_PER_TURN = 256;
const OUR_WINDOW_SCALE = 7;

export interface Sent {
  /** Payload bytes the kernel acknowledged. */
  acked: number;
  /** When the first segment went and the last data ACK came (absolute ms). */
  first: number;
  last: number;
  /** Our FIN was acknowledged: the kernel holds every byte. */
  finished: boolean;
  /** No ACK progress for stallMs with data outstanding (a lost segment: nothing here resends). */
  stalled: boolean;
  frames: number;
  /** Frames this built of more than one segment (pass-through mode; the queue counts only its own coalescing). */
  superframes: number;
  acksRead: number;
}

export interface SenderOptions {
  mode: SendMode;
  /** Our side (routed into the TUN) and the kernel listener's. */
  local: string;
  localPort: number;
  remote: string;
  remotePort: number;
  /** Send data for this long, then FIN once all is acknowledged. */
  seconds: number;
  stallMs: number;
}

/** Sends to remote:remotePort through `queue` for o.seconds; resolves once the FIN is acknowledged or the stream stalled. */
export function sendTcp(queue: PacketQueue, o: SenderOptions): Promise<Sent> {
  const out = endpoints(o.local, o.localPort, o.remote, o.remotePort);
  const framing: Framing = o.mode === 'raw' ? { kind: 'vnet' } : { kind: 'plain' };
  const gso: Framing = { kind: 'gso', mss: MSS };
  const offset = o.mode === 'raw' ? 10 : 0;
  const segment = payloadOf(Uint8Array.from({ length: MSS }, (_, i) => i & 0xff));
  /** A superframe's payload for each segment count, made once. */
  const supers = new Map<number, Payload>();
  const superOf = (n: number) => supers.get(n) ?? supers.set(n, repeatPayload(segment, n)).get(n)!;
  const iss = 0x2000_0000;
  const sent: Sent = { acked: 0, first: 0, last: 0, finished: false, stalled: false, frames: 0, superframes: 0, acksRead: 0 };
  let rcvNxt = 0; // the kernel's next sequence number, once its SYN-ACK came
  let established = false;
  let sndUna = (iss + 1) >>> 0;
  let sndNxt = sndUna;
  let window = 0; // bytes the kernel lets us have outstanding
  let peerScale = 0;
  let finSent = false;
  let end = 0;
  let lastProgress = 0;
  let scheduled = false;
  let done: (s: Sent) => void = () => {};

  const write = (frames: Buffer[]) => {
    sent.frames += frames.length;
    if (frames.length) queue.writeBatch!(frames);
  };
  const control = (flags: number, seq: number, options?: Uint8Array) =>
    write([buildTcp4(out, { seq, ack: rcvNxt, flags, window: 0xffff, options }, undefined, framing)]);

  /** Fills the window, FRAMES_PER_TURN frames at a time so ACKs get read in between. */
  const pump = () => {
    scheduled = false;
    if (!established || finSent) return;
    if (clock() >= end) {
      if (sndNxt === sndUna) {
        control(TCP_FIN | TCP_ACK, sndNxt);
        sndNxt = (sndNxt + 1) >>> 0;
        finSent = true;
      }
      return;
    }
    const frames: Buffer[] = [];
    while (frames.length < FRAMES_PER_TURN) {
      const room = window - seqDiff(sndNxt, sndUna);
      const count = o.mode === 'raw' ? Math.min(SUPER_SEGMENTS, Math.floor(room / MSS)) : room >= MSS ? 1 : 0;
      if (count === 0) break;
      const fields = { seq: sndNxt, ack: rcvNxt, flags: TCP_ACK, window: 0xffff };
      if (count > 1) sent.superframes++;
      frames.push(count > 1 ? buildTcp4(out, fields, superOf(count), gso) : buildTcp4(out, fields, segment, framing));
      sndNxt = (sndNxt + count * MSS) >>> 0;
    }
    if (!sent.first && frames.length) sent.first = clock();
    write(frames);
    if (frames.length === FRAMES_PER_TURN) again();
  };
  const again = () => {
    if (!scheduled) {
      scheduled = true;
      setImmediate(pump);
    }
  };

  queue.on('packets', (batch: Buffer[]) => {
    let moved = false;
    for (const frame of batch) {
      const s = parseTcp4(frame, offset);
      if (!s || s.dport !== o.localPort || s.sport !== o.remotePort) continue;
      if (s.flags & TCP_RST) {
        sent.stalled = true;
        return done(sent);
      }
      if (s.flags & TCP_SYN) {
        if (established || !(s.flags & TCP_ACK) || s.ack !== sndUna) continue;
        rcvNxt = (s.seq + 1) >>> 0;
        peerScale = s.syn?.windowScale ?? 0;
        window = s.window; // unscaled in a SYN (RFC 7323 2.2)
        established = true;
        end = clock() + o.seconds * 1000;
        lastProgress = clock();
        control(TCP_ACK, sndUna);
        moved = true;
        continue;
      }
      if (!established) continue;
      sent.acksRead++;
      if (s.flags & TCP_FIN) {
        rcvNxt = (s.seq + s.payloadLength + 1) >>> 0;
        control(TCP_ACK, sndNxt);
      }
      const advance = seqDiff(s.ack, sndUna);
      if (advance > 0 && seqDiff(s.ack, sndNxt) <= 0) {
        sndUna = s.ack;
        lastProgress = clock();
        if (finSent && sndUna === sndNxt) {
          sent.finished = true;
          sent.acked += advance - 1;
          return done(sent);
        }
        sent.acked += advance;
        sent.last = lastProgress;
      }
      window = s.window << peerScale;
      moved = true;
    }
    if (moved) pump();
  });
  queue.resume();

  const syn = () => control(TCP_SYN, iss, synOptions(MSS, OUR_WINDOW_SCALE));
  return new Promise((resolve) => {
    const started = clock();
    let synAt = started;
    const timer = setInterval(() => {
      const t = clock();
      if (!established) {
        // The SYN again each second until the listener answers.
        if (t - synAt > 1000) {
          synAt = t;
          syn();
        }
        if (t - started > o.stallMs + 3000) {
          sent.stalled = true;
          done(sent);
        }
      } else if (seqDiff(sndNxt, sndUna) > 0 && t - lastProgress > o.stallMs) {
        sent.stalled = true;
        done(sent);
      }
    }, 20);
    done = (s) => {
      clearInterval(timer);
      resolve(s);
    };
    syn();
  });
}
