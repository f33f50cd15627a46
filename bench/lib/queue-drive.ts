// How the throughput bench reads and writes a queue, on the main thread or in
// a worker (lib/throughput-worker.ts): the same loop either way. Times are
// absolute (timeOrigin + now) so that spans measured on several threads,
// each with its own performance.now() origin, can be joined.
import { once } from 'node:events';
import type { PacketQueue } from '../../src/binding/contract/types.js';

export const clock = (): number => performance.timeOrigin + performance.now();

export interface Drained {
  packets: number;
  bytes: number;
  /** When the first and the last batch arrived (absolute ms). */
  first: number;
  last: number;
}

/** Reads and counts every batch until `idleMs` pass without one (after the first) or `maxS` in all. */
export function drainUntilIdle(queue: PacketQueue, idleMs: number, maxS: number): Promise<Drained> {
  const seen: Drained = { packets: 0, bytes: 0, first: 0, last: 0 };
  queue.on('packets', (batch: Buffer[]) => {
    const t = clock();
    if (!seen.packets) seen.first = t;
    seen.last = t;
    seen.packets += batch.length;
    for (const p of batch) seen.bytes += p.length;
  });
  queue.resume();
  const start = clock();
  return new Promise((resolve) => {
    const timer = setInterval(() => {
      const t = clock();
      if ((seen.packets && t - seen.last > idleMs) || t - start > maxS * 1000) {
        clearInterval(timer);
        resolve(seen);
      }
    }, 20);
  });
}

/** Writes `packet` for `seconds`, honouring backpressure, until the queue has drained; returns the span (absolute ms). */
export async function writeFor(queue: PacketQueue, packet: Uint8Array, seconds: number): Promise<{ first: number; last: number }> {
  const first = clock();
  const end = first + seconds * 1000;
  while (clock() < end) {
    for (let i = 0; i < 256; i++) if (!queue.write(packet)) await once(queue, 'drain');
  }
  if (queue.stats().pendingWrites > 0) await once(queue, 'drain');
  return { first, last: clock() };
}
