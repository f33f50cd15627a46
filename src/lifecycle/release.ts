// Letting go of the device. A persistent link: close the queue fds first,
// then delete it (the other order is what made the reference design fail
// with EBUSY). A non-persistent link vanishes when its last fd closes, but
// the kernel unregisters it inside close(2) itself: ~15 ms with the event
// loop stopped. So it is deleted first over rtnetlink, on the threadpool, as
// the batched teardown does; the close that follows then costs microseconds.
// RTM_DELLINK under open fds detaches the queues without EBUSY.

import type { InterfaceSession } from './session.js';
import { tolerate } from './kernel-errors.js';

export async function releaseDevice(session: InterfaceSession): Promise<void> {
  const device = session.device;
  if (device && !device.persistent && !device.closed) {
    // Paused queues do not read, so they never see the EBADFD the deletion causes.
    session.markReleasing();
    session.pause();
    try {
      await tolerate(() => session.binding.deleteLink(device.ifindex), 'ENODEV');
    } catch (error) {
      // Closing the fds below still removes it, only slower: the release must not fail here.
      session.log('debug', { interface: session.name, error }, `tun-lifecycle: ${session.name} delete before close failed; closing`);
    }
  }
  session.closeFds();
  for (const ifindex of [...session.madeLinks.keys()]) {
    await tolerate(() => session.binding.deleteLink(ifindex), 'ENODEV');
    session.forgetLink(ifindex);
  }
}

/** Roll back a failed attempt; never throws (the attempt's own error is what matters). */
export async function rollback(session: InterfaceSession): Promise<void> {
  try {
    await releaseDevice(session);
  } catch (error) {
    // What could not be deleted stays in madeLinks: the next attempt's reclaim or cleanup removes it.
    session.log('warn', { interface: session.name, error }, `tun-lifecycle: ${session.name} rollback incomplete`);
  }
}
