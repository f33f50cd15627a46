// A user-space echo responder on a TUN: what it reads is what the kernel
// routed into the interface; it answers ICMP/ICMPv6 echo requests (ping) and
// UDP datagrams by swapping addresses (and ports), then fixing the checksums,
// and writes the answer back into the TUN for the kernel to deliver.

import { ICMP, ICMPV6, UDP, checksum, fixIpv4HeaderChecksum, transportChecksum, viewIp } from './packets.js';

export interface EchoCounts {
  pings: number;
  udp: number;
  ignored: number;
}

/** The answer to `packet`, or undefined when it is not something we echo. */
export function echoReply(packet: Buffer): Buffer | undefined {
  const ip = viewIp(packet);
  if (!ip) return undefined;
  const segmentAt = ip.offset;
  const type = packet[segmentAt];
  const isEcho = (ip.protocol === ICMP && type === 8) || (ip.protocol === ICMPV6 && type === 128);
  if (!isEcho && ip.protocol !== UDP) return undefined;
  if (ip.protocol === UDP && packet.length < segmentAt + 8) return undefined;

  const reply = Buffer.from(packet);
  const view = viewIp(reply)!;
  // Swap source and destination addresses.
  const src = Buffer.from(view.src);
  view.dst.copy(view.src);
  src.copy(view.dst);
  if (ip.version === 4) {
    reply[8] = 64; // a fresh TTL
    fixIpv4HeaderChecksum(reply);
  } else {
    reply[7] = 64; // hop limit
  }
  const segment = reply.subarray(segmentAt);
  if (isEcho) {
    segment[0] = ip.protocol === ICMP ? 0 : 129;
    segment.writeUInt16BE(0, 2);
    segment.writeUInt16BE(ip.protocol === ICMP ? checksum(segment) : transportChecksum(view, segment), 2);
  } else {
    const srcPort = segment.readUInt16BE(0);
    segment.writeUInt16BE(segment.readUInt16BE(2), 0);
    segment.writeUInt16BE(srcPort, 2);
    segment.writeUInt16BE(0, 6);
    const sum = transportChecksum(view, segment);
    segment.writeUInt16BE(sum === 0 ? 0xffff : sum, 6);
  }
  return reply;
}

export function kindOf(packet: Buffer): 'ping' | 'udp' | undefined {
  const ip = viewIp(packet);
  if (!ip) return undefined;
  if (ip.protocol === UDP) return 'udp';
  if (ip.protocol === ICMP || ip.protocol === ICMPV6) return 'ping';
  return undefined;
}

/** Answer everything an adapter reads; returns the counts and a stop function. */
export function startEchoResponder(
  adapter: { on(event: 'packet', fn: (p: Buffer) => void): unknown; off(event: 'packet', fn: (p: Buffer) => void): unknown; write(p: Uint8Array): boolean },
): { counts: EchoCounts; stop(): void } {
  const counts: EchoCounts = { pings: 0, udp: 0, ignored: 0 };
  const onPacket = (packet: Buffer) => {
    const reply = echoReply(packet);
    if (!reply) {
      counts.ignored += 1; // the kernel's own router solicitations, MLD reports
      return;
    }
    try {
      adapter.write(reply);
      if (kindOf(packet) === 'udp') counts.udp += 1;
      else counts.pings += 1;
    } catch {
      counts.ignored += 1; // not ready any more (the interface is being recovered or cleaned up)
    }
  };
  adapter.on('packet', onPacket);
  return { counts, stop: () => adapter.off('packet', onPacket) };
}
