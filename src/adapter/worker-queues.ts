// Queue i of a ready adapter, run by a worker_threads Worker. The lifecycle
// stays with the adapter (this thread): configure, verify, recover, cleanup.
// The queue is handed off (native binding only: the handle carries a
// duplicate of the queue fd to the worker, which attaches with attachQueue());
// the worker reads and writes it with the same batched API.
//
// The rule, written once here: a worker that exits (or is terminated) has its
// queue closed by its environment's cleanup hook; the adapter counts that
// queue as gone and does NOT fault while another queue remains — only when
// every queue is gone is it a fault ('queue-error' with EBADF), recovered as
// any other. Cleanup deletes the interface first, so every worker's queue
// ends there ('error' with EBADFD, then 'close'), without a crash.

import type { Worker } from 'node:worker_threads';
import { TunSystemError } from '../binding/contract/system-error.js';
import type { PacketQueue } from '../binding/contract/types.js';
import type { QueueHandle } from '../binding/native/device.js';
import type { InterfaceSession } from '../lifecycle/session.js';

interface HandableQueue extends PacketQueue {
  handOff(): QueueHandle;
  released(): void;
}

export async function runQueueInWorker(session: InterfaceSession, index: number, start: (handle: QueueHandle) => Worker): Promise<Worker> {
  const device = session.device;
  const queue = device?.queues[index] as HandableQueue | undefined;
  if (!device || !queue) throw new RangeError(`no queue ${index} on ${session.name}`);
  if (typeof queue.handOff !== 'function') throw new TypeError('only the native binding hands queues to worker threads');
  const { reclaimQueue } = await import('../binding/native/worker-queue.js');
  const handle = queue.handOff();
  const gone = () => {
    reclaimQueue(handle);  // closes the fd if the worker never attached it
    queue.released();
    if (device.queues.every((q) => q.closed)) {
      session.emit('queue-error', new TunSystemError({ code: 'EBADF', syscall: 'read', interfaceName: device.name, message: 'every queue is gone (their workers exited)' }));
    }
  };
  let worker: Worker;
  try {
    worker = start(handle);
  } catch (error) {
    gone();
    throw error;
  }
  worker.once('exit', gone);
  return worker;
}
