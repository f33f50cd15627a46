// IPv4/TCP segments for the bench's mini-TCP (tcp-responder.ts, tcp-sender.ts),
// built from RFC 791/9293 and the virtio spec's struct virtio_net_hdr: what one
// segment or superframe looks like on a TUN queue in each framing, and the
// few fields a reader needs back. The payload's checksum sum is passed in,
// computed once per payload, so building a segment sums 40 header bytes and
// never the data (the bench measures the queue, not a JS checksum loop).
import { fold, ipv4, onesSum, sealIpv4Header } from './packet.js';

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_ACK = 0x10;
/** The segment size both bench ends use: a 1500-byte IPv4 path's TCP payload. */
export const MSS = 1460;

const VNET_HDR_LEN = 10;
const VNET_F_NEEDS_CSUM = 1;
const GSO_TCPV4 = 1;
const IP_HLEN = 20;
const TCP_HLEN = 20;
const PROTO_TCP = 6;

/**
 * How a frame sits on the queue:
 *  - plain: an IP packet, full checksums (offload off, segmented mode);
 *  - vnet: the same behind an all-zero virtio_net_hdr (pass-through mode, one segment);
 *  - gso: a superframe behind a TCPV4 virtio_net_hdr cutting it into `mss` segments,
 *    its TCP checksum field holding the pseudo-header sum the kernel completes.
 */
export type Framing = { kind: 'plain' } | { kind: 'vnet' } | { kind: 'gso'; mss: number };

/** A payload and its folded one's-complement sum (payloadOf). */
export interface Payload {
  bytes: Uint8Array;
  sum: number;
}

export function payloadOf(bytes: Uint8Array): Payload {
  return { bytes, sum: onesSum(bytes) };
}

/** `count` copies of an even-length payload back to back: its sum is count times the copy's, folded. */
export function repeatPayload(one: Payload, count: number): Payload {
  if (one.bytes.length & 1) throw new RangeError('repeatPayload needs an even-length payload');
  const bytes = new Uint8Array(one.bytes.length * count);
  for (let i = 0; i < count; i++) bytes.set(one.bytes, i * one.bytes.length);
  return { bytes, sum: fold(one.sum * count) };
}

export interface Endpoints {
  src: number[];
  dst: number[];
  sport: number;
  dport: number;
}

export function endpoints(src: string, sport: number, dst: string, dport: number): Endpoints {
  return { src: ipv4(src), dst: ipv4(dst), sport, dport };
}

export interface TcpFields {
  seq: number;
  ack: number;
  flags: number;
  /** The window field as sent (already shifted by the sender's scale). */
  window: number;
  /** Options, a multiple of 4 bytes. */
  options?: Uint8Array;
}

const NO_PAYLOAD: Payload = { bytes: new Uint8Array(0), sum: 0 };
const NO_OPTIONS = new Uint8Array(0);

/** One frame in `framing`: [virtio_net_hdr] IPv4 header, TCP header (+options), payload. */
export function buildTcp4(ends: Endpoints, f: TcpFields, payload: Payload = NO_PAYLOAD, framing: Framing = { kind: 'plain' }): Buffer {
  const options = f.options ?? NO_OPTIONS;
  const tcpLen = TCP_HLEN + options.length;
  const l4Len = tcpLen + payload.bytes.length;
  const pre = framing.kind === 'plain' ? 0 : VNET_HDR_LEN;
  const frame = Buffer.allocUnsafe(pre + IP_HLEN + l4Len);
  if (pre) {
    frame.fill(0, 0, VNET_HDR_LEN);
    if (framing.kind === 'gso') {
      // virtio_net_hdr, little-endian: flags, gso_type, hdr_len, gso_size, csum_start, csum_offset.
      frame[0] = VNET_F_NEEDS_CSUM;
      frame[1] = GSO_TCPV4;
      frame.writeUInt16LE(IP_HLEN + tcpLen, 2);
      frame.writeUInt16LE(framing.mss, 4);
      frame.writeUInt16LE(IP_HLEN, 6);
      frame.writeUInt16LE(16, 8);
    }
  }
  const ip = frame.subarray(pre);
  ip.fill(0, 0, IP_HLEN + TCP_HLEN);
  ip[0] = 0x45;
  ip.writeUInt16BE(IP_HLEN + l4Len, 2);
  ip[6] = 0x40; // DF
  ip[8] = 64;
  ip[9] = PROTO_TCP;
  ip.set(ends.src, 12);
  ip.set(ends.dst, 16);
  sealIpv4Header(ip);
  const th = ip.subarray(IP_HLEN);
  th.writeUInt16BE(ends.sport, 0);
  th.writeUInt16BE(ends.dport, 2);
  th.writeUInt32BE(f.seq >>> 0, 4);
  th.writeUInt32BE(f.ack >>> 0, 8);
  th[12] = (tcpLen / 4) << 4;
  th[13] = f.flags;
  th.writeUInt16BE(f.window, 14);
  th.set(options, TCP_HLEN);
  th.set(payload.bytes, tcpLen);
  // Pseudo-header: source, destination, protocol, TCP length (RFC 9293 3.1).
  const pseudo = fold(onesSum(ip.subarray(12, 20)) + PROTO_TCP + l4Len);
  if (framing.kind === 'gso') th.writeUInt16BE(pseudo, 16);
  else th.writeUInt16BE(~fold(onesSum(th.subarray(0, tcpLen), pseudo) + payload.sum) & 0xffff, 16);
  return frame;
}

/** The fields of an IPv4/TCP frame the mini-TCP reads back. */
export interface TcpView {
  sport: number;
  dport: number;
  seq: number;
  ack: number;
  flags: number;
  window: number;
  /** Payload bytes carried (a superframe's whole payload). */
  payloadLength: number;
  /** A SYN's options: the window scale shift, when present, and SACK permitted. */
  syn: SynOptions | undefined;
}

export interface SynOptions {
  windowScale: number | undefined;
  sackPermitted: boolean;
}

/** Reads an IPv4/TCP frame starting `offset` bytes in (10 past a virtio_net_hdr); undefined for anything else. */
export function parseTcp4(frame: Uint8Array, offset: number): TcpView | undefined {
  if (frame.length < offset + IP_HLEN + TCP_HLEN || frame[offset]! >> 4 !== 4 || frame[offset + 9] !== PROTO_TCP) return undefined;
  const ihl = (frame[offset]! & 0x0f) * 4;
  const t = offset + ihl;
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const doff = (frame[t + 12]! >> 4) * 4;
  const flags = frame[t + 13]!;
  return {
    sport: view.getUint16(t),
    dport: view.getUint16(t + 2),
    seq: view.getUint32(t + 4),
    ack: view.getUint32(t + 8),
    flags,
    window: view.getUint16(t + 14),
    // The frame's own length, not the IP total length: a superframe's may say either.
    payloadLength: frame.length - t - doff,
    syn: flags & TCP_SYN ? synOptionsIn(frame.subarray(t + TCP_HLEN, t + doff)) : undefined,
  };
}

/** Window scale (kind 3) and SACK permitted (kind 4) among a SYN's options. */
function synOptionsIn(options: Uint8Array): SynOptions {
  const found: SynOptions = { windowScale: undefined, sackPermitted: false };
  for (let i = 0; i < options.length; ) {
    const kind = options[i]!;
    if (kind === 0) break;
    if (kind === 1) { i++; continue; }
    if (kind === 3 && i + 2 < options.length) found.windowScale = options[i + 2]!;
    if (kind === 4) found.sackPermitted = true;
    i += Math.max(2, options[i + 1] ?? 2);
  }
  return found;
}

/** SYN options: MSS, NOP + window scale (RFC 7323), and NOP NOP + SACK permitted (RFC 2018) when asked; no timestamps. */
export function synOptions(mss: number, windowScale: number, sackPermitted = false): Uint8Array {
  const base = [2, 4, mss >> 8, mss & 0xff, 1, 3, 3, windowScale];
  return Uint8Array.from(sackPermitted ? [...base, 1, 1, 4, 2] : base);
}

/** A SACK option (RFC 2018) for up to 4 blocks of [left, right) sequence numbers, NOP-aligned. */
export function sackOption(blocks: readonly (readonly [number, number])[]): Buffer {
  const n = Math.min(blocks.length, 4);
  const o = Buffer.alloc(4 + 8 * n);
  o[0] = 1;
  o[1] = 1;
  o[2] = 5;
  o[3] = 2 + 8 * n;
  for (let i = 0; i < n; i++) {
    o.writeUInt32BE(blocks[i]![0] >>> 0, 4 + 8 * i);
    o.writeUInt32BE(blocks[i]![1] >>> 0, 8 + 8 * i);
  }
  return o;
}

/** a − b in sequence space (RFC 9293's modulo-2^32 comparison). */
export function seqDiff(a: number, b: number): number {
  return (a - b) | 0;
}
