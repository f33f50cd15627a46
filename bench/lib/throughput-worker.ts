// One worker of bench/throughput.ts's "binding, 2 workers" rows: attaches the
// queue the main thread handed over and either reads (counting, done after
// `idleMs` without a packet) or writes one flow's packet for `seconds`,
// honouring backpressure. Times are absolute (timeOrigin + now) because each
// thread's performance.now() has its own origin.
import { once } from 'node:events';
import { parentPort, workerData } from 'node:worker_threads';
import { attachQueue, type QueueHandle } from '../../src/binding/native/worker-queue.js';
import { buildUdp4 } from './packet.js';

interface ReadJob { role: 'read'; handle: QueueHandle; idleMs: number; maxS: number }
interface WriteJob { role: 'write'; handle: QueueHandle; seconds: number; src: string; dst: string; srcPort: number; dstPort: number; payload: number }
const job = workerData as ReadJob | WriteJob;
const clock = () => performance.timeOrigin + performance.now();
const queue = attachQueue(job.handle);

if (job.role === 'read') {
  let packets = 0;
  let bytes = 0;
  let first = 0;
  let last = 0;
  queue.on('packets', (batch: Buffer[]) => {
    const t = clock();
    if (!packets) first = t;
    last = t;
    packets += batch.length;
    for (const p of batch) bytes += p.length;
  });
  queue.resume();
  const start = clock();
  const timer = setInterval(() => {
    const t = clock();
    if ((packets && t - last > job.idleMs) || t - start > job.maxS * 1000) {
      clearInterval(timer);
      queue.close();
      parentPort!.postMessage({ packets, bytes, first, last });
    }
  }, 20);
  parentPort!.postMessage('ready');
} else {
  const pkt = buildUdp4(job.src, job.dst, job.srcPort, job.dstPort, job.payload);
  parentPort!.once('message', async () => {
    const first = clock();
    const end = first + job.seconds * 1000;
    while (clock() < end) {
      for (let i = 0; i < 256; i++) if (!queue.write(pkt)) await once(queue, 'drain');
    }
    if (queue.stats().pendingWrites > 0) await once(queue, 'drain');
    const { txPackets, txBytes } = queue.stats();
    const last = clock();
    queue.close();
    parentPort!.postMessage({ packets: txPackets, bytes: txBytes, first, last });
  });
  parentPort!.postMessage('ready');
}
