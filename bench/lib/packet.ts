// The IPv4/UDP packet the JS writers push into the TUN, byte-for-byte what
// bench/c/common.h builds for the C writer, so both push the same packet.

function checksum(bytes: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i + 1 < bytes.length; i += 2) sum += (bytes[i]! << 8) | bytes[i + 1]!;
  if (bytes.length & 1) sum += bytes[bytes.length - 1]! << 8;
  while (sum >>> 16) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

function ipv4(text: string): number[] {
  return text.split('.').map((p) => Number(p));
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
  b.writeUInt16BE(checksum(b.subarray(0, 20)), 10);
  b.writeUInt16BE(sport, 20);
  b.writeUInt16BE(dport, 22);
  b.writeUInt16BE(8 + payload, 24);
  for (let i = 0; i < payload; i++) b[28 + i] = i & 0xff;
  return b;
}
