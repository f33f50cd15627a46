// This process's file descriptors as the kernel lists them in /proc/self/fd:
// what a test checks a binding against, never the binding's own account.
// (The CLI has its own scan in src/cli/tun-fds.ts; tests do not lean on it.)

import { readdirSync, readlinkSync } from 'node:fs';

/** Every fd this process holds. */
export function openFdCount(): number {
  return readdirSync('/proc/self/fd').length;
}

/** The fds that point at /dev/net/tun: TUN queues still open. */
export function tunFdCount(): number {
  let count = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) === '/dev/net/tun') count++;
    } catch {
      // closed between listing and reading (the directory's own fd)
    }
  }
  return count;
}

/** What each fd points at ('socket:[123]', 'anon_inode:[eventfd]', a path): to say which fds a leak check found extra. */
export function openFdTargets(): string[] {
  const targets: string[] = [];
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      targets.push(readlinkSync(`/proc/self/fd/${fd}`).replace(/\[\d+\]$/u, '[…]'));
    } catch {
      // closed between listing and reading (the directory's own fd)
    }
  }
  return targets.sort();
}
