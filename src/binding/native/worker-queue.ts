// A TUN queue owned by a worker_threads Worker. The owning thread keeps the
// lifecycle (open, configure, verify, recover, cleanup) and hands queue i over
// with queue.handOff(); the worker attaches with attachQueue(handle) and reads
// and writes with the same batched API ('packets' events, write()). The queue
// is then the worker's environment's: when the worker exits or is terminated,
// the addon's environment cleanup hook closes it. When the interface goes
// (cleanup deletes it), the worker's queue ends with 'error' then 'close',
// like any queue whose device is gone. A handle never attached is closed by
// reclaimQueue(handle) (the owner calls it when the worker exits).

import { loadAddon } from './addon.js';
import { NativePacketQueue, NativeTunDevice, type QueueHandle } from './device.js';
import type { PacketQueue } from '../contract/types.js';

export type { QueueHandle } from './device.js';

/** This thread's queue for a handle made by handOff() on another (EBADF: unknown or already attached). */
export function attachQueue(handle: QueueHandle): PacketQueue {
  const addon = loadAddon();
  const raw = addon.adoptQueue(handle.token);
  // A device of one queue (index kept) that only this thread sees; closing it closes the queue.
  const device = new NativeTunDevice(
    { name: handle.interfaceName, ifindex: handle.ifindex, mtu: handle.mtu, created: true, offloadMask: 0, offloadErrno: 0, queues: [raw] },
    false, () => {}, [new NativePacketQueue(handle.index)], undefined, handle.offload,
  );
  return device.queues[0]!;
}

/** Closes a handed-off queue that was never attached; false when a thread attached it. */
export function reclaimQueue(handle: QueueHandle): boolean {
  return loadAddon().reclaimQueue(handle.token);
}
