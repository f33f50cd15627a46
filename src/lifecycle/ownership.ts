// Ownership: how a link says this package made it, and which process did.
// The tag ('tun-lifecycle:<pid>' in ifalias) tells our leftovers from anyone
// else's links: create reclaims a tagged leftover whose owner is gone, the
// CLI reports and reclaims them, the teardown batch deletes only what carries
// our tag. The groups (IFLA_GROUP) let one request delete many links at once.

/** ifalias prefix marking an interface this package made (followed by the owning pid). */
export const TAG_PREFIX = 'tun-lifecycle:';

/** The tag this process writes on every interface it makes. */
export function ownTag(): string {
  return `${TAG_PREFIX}${process.pid}`;
}

export interface TagInfo {
  tagged: boolean;
  /** The owner process, when tagged with a valid pid. */
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
    // EPERM: it exists but belongs to someone else.
    return (error as { code?: string }).code === 'EPERM';
  }
}

/**
 * IFLA_GROUP every interface this process makes is put in at creation (free:
 * it rides in the same RTM_NEWLINK as the MTU and alias). When all of them
 * are cleaned up together, one RTM_DELLINK for this group deletes them all
 * without tagging each first. High bit set, then the pid: no two live
 * processes of one pid namespace share it, and batch groups never collide with it.
 */
export function adapterGroup(): number {
  return (0x80000000 | (process.pid & 0x7fffffff)) >>> 0;
}

/**
 * A group for one teardown batch that is not every link of this process:
 * 0x6c000000 (high bit clear, so never an adapter group), the low 10 bits
 * of our pid, then a 16-bit counter — unlikely to be anyone else's.
 */
export function batchGroup(counter: number): number {
  return (0x6c000000 | ((process.pid & 0x3ff) << 16) | (counter & 0xffff)) >>> 0;
}
