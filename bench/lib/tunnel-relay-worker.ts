// One worker of bench/lib/tunnel-relay.ts `workers`: queue i of the TUN in A
// and queue i of the TUN in B, handed over by the main thread, relayed both
// ways with the batched API on this thread's own event loop.
import { workerData } from 'node:worker_threads';
import { attachQueue, type QueueHandle } from '../../src/binding/native/worker-queue.js';
import type { PacketQueue } from '../../src/binding/contract/types.js';

const { a, b } = workerData as { a: QueueHandle; b: QueueHandle };
const qa = attachQueue(a);
const qb = attachQueue(b);
const pipe = (from: PacketQueue, to: PacketQueue) => {
  from.on('error', () => {});
  from.on('packets', (batch: Buffer[]) => {
    for (const packet of batch) {
      try {
        to.write(packet);
      } catch {
        // EIO while the other side is down; the device gone ends the queues.
      }
    }
  });
};
pipe(qa, qb);
pipe(qb, qa);
