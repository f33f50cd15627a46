// Letting go of the device: close the queue fds first, then delete a
// persistent link. The other order is what made the reference design fail
// with EBUSY; closing first also makes a non-persistent link vanish by itself.

import type { InterfaceSession } from './session.js';
import { tolerate } from './kernel-errors.js';

export async function releaseDevice(session: InterfaceSession): Promise<void> {
  session.closeFds();
  for (const ifindex of [...session.madeLinks.keys()]) {
    await tolerate(() => session.binding.deleteLink(ifindex), 'ENODEV');
    session.madeLinks.delete(ifindex);
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
