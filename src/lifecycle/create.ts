// One create attempt: open the device (reclaiming a tagged leftover only if
// the name is taken), tag it, configure it (MTU, addresses, link up, routes), then read the kernel back.
// Any failure rolls back what this attempt made before the error goes up to
// the statechart, which decides between retrying and giving up.

import type { CreateOutput } from '../../machines/types.js';
import type { LinkPlan, OpenOptions, TunDevice } from '../binding/contract/types.js';
import type { InterfaceSession } from './session.js';
import { adapterGroup, ownTag, readTag } from './ownership.js';
import { codeOf, isGone } from './kernel-errors.js';
import { rollback } from './release.js';
import { verifyConfigured } from './verify.js';

let creationsInFlight = 0;

/** Creates running now in this thread: while any runs, a new link may be joining the adapter group. */
export function creationsRunning(): number {
  return creationsInFlight;
}

export async function createInterface(session: InterfaceSession): Promise<CreateOutput> {
  creationsInFlight += 1;
  try {
    return await createOnce(session);
  } finally {
    creationsInFlight -= 1;
  }
}

async function createOnce(session: InterfaceSession): Promise<CreateOutput> {
  const { binding, link } = session;
  // Awaited only when there is something to delete: an await here would let
  // the snapshot's observers run before the kernel request goes out.
  if (session.madeLinks.size > 0) await deleteOwnLeftovers(session);
  // Open and configure in one kernel round trip: all or nothing, so a failed
  // step leaves no device behind (the binding rolled it back) and nothing here
  // has been adopted yet.
  // With verification on, the binding reads the kernel back in the same
  // round trip (OpenOptions.readBack); verifying a reading taken after the
  // plan ran is the same check as asking afterwards, minus three trips.
  const openOptions: OpenOptions = {
    name: session.requestedName,
    ...link.open,
    configure: linkPlan(session),
    readBack: link.validateState,
  };
  let device: TunDevice;
  try {
    device = await binding.open(openOptions);
  } catch (error) {
    // A leftover is looked for only when the name is taken: the look-up is a
    // kernel round trip every create would otherwise pay for nothing.
    if (codeOf(error) !== 'EEXIST' || !(await reclaimLeftover(session))) throw error;
    device = await binding.open(openOptions);
  }
  session.adopt(device);
  try {
    if (link.validateState) await verifyConfigured(session, device.readBack);
    return { name: device.name, ifindex: device.ifindex };
  } catch (error) {
    await rollback(session);
    throw error;
  }
}

/**
 * Tag (alias and adapter group), MTU, addresses, link up, routes — routes
 * last: the kernel refuses a route via a down link. (LinkPlan's own order.)
 */
export function linkPlan(session: InterfaceSession): LinkPlan {
  const { mtu, addresses, routes } = session.link.plan;
  return {
    alias: ownTag(),
    group: adapterGroup(),
    ...(mtu === undefined ? {} : { mtu }),
    addresses,
    up: true,
    routes,
  };
}

/** Our own undeleted persistent links (a rollback whose delete failed) go before the name is made again. */
async function deleteOwnLeftovers(session: InterfaceSession): Promise<void> {
  const { binding } = session;
  for (const ifindex of [...session.madeLinks.keys()]) {
    try {
      await binding.deleteLink(ifindex);
    } catch (error) {
      if (!isGone(error)) throw error;
    }
    session.forgetLink(ifindex);
  }
}

/**
 * The name is taken. A persistent interface left by an earlier run of this
 * package (tagged, its owner process gone) is deleted so the name can be made
 * afresh; true when the name is free now. Anything else — untagged, or tagged
 * by a process still alive — is never touched: open()'s EEXIST stands.
 */
async function reclaimLeftover(session: InterfaceSession): Promise<boolean> {
  const { binding } = session;
  if (session.requestedName.includes('%')) return false;
  let link;
  try {
    link = await binding.getLink(session.requestedName);
  } catch (error) {
    if (isGone(error)) return true;
    throw error;
  }
  const tag = readTag(link.alias);
  if (tag.pid === undefined || tag.ownerAlive) return false;
  session.log('info', { interface: link.name, ifindex: link.ifindex, alias: link.alias },
    `tun-lifecycle: reclaiming ${link.name}, left by process ${tag.pid}`);
  try {
    await binding.deleteLink(link.ifindex);
  } catch (error) {
    if (!isGone(error)) throw error;
  }
  return true;
}
