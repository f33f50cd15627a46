// TCP and UDP over IPv4/IPv6 for the offload tests, and the superframes a TUN
// with IFF_VNET_HDR hands over: built from the RFCs (791 IPv4, 8200 IPv6,
// 793/9293 TCP, 768 UDP, 1071 checksum) and the virtio spec (struct
// virtio_net_hdr, 5.1.6), every checksum computed here and verified here.

import { addressBytes, internetChecksum, pseudoHeader } from './packets.js';

export const PROTO_TCP = 6;
export const PROTO_UDP = 17;
export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;
export const TCP_CWR = 0x80;

export const VNET_HDR_LEN = 10;
export const F_NEEDS_CSUM = 1;
export const GSO_NONE = 0;
export const GSO_TCPV4 = 1;
export const GSO_TCPV6 = 4;
export const GSO_UDP_L4 = 5;
export const GSO_ECN = 0x80;

const IPV6_DESTINATION_OPTIONS = 60;

export interface SegmentSpec {
  family: 4 | 6;
  proto: 'tcp' | 'udp';
  payload: Uint8Array;
  src?: string;
  dst?: string;
  srcPort?: number;
  dstPort?: number;
  /** IPv4 TTL / IPv6 hop limit (64) */
  ttl?: number;
  /** IPv4 TOS / IPv6 traffic class (0) */
  tos?: number;
  /** IPv4 only */
  id?: number;
  df?: boolean;
  mf?: boolean;
  /** IPv4 options (a multiple of 4 bytes, at most 40) */
  ipOptions?: Uint8Array;
  /** IPv6: put one destination-options extension header (8 bytes, padding) before the transport. */
  extensionHeader?: boolean;
  seq?: number;
  ack?: number;
  /** TCP flags byte (ACK) */
  flags?: number;
  /** TCP options (a multiple of 4 bytes, at most 40) */
  tcpOptions?: Uint8Array;
  /** Flip the transport checksum after computing it. */
  badChecksum?: boolean;
}

/** Where the parts of a built packet sit. */
export interface Layout {
  ipHeaderLength: number;
  transportHeaderLength: number;
  checksumOffset: number;
}

function transportHeader(spec: SegmentSpec, l4Length: number): Buffer {
  if (spec.proto === 'udp') {
    const h = Buffer.alloc(8);
    h.writeUInt16BE(spec.srcPort ?? 40000, 0);
    h.writeUInt16BE(spec.dstPort ?? 5201, 2);
    h.writeUInt16BE(l4Length & 0xffff, 4);
    return h;
  }
  const options = spec.tcpOptions ?? new Uint8Array(0);
  const h = Buffer.alloc(20 + options.length);
  h.writeUInt16BE(spec.srcPort ?? 40000, 0);
  h.writeUInt16BE(spec.dstPort ?? 5201, 2);
  h.writeUInt32BE((spec.seq ?? 1000) >>> 0, 4);
  h.writeUInt32BE((spec.ack ?? 77) >>> 0, 8);
  h[12] = (h.length / 4) << 4;
  h[13] = spec.flags ?? TCP_ACK;
  h.writeUInt16BE(64240, 14);
  Buffer.from(options).copy(h, 20);
  return h;
}

function ipHeader(spec: SegmentSpec, src: Buffer, dst: Buffer, totalLength: number, protocol: number): Buffer {
  if (spec.family === 4) {
    const options = spec.ipOptions ?? new Uint8Array(0);
    const h = Buffer.alloc(20 + options.length);
    h[0] = 0x40 | (h.length / 4);
    h[1] = spec.tos ?? 0;
    h.writeUInt16BE(totalLength & 0xffff, 2);
    h.writeUInt16BE(spec.id ?? 0x1234, 4);
    h.writeUInt16BE(((spec.df ?? true) ? 0x4000 : 0) | (spec.mf ? 0x2000 : 0), 6);
    h[8] = spec.ttl ?? 64;
    h[9] = protocol;
    src.copy(h, 12);
    dst.copy(h, 16);
    Buffer.from(options).copy(h, 20);
    h.writeUInt16BE(internetChecksum(h), 10);
    return h;
  }
  const ext = spec.extensionHeader ? 8 : 0;
  const h = Buffer.alloc(40 + ext);
  h.writeUInt32BE((6 << 28) | ((spec.tos ?? 0) << 20), 0);
  h.writeUInt16BE((totalLength - 40) & 0xffff, 4);
  h[6] = spec.extensionHeader ? IPV6_DESTINATION_OPTIONS : protocol;
  h[7] = spec.ttl ?? 64;
  src.copy(h, 8);
  dst.copy(h, 24);
  if (spec.extensionHeader) {
    h[40] = protocol; // next header; length 0 = 8 bytes; PadN option fills the rest
    h[41] = 0;
    h[42] = 1;
    h[43] = 4;
  }
  return h;
}

/**
 * The headers and payload of one packet, with `checksum` deciding what the
 * transport checksum field holds: 'full' (a packet on the wire) or 'partial'
 * (the folded, uncomplemented pseudo-header sum of CHECKSUM_PARTIAL).
 */
function assemble(spec: SegmentSpec, checksum: 'full' | 'partial'): { packet: Buffer; layout: Layout } {
  const family = spec.family;
  const src = addressBytes(spec.src ?? (family === 4 ? '10.1.0.1' : 'fd00:1::1'), family);
  const dst = addressBytes(spec.dst ?? (family === 4 ? '10.2.0.2' : 'fd00:2::2'), family);
  const protocol = spec.proto === 'tcp' ? PROTO_TCP : PROTO_UDP;
  const ipLength = family === 4 ? 20 + (spec.ipOptions?.length ?? 0) : 40 + (spec.extensionHeader ? 8 : 0);
  const l4HeaderLength = spec.proto === 'udp' ? 8 : 20 + (spec.tcpOptions?.length ?? 0);
  const l4Length = l4HeaderLength + spec.payload.length;
  const th = transportHeader(spec, l4Length);
  const ih = ipHeader(spec, src, dst, ipLength + l4Length, protocol);
  const checksumOffset = spec.proto === 'tcp' ? 16 : 6;
  const pseudo = pseudoHeader(src, dst, protocol, l4Length);
  let sum: number;
  if (checksum === 'partial') sum = ~internetChecksum(pseudo) & 0xffff;
  else {
    sum = internetChecksum(pseudo, th, spec.payload);
    if (sum === 0 && spec.proto === 'udp') sum = 0xffff;
    if (spec.badChecksum) sum ^= 0x0101;
  }
  th.writeUInt16BE(sum, checksumOffset);
  const packet = Buffer.concat([ih, th, spec.payload]);
  return { packet, layout: { ipHeaderLength: ipLength, transportHeaderLength: l4HeaderLength, checksumOffset } };
}

/** One ordinary packet with full, correct checksums (unless badChecksum). */
export function buildSegment(spec: SegmentSpec): Buffer {
  return assemble(spec, 'full').packet;
}

export interface VnetHeader {
  flags: number;
  gsoType: number;
  hdrLen: number;
  gsoSize: number;
  csumStart: number;
  csumOffset: number;
}

export function writeVnetHeader(h: VnetHeader): Buffer {
  const b = Buffer.alloc(VNET_HDR_LEN);
  b[0] = h.flags;
  b[1] = h.gsoType;
  b.writeUInt16LE(h.hdrLen, 2);
  b.writeUInt16LE(h.gsoSize, 4);
  b.writeUInt16LE(h.csumStart, 6);
  b.writeUInt16LE(h.csumOffset, 8);
  return b;
}

export function readVnetHeader(b: Uint8Array): VnetHeader {
  const v = Buffer.from(b.buffer, b.byteOffset, VNET_HDR_LEN);
  return {
    flags: v[0]!,
    gsoType: v[1]!,
    hdrLen: v.readUInt16LE(2),
    gsoSize: v.readUInt16LE(4),
    csumStart: v.readUInt16LE(6),
    csumOffset: v.readUInt16LE(8),
  };
}

export interface SuperframeSpec extends SegmentSpec {
  gsoSize: number;
  /** Set VIRTIO_NET_HDR_GSO_ECN in gso_type. */
  ecn?: boolean;
  /** What hdr_len claims (default: the true header length). */
  hdrLen?: number;
}

/** What a TUN read returns for a TSO/USO superframe: virtio header, headers of the whole, the whole payload. */
export function buildSuperframe(spec: SuperframeSpec): Buffer {
  const { packet, layout } = assemble(spec, 'partial');
  const gsoType = spec.proto === 'udp' ? GSO_UDP_L4 : spec.family === 4 ? GSO_TCPV4 : GSO_TCPV6;
  const vnet = writeVnetHeader({
    flags: F_NEEDS_CSUM,
    gsoType: gsoType | (spec.ecn ? GSO_ECN : 0),
    hdrLen: spec.hdrLen ?? layout.ipHeaderLength + layout.transportHeaderLength,
    gsoSize: spec.gsoSize,
    csumStart: layout.ipHeaderLength,
    csumOffset: layout.checksumOffset,
  });
  return Buffer.concat([vnet, packet]);
}

/** An unsegmented read whose transport checksum the kernel left partial (GSO_NONE + NEEDS_CSUM). */
export function buildPartialChecksumFrame(spec: SegmentSpec): Buffer {
  const { packet, layout } = assemble(spec, 'partial');
  const vnet = writeVnetHeader({
    flags: F_NEEDS_CSUM,
    gsoType: GSO_NONE,
    hdrLen: layout.ipHeaderLength + layout.transportHeaderLength,
    gsoSize: 0,
    csumStart: layout.ipHeaderLength,
    csumOffset: layout.checksumOffset,
  });
  return Buffer.concat([vnet, packet]);
}

/** A packet taken apart (IPv4 without fragments, IPv6 with at most the extension headers built above). */
export interface ParsedSegment {
  family: 4 | 6;
  proto: 'tcp' | 'udp';
  ipHeaderLength: number;
  transportHeaderLength: number;
  ttl: number;
  tos: number;
  id: number;
  df: boolean;
  totalLength: number;
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: number;
  udpLength: number;
  checksum: number;
  payload: Buffer;
  /** IPv4 header checksum (true for IPv6) and the transport checksum both verify, lengths agree with the buffer. */
  valid: boolean;
}

export function parseSegment(bytes: Uint8Array): ParsedSegment {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const family = (b[0]! >> 4) as 4 | 6;
  let ipHeaderLength: number;
  let protocol: number;
  let totalLength: number;
  let headerOk = true;
  let src: Buffer;
  let dst: Buffer;
  if (family === 4) {
    ipHeaderLength = (b[0]! & 0x0f) * 4;
    protocol = b[9]!;
    totalLength = b.readUInt16BE(2);
    headerOk = internetChecksum(b.subarray(0, ipHeaderLength)) === 0;
    src = b.subarray(12, 16);
    dst = b.subarray(16, 20);
  } else {
    ipHeaderLength = 40;
    protocol = b[6]!;
    while (protocol === IPV6_DESTINATION_OPTIONS) {
      protocol = b[ipHeaderLength]!;
      ipHeaderLength += (b[ipHeaderLength + 1]! + 1) * 8;
    }
    totalLength = b.readUInt16BE(4) + 40;
    src = b.subarray(8, 24);
    dst = b.subarray(24, 40);
  }
  const l4 = b.subarray(ipHeaderLength);
  const tcp = protocol === PROTO_TCP;
  const transportHeaderLength = tcp ? (l4[12]! >> 4) * 4 : 8;
  const checksum = l4.readUInt16BE(tcp ? 16 : 6);
  const l4Ok = internetChecksum(pseudoHeader(src, dst, protocol, l4.length), l4) === 0 && (tcp || checksum !== 0);
  const udpLength = tcp ? 0 : l4.readUInt16BE(4);
  return {
    family,
    proto: tcp ? 'tcp' : 'udp',
    ipHeaderLength,
    transportHeaderLength,
    ttl: family === 4 ? b[8]! : b[7]!,
    tos: family === 4 ? b[1]! : (b.readUInt32BE(0) >>> 20) & 0xff,
    id: family === 4 ? b.readUInt16BE(4) : 0,
    df: family === 4 && (b[6]! & 0x40) !== 0,
    totalLength,
    srcPort: l4.readUInt16BE(0),
    dstPort: l4.readUInt16BE(2),
    seq: tcp ? l4.readUInt32BE(4) : 0,
    ack: tcp ? l4.readUInt32BE(8) : 0,
    flags: tcp ? l4[13]! : 0,
    udpLength,
    checksum,
    payload: Buffer.from(l4.subarray(transportHeaderLength)),
    valid: headerOk && l4Ok && totalLength === b.length && (tcp || udpLength === l4.length),
  };
}

/** The packets of a split, one Buffer each. */
export function splitPackets(result: { data: Buffer; lengths: number[] }): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  for (const length of result.lengths) {
    out.push(result.data.subarray(at, at + length));
    at += length;
  }
  return out;
}

/** `n` bytes that differ from position to position (so a misplaced slice shows). */
export function patternPayload(n: number, seed = 0): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 7 + seed + (i >> 8)) & 0xff;
  return b;
}
