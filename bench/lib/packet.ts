// The IPv4/UDP packet the JS writers push into the TUN, byte-for-byte what
// bench/c/common.h builds for the C writer, so both push the same packet;
// and the RFC 1071 sums the bench's mini-TCP (tcp-segment.ts) builds on.

/** The folded 16-bit one's-complement sum of `bytes` (a zero byte padding an odd tail) added to `seed`; not complemented. */
export function onesSum(bytes: Uint8Array, seed = 0): number {
  let sum = seed;
  for (let i = 0; i + 1 < bytes.length; i += 2) sum += (bytes[i]! << 8) | bytes[i + 1]!;
  if (bytes.length & 1) sum += bytes[bytes.length - 1]! << 8;
  return fold(sum);
}

/** Folds carries back into 16 bits. */
export function fold(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return sum;
}

function checksum(bytes: Uint8Array): number {
  return ~onesSum(bytes) & 0xffff;
}

export function ipv4(text: string): number[] {
  return text.split('.').map((p) => Number(p));
}

/** The IPv4 header checksum of b[0..20), written in place. */
export function sealIpv4Header(b: Buffer): void {
  b.writeUInt16BE(0, 10);
  b.writeUInt16BE(checksum(b.subarray(0, 20)), 10);
}

/** IPv4 header + UDP header (checksum 0, legal for IPv4) + `payload` bytes 0,1,2,… */
export function buildUdp4(src: string, dst: string, sport: number, dport: number, payload: number): Buffer {
  const total = 20 + 8 + payload;
  const b = Buffer.alloc(total);
  b[0] = 0x45;
  b.writeUInt16BE(total, 2);
  b[8] = 64;
  b[9] = 17;
  b.set(ipv4(src), 12);
  b.set(ipv4(dst), 16);
  sealIpv4Header(b);
  b.writeUInt16BE(sport, 20);
  b.writeUInt16BE(dport, 22);
  b.writeUInt16BE(8 + payload, 24);
  for (let i = 0; i < payload; i++) b[28 + i] = i & 0xff;
  return b;
}
