// Just enough IP to answer pings and UDP from user space: parse IPv4/IPv6
// headers, build echo requests and UDP datagrams (for the simulated run), and
// the Internet checksum with the IPv4/IPv6 pseudo-headers.

import { formatAddress, parseIPv4, parseIPv6 } from '../../binding/contract/validate.js';

export const ICMP = 1;
export const UDP = 17;
export const ICMPV6 = 58;

export interface IpView {
  version: 4 | 6;
  protocol: number;
  src: Buffer;
  dst: Buffer;
  /** Offset of the transport header. */
  offset: number;
}

/** IPv4 (options allowed) or IPv6 without extension headers; undefined for anything else. */
export function viewIp(packet: Buffer): IpView | undefined {
  const version = packet[0]! >> 4;
  if (version === 4 && packet.length >= 20) {
    const offset = (packet[0]! & 0x0f) * 4;
    return { version, protocol: packet[9]!, src: packet.subarray(12, 16), dst: packet.subarray(16, 20), offset };
  }
  if (version === 6 && packet.length >= 40) {
    return { version, protocol: packet[6]!, src: packet.subarray(8, 24), dst: packet.subarray(24, 40), offset: 40 };
  }
  return undefined;
}

function sum16(bytes: Uint8Array, initial = 0): number {
  let sum = initial;
  for (let i = 0; i + 1 < bytes.length; i += 2) sum += (bytes[i]! << 8) | bytes[i + 1]!;
  if (bytes.length % 2) sum += bytes[bytes.length - 1]! << 8;
  return sum;
}

function fold(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

export function checksum(bytes: Uint8Array): number {
  return fold(sum16(bytes));
}

/** Checksum of a transport segment with the pseudo-header of its IP packet. */
export function transportChecksum(ip: IpView, segment: Uint8Array): number {
  let sum = sum16(ip.src) + sum16(ip.dst) + ip.protocol + segment.length;
  if (ip.version === 6) sum = sum16(ip.src) + sum16(ip.dst) + (segment.length >>> 16) + (segment.length & 0xffff) + ip.protocol;
  return fold(sum16(segment, sum));
}

export function fixIpv4HeaderChecksum(packet: Buffer): void {
  const length = (packet[0]! & 0x0f) * 4;
  packet.writeUInt16BE(0, 10);
  packet.writeUInt16BE(checksum(packet.subarray(0, length)), 10);
}

export function addressBytes(text: string): Buffer {
  const bytes = parseIPv4(text) ?? parseIPv6(text);
  if (!bytes) throw new TypeError(`not an IP address: ${text}`);
  return bytes;
}

export function addressText(bytes: Uint8Array): string {
  return formatAddress(bytes);
}

/** An IP packet around `payload` (already holding its transport header). */
function ipPacket(src: string, dst: string, protocol: number, segment: Buffer): Buffer {
  const s = addressBytes(src);
  const d = addressBytes(dst);
  if (s.length === 4) {
    const packet = Buffer.alloc(20 + segment.length);
    packet[0] = 0x45;
    packet.writeUInt16BE(packet.length, 2);
    packet[8] = 64;
    packet[9] = protocol;
    s.copy(packet, 12);
    d.copy(packet, 16);
    segment.copy(packet, 20);
    fixIpv4HeaderChecksum(packet);
    return packet;
  }
  const packet = Buffer.alloc(40 + segment.length);
  packet[0] = 0x60;
  packet.writeUInt16BE(segment.length, 4);
  packet[6] = protocol;
  packet[7] = 64;
  s.copy(packet, 8);
  d.copy(packet, 24);
  segment.copy(packet, 40);
  return packet;
}

function finish(packet: Buffer, checksumAt: number): Buffer {
  const ip = viewIp(packet)!;
  packet.writeUInt16BE(0, ip.offset + checksumAt);
  const segment = packet.subarray(ip.offset);
  const value = ip.protocol === ICMP ? checksum(segment) : transportChecksum(ip, segment);
  packet.writeUInt16BE(ip.protocol === UDP && value === 0 ? 0xffff : value, ip.offset + checksumAt);
  return packet;
}

export function buildUdp(src: string, srcPort: number, dst: string, dstPort: number, payload: Buffer): Buffer {
  const segment = Buffer.alloc(8 + payload.length);
  segment.writeUInt16BE(srcPort, 0);
  segment.writeUInt16BE(dstPort, 2);
  segment.writeUInt16BE(segment.length, 4);
  payload.copy(segment, 8);
  return finish(ipPacket(src, dst, UDP, segment), 6);
}

export function buildEchoRequest(src: string, dst: string, id: number, seq: number, payload: Buffer): Buffer {
  const v6 = addressBytes(src).length === 16;
  const segment = Buffer.alloc(8 + payload.length);
  segment[0] = v6 ? 128 : 8;
  segment.writeUInt16BE(id, 4);
  segment.writeUInt16BE(seq, 6);
  payload.copy(segment, 8);
  return finish(ipPacket(src, dst, v6 ? ICMPV6 : ICMP, segment), 2);
}

/** True when the transport checksum of a packet verifies (what the kernel checks before delivering). */
export function checksumOk(packet: Buffer): boolean {
  const ip = viewIp(packet);
  if (!ip) return false;
  const segment = packet.subarray(ip.offset);
  if (ip.protocol === ICMP) return checksum(segment) === 0;
  if (ip.protocol === UDP && ip.version === 4 && segment.readUInt16BE(6) === 0) return true;
  return transportChecksum(ip, segment) === 0;
}
