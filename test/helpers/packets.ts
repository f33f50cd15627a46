// Build and take apart the IP/UDP packets the kernel tests push through a TUN.
// Written from the RFCs (791, 768, 8200, 1071) rather than with a packet
// library, so the tests depend on nothing but Node, and every checksum is
// computed here and verified here — a packet the kernel accepts from us and a
// packet we accept from the kernel are both checked bit for bit.

import { formatAddress, parseIPv4, parseIPv6 } from '../../src/binding/contract/validate.js';

export const PROTO_ICMP = 1;
export const PROTO_IGMP = 2;
export const PROTO_UDP = 17;
export const PROTO_ICMPV6 = 58;

/** IPv6 extension headers that chain with (next header, length in 8-octet units minus one). */
const IPV6_EXTENSION_HEADERS = new Set([0 /* hop-by-hop */, 43 /* routing */, 60 /* destination options */]);
const IPV6_FRAGMENT_HEADER = 44;

export interface UdpPacketSpec {
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
  payload: Uint8Array;
  /** IPv4 TTL / IPv6 hop limit. Default 64. */
  ttl?: number;
}

export function addressBytes(text: string, family: 4 | 6): Buffer {
  const bytes = family === 4 ? parseIPv4(text) : parseIPv6(text);
  if (!bytes) throw new TypeError(`not an IPv${family} address: ${text}`);
  return bytes;
}

/** The Internet checksum (RFC 1071): one's-complement of the one's-complement sum of 16-bit words. */
export function internetChecksum(...chunks: Uint8Array[]): number {
  let sum = 0;
  let odd: number | undefined;
  for (const chunk of chunks) {
    for (const byte of chunk) {
      if (odd === undefined) odd = byte;
      else {
        sum += (odd << 8) | byte;
        odd = undefined;
      }
    }
  }
  if (odd !== undefined) sum += odd << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** The TCP/UDP pseudo-header (RFC 768, 9293; RFC 8200 §8.1 for IPv6), chosen by the address length. */
export function pseudoHeader(src: Buffer, dst: Buffer, protocol: number, length: number): Buffer {
  if (src.length === 4) {
    const pseudo = Buffer.alloc(12);
    src.copy(pseudo, 0);
    dst.copy(pseudo, 4);
    pseudo[9] = protocol;
    pseudo.writeUInt16BE(length, 10);
    return pseudo;
  }
  const pseudo = Buffer.alloc(40);
  src.copy(pseudo, 0);
  dst.copy(pseudo, 16);
  pseudo.writeUInt32BE(length, 32);
  pseudo[39] = protocol;
  return pseudo;
}

function udpSegment(src: Buffer, dst: Buffer, spec: UdpPacketSpec): Buffer {
  const udp = Buffer.alloc(8 + spec.payload.length);
  udp.writeUInt16BE(spec.srcPort, 0);
  udp.writeUInt16BE(spec.dstPort, 2);
  udp.writeUInt16BE(udp.length, 4);
  Buffer.from(spec.payload).copy(udp, 8);
  let checksum = internetChecksum(pseudoHeader(src, dst, PROTO_UDP, udp.length), udp);
  // RFC 768: a computed zero is sent as all ones (zero means "no checksum", illegal in IPv6).
  if (checksum === 0) checksum = 0xffff;
  udp.writeUInt16BE(checksum, 6);
  return udp;
}

let nextIdentification = 1;

/** An IPv4 packet (20-byte header, DF set) carrying one UDP datagram, both checksums valid. */
export function buildIPv4Udp(spec: UdpPacketSpec): Buffer {
  const src = addressBytes(spec.src, 4);
  const dst = addressBytes(spec.dst, 4);
  const udp = udpSegment(src, dst, spec);
  const header = Buffer.alloc(20);
  header[0] = 0x45;
  header.writeUInt16BE(20 + udp.length, 2);
  header.writeUInt16BE(nextIdentification++ & 0xffff, 4);
  header.writeUInt16BE(0x4000, 6);
  header[8] = spec.ttl ?? 64;
  header[9] = PROTO_UDP;
  src.copy(header, 12);
  dst.copy(header, 16);
  header.writeUInt16BE(internetChecksum(header), 10);
  return Buffer.concat([header, udp]);
}

/** An IPv6 packet (no extension headers) carrying one UDP datagram with a valid checksum. */
export function buildIPv6Udp(spec: UdpPacketSpec): Buffer {
  const src = addressBytes(spec.src, 6);
  const dst = addressBytes(spec.dst, 6);
  const udp = udpSegment(src, dst, spec);
  const header = Buffer.alloc(40);
  header.writeUInt32BE(0x60000000, 0);
  header.writeUInt16BE(udp.length, 4);
  header[6] = PROTO_UDP;
  header[7] = spec.ttl ?? 64;
  src.copy(header, 8);
  dst.copy(header, 24);
  return Buffer.concat([header, udp]);
}

export function buildUdp(spec: UdpPacketSpec): Buffer {
  return spec.src.includes(':') ? buildIPv6Udp(spec) : buildIPv4Udp(spec);
}

export interface UdpHeader {
  srcPort: number;
  dstPort: number;
  /** the UDP length field */
  length: number;
  checksum: number;
  /** the checksum verifies against the pseudo-header (a zero IPv4 checksum counts as valid: "none") */
  checksumValid: boolean;
  payload: Buffer;
}

export interface ParsedPacket {
  version: 4 | 6;
  src: string;
  dst: string;
  /** IPv4 protocol, or the IPv6 upper-layer protocol after the extension headers */
  protocol: number;
  ttl: number;
  /** IPv4 header checksum verifies (always true for IPv6, which has none) */
  headerChecksumValid: boolean;
  /** the bytes after the IP header(s), trimmed to the length the header declares */
  transport: Buffer;
  udp?: UdpHeader;
}

/** Parse an IPv4 or IPv6 packet as read from a TUN (no packet-information prefix). Throws on garbage. */
export function parsePacket(bytes: Uint8Array): ParsedPacket {
  const packet = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (packet.length < 1) throw new RangeError('empty packet');
  const version = packet[0]! >> 4;
  if (version === 4) return parseIPv4Packet(packet);
  if (version === 6) return parseIPv6Packet(packet);
  throw new RangeError(`not an IP packet: version nibble ${version}`);
}

function parseIPv4Packet(packet: Buffer): ParsedPacket {
  if (packet.length < 20) throw new RangeError(`IPv4 packet shorter than its header: ${packet.length}`);
  const headerLength = (packet[0]! & 0x0f) * 4;
  const totalLength = packet.readUInt16BE(2);
  if (headerLength < 20 || totalLength < headerLength || totalLength > packet.length) {
    throw new RangeError(`malformed IPv4 lengths: header ${headerLength}, total ${totalLength}, read ${packet.length}`);
  }
  const src = packet.subarray(12, 16);
  const dst = packet.subarray(16, 20);
  const protocol = packet[9]!;
  const transport = packet.subarray(headerLength, totalLength);
  return {
    version: 4,
    src: formatAddress(src),
    dst: formatAddress(dst),
    protocol,
    ttl: packet[8]!,
    headerChecksumValid: internetChecksum(packet.subarray(0, headerLength)) === 0,
    transport,
    udp: protocol === PROTO_UDP ? parseUdp(transport, src, dst, false) : undefined,
  };
}

function parseIPv6Packet(packet: Buffer): ParsedPacket {
  if (packet.length < 40) throw new RangeError(`IPv6 packet shorter than its header: ${packet.length}`);
  const payloadLength = packet.readUInt16BE(4);
  if (40 + payloadLength > packet.length) {
    throw new RangeError(`IPv6 payload length ${payloadLength} exceeds the ${packet.length - 40} bytes read`);
  }
  const src = packet.subarray(8, 24);
  const dst = packet.subarray(24, 40);
  let next = packet[6]!;
  let offset = 40;
  const end = 40 + payloadLength;
  while (IPV6_EXTENSION_HEADERS.has(next) || next === IPV6_FRAGMENT_HEADER) {
    if (offset + 8 > end) throw new RangeError('truncated IPv6 extension header');
    const following = packet[offset]!;
    offset += next === IPV6_FRAGMENT_HEADER ? 8 : (packet[offset + 1]! + 1) * 8;
    next = following;
  }
  const transport = packet.subarray(offset, end);
  return {
    version: 6,
    src: formatAddress(src),
    dst: formatAddress(dst),
    protocol: next,
    ttl: packet[7]!,
    headerChecksumValid: true,
    transport,
    udp: next === PROTO_UDP ? parseUdp(transport, src, dst, true) : undefined,
  };
}

function parseUdp(segment: Buffer, src: Buffer, dst: Buffer, ipv6: boolean): UdpHeader | undefined {
  if (segment.length < 8) return undefined;
  const length = segment.readUInt16BE(4);
  const checksum = segment.readUInt16BE(6);
  const bounded = segment.subarray(0, Math.min(length, segment.length));
  const checksumValid =
    length >= 8 && length <= segment.length &&
    ((!ipv6 && checksum === 0) || internetChecksum(pseudoHeader(src, dst, PROTO_UDP, length), bounded) === 0);
  return {
    srcPort: segment.readUInt16BE(0),
    dstPort: segment.readUInt16BE(2),
    length,
    checksum,
    checksumValid,
    payload: Buffer.from(bounded.subarray(8)),
  };
}

/** ICMPv6 types the kernel sends by itself on a fresh link (RFC 4861, RFC 3810, RFC 2710). */
const ICMPV6_SELF_ORIGINATED = new Set([
  130, 131, 132, // MLDv1 query / report / done
  133, // router solicitation
  135, 136, // neighbour solicitation / advertisement (DAD, where the link does it)
  143, // MLDv2 report
]);

/**
 * Traffic the kernel sends into a TUN on its own (router solicitations and
 * MLD reports after link-up, IGMP), which tests must step over. Anything
 * else — including anything unparseable — is not noise: tests should see it.
 */
export function isKernelNoise(bytes: Uint8Array): boolean {
  let packet: ParsedPacket;
  try {
    packet = parsePacket(bytes);
  } catch {
    return false;
  }
  if (packet.version === 4) return packet.protocol === PROTO_IGMP;
  if (packet.protocol !== PROTO_ICMPV6 || packet.transport.length < 1) return false;
  return ICMPV6_SELF_ORIGINATED.has(packet.transport[0]!);
}

/** A predicate for one UDP flow (any field left out matches anything). */
export function isUdp(match: Partial<{ src: string; dst: string; srcPort: number; dstPort: number }>) {
  return (bytes: Uint8Array): boolean => {
    let packet: ParsedPacket;
    try {
      packet = parsePacket(bytes);
    } catch {
      return false;
    }
    if (!packet.udp) return false;
    if (match.src !== undefined && packet.src !== match.src) return false;
    if (match.dst !== undefined && packet.dst !== match.dst) return false;
    if (match.srcPort !== undefined && packet.udp.srcPort !== match.srcPort) return false;
    if (match.dstPort !== undefined && packet.udp.dstPort !== match.dstPort) return false;
    return true;
  };
}

/**
 * A valid IPv4/UDP datagram carrying `text`, for tests that need some packet
 * and look only at its payload (read back with `payloadText`). From 10.0.0.1
 * to 10.0.0.2 unless told otherwise.
 */
export function textPacket(text = 'hello', route: { src?: string; dst?: string } = {}): Buffer {
  const { src = '10.0.0.1', dst = '10.0.0.2' } = route;
  return buildIPv4Udp({ src, dst, srcPort: 40000, dstPort: 9, payload: Buffer.from(text) });
}

/** The UDP payload of `packet` as text (throws on anything but UDP). */
export function payloadText(packet: Uint8Array): string {
  const { udp } = parsePacket(packet);
  if (!udp) throw new TypeError('not a UDP packet');
  return udp.payload.toString();
}
