// How many of this process's fds still point at /dev/net/tun: the kernel's
// own answer to "were the queue fds really closed?", independent of the
// binding's bookkeeping.

import { readdirSync, readlinkSync } from 'node:fs';

export function tunFdsOpen(): number {
  let count = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) === '/dev/net/tun') count += 1;
    } catch {
      // the directory's own fd, closed while we looked
    }
  }
  return count;
}
