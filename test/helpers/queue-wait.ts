// Reading a PacketQueue from a test: keep every batch the queue delivers (so
// counts can be checked against the queue's and the kernel's counters), and
// wait, with a deadline, for the packets a test is looking for. A timeout
// says what did arrive, which is what one needs to see when it fails.

import type { PacketQueue } from '../../src/binding/contract/types.js';
import { isKernelNoise, parsePacket } from './packets.js';

export interface Received {
  queueIndex: number;
  packet: Buffer;
}

export class QueueRecorder {
  readonly received: Received[] = [];
  readonly errors: Error[] = [];
  /** 'packets' events, per queue index: fewer than packets means the binding batches reads. */
  readonly batches = new Map<number, number>();
  private waiters = new Set<() => void>();

  constructor(readonly queues: readonly PacketQueue[]) {
    for (const queue of queues) {
      queue.on('packets', (packets: Buffer[]) => {
        this.batches.set(queue.index, (this.batches.get(queue.index) ?? 0) + 1);
        for (const packet of packets) this.received.push({ queueIndex: queue.index, packet: Buffer.from(packet) });
        this.wake();
      });
      queue.on('error', (err: Error) => {
        this.errors.push(err);
        this.wake();
      });
      queue.resume();
    }
  }

  private wake(): void {
    for (const waiter of this.waiters) waiter();
  }

  /** Packets other than the kernel's own chatter (router solicitations, MLD, IGMP). */
  meaningful(): Received[] {
    return this.received.filter((r) => !isKernelNoise(r.packet));
  }

  /** Resolve once `count` received packets match; reject on a queue error or after timeoutMs. */
  waitFor(predicate: (packet: Buffer) => boolean, count: number, timeoutMs = 5000): Promise<Received[]> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        if (this.errors.length > 0) {
          finish();
          reject(this.errors[0]);
          return true;
        }
        const matched = this.received.filter((r) => predicate(r.packet));
        if (matched.length >= count) {
          finish();
          resolve(matched);
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        finish();
        const seen = this.received.map((r) => `q${r.queueIndex}:${describePacket(r.packet)}`);
        const matched = this.received.filter((r) => predicate(r.packet)).length;
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${count} packet(s), matched ${matched}; received: [${seen.join(', ')}]`));
      }, timeoutMs);
      const finish = (): void => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
      };
      const waiter = (): void => void check();
      this.waiters.add(waiter);
      check();
    });
  }
}

export function describePacket(packet: Buffer): string {
  try {
    const p = parsePacket(packet);
    if (p.udp) return `IPv${p.version} UDP ${p.src}:${p.udp.srcPort}>${p.dst}:${p.udp.dstPort} len ${p.udp.payload.length}`;
    const type = p.transport.length > 0 ? ` type ${p.transport[0]}` : '';
    return `IPv${p.version} proto ${p.protocol}${type} ${p.src}>${p.dst}`;
  } catch (err) {
    return `unparseable(${packet.length} bytes: ${(err as Error).message})`;
  }
}
