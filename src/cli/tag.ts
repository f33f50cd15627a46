// Reading the ownership tag tun-lifecycle writes into an interface's ifalias
// ('tun-lifecycle:<pid>'), to tell our leftovers from anyone else's links.

import { TAG_PREFIX } from '../lifecycle/session.js';

export interface TagInfo {
  tagged: boolean;
  /** The owner process, when tagged. */
  pid: number | undefined;
  /** Whether that process still exists. */
  ownerAlive: boolean;
}

export function readTag(alias: string): TagInfo {
  if (!alias.startsWith(TAG_PREFIX)) return { tagged: false, pid: undefined, ownerAlive: false };
  const pid = Number(alias.slice(TAG_PREFIX.length));
  if (!Number.isInteger(pid) || pid <= 0) return { tagged: true, pid: undefined, ownerAlive: false };
  return { tagged: true, pid, ownerAlive: isAlive(pid) };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: string }).code === 'EPERM';
  }
}
