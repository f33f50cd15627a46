// One worker of bench/throughput.ts's "binding, 2 workers" rows: attaches the
// queue the main thread handed over and either reads it (lib/queue-drive.ts's
// drainUntilIdle) or writes one flow's packet into it for `seconds`, then
// posts what it moved and when (absolute times: see queue-drive.ts).
import { parentPort, workerData } from 'node:worker_threads';
import { attachQueue, type QueueHandle } from '../../src/binding/native/worker-queue.js';
import { buildUdp4 } from './packet.js';
import { drainUntilIdle, writeFor } from './queue-drive.js';

interface ReadJob { role: 'read'; handle: QueueHandle; idleMs: number; maxS: number }
interface WriteJob { role: 'write'; handle: QueueHandle; seconds: number; src: string; dst: string; srcPort: number; dstPort: number; payload: number }
const job = workerData as ReadJob | WriteJob;
const queue = attachQueue(job.handle);

if (job.role === 'read') {
  void drainUntilIdle(queue, job.idleMs, job.maxS).then((drained) => {
    queue.close();
    parentPort!.postMessage(drained);
  });
  parentPort!.postMessage('ready');
} else {
  const pkt = buildUdp4(job.src, job.dst, job.srcPort, job.dstPort, job.payload);
  parentPort!.once('message', async () => {
    const { first, last } = await writeFor(queue, pkt, job.seconds);
    const { txPackets, txBytes } = queue.stats();
    queue.close();
    parentPort!.postMessage({ packets: txPackets, bytes: txBytes, first, last });
  });
  parentPort!.postMessage('ready');
}
