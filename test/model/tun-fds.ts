// TUN queue fds this process holds, counted from /proc/self/fd (what the
// kernel says, not what the binding thinks it has open).

import { readdirSync, readlinkSync } from 'node:fs';

export function tunFdCount(): number {
  let count = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) === '/dev/net/tun') count++;
    } catch {
      // closed between listing and reading
    }
  }
  return count;
}
