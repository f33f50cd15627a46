// Recovery after a fault seen while ready. If the interface is gone (deleted
// from outside, its fds dead), release what is left of it and create it
// afresh; if it is still there, re-apply what changed (link up, missing
// addresses, routes, MTU) in place, and remove what this adapter added that
// is no longer desired (the session's strays: a reconfiguration whose undo
// failed) — never anything else on the link. Same contract as create: the
// statechart retries transient failures with the same policy.

import type { CreateOutput } from '../../machines/types.js';
import type { InterfaceSession } from './session.js';
import { createInterface } from './create.js';
import { isGone, tolerate } from './kernel-errors.js';
import { releaseDevice } from './release.js';
import { desiredRouteKey, routeKey, routeKeys } from '../binding/contract/route-metric.js';
import { verifyConfigured } from './verify.js';

export async function recoverInterface(session: InterfaceSession): Promise<CreateOutput> {
  if (!(await stillThere(session))) {
    await releaseDevice(session);
    // A new interface holds nothing of the old one's.
    session.forgetStrays();
    return createInterface(session);
  }
  await reconfigure(session);
  if (session.link.validateState) await verifyConfigured(session);
  return { name: session.name, ifindex: session.ifindex! };
}

async function stillThere(session: InterfaceSession): Promise<boolean> {
  const device = session.device;
  if (!device || device.closed || device.queues.some((queue) => queue.closed)) return false;
  try {
    await session.binding.getLink(session.ifindex!);
    return true;
  } catch (error) {
    if (isGone(error)) return false;
    throw error;
  }
}

async function reconfigure(session: InterfaceSession): Promise<void> {
  const { binding, link: wanted } = session;
  const ifindex = session.ifindex!;
  const link = await binding.getLink(ifindex);
  if (wanted.mtu !== undefined && link.mtu !== wanted.mtu) await binding.setMtu(ifindex, wanted.mtu);
  await removeStrays(session);
  const present = new Set((await binding.listAddresses(ifindex)).map((a) => a.cidr));
  for (const address of wanted.addresses) {
    if (!present.has(address.cidr)) await tolerate(() => binding.addAddress(ifindex, address.cidr), 'EEXIST');
  }
  if (!link.up) await binding.setUp(ifindex, true);
  // Setting a link down flushes its routes: put back whatever is missing.
  const routes = new Set((await binding.listRoutes(ifindex)).map((r) => routeKey(r.destination, r.metric)));
  for (const route of wanted.routes) {
    if (!routes.has(desiredRouteKey(route))) {
      await tolerate(() => binding.addRoute(ifindex, { destination: route.destination.cidr, metric: route.metric }), 'EEXIST');
    }
  }
}

/** Routes first (they may depend on the addresses), each only when present and not desired again. */
async function removeStrays(session: InterfaceSession): Promise<void> {
  const { binding, link: wanted, strays } = session;
  const ifindex = session.ifindex!;
  if (strays.addresses.size === 0 && strays.routes.size === 0) return;
  const desiredRoutes = routeKeys(wanted.routes);
  const routes = new Set((await binding.listRoutes(ifindex)).map((r) => routeKey(r.destination, r.metric)));
  for (const [key, route] of strays.routes) {
    if (desiredRoutes.has(key) || !routes.has(key)) continue;
    await tolerate(() => binding.deleteRoute(ifindex, route), 'ESRCH');
  }
  const desiredAddresses = new Set(wanted.addresses.map((a) => a.cidr));
  const addresses = await binding.listAddresses(ifindex);
  for (const cidr of strays.addresses) {
    if (desiredAddresses.has(cidr) || !addresses.some((a) => a.cidr === cidr)) continue;
    await tolerate(() => binding.deleteAddress(ifindex, cidr), 'EADDRNOTAVAIL');
  }
  session.forgetStrays();
}
