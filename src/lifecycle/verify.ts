// Reading the kernel back. After configuring: does it hold what was asked?
// After cleanup: is everything gone? Both answer with a list of differences,
// so an error can say exactly what is wrong.

import { StateMismatchError } from '../errors.js';
import type { InterfaceSession } from './session.js';
import type { AdapterLink } from '../options.js';
import type { KernelView, MonitorBaseline } from '../binding/contract/types.js';
import { missingRoutes, routeKey, routeKeys } from '../binding/contract/route-metric.js';
import { isGone } from './kernel-errors.js';

/** How the kernel differs from `wanted` (the desired configuration unless told). */
export async function configurationDifferences(session: InterfaceSession, wanted: AdapterLink = session.link): Promise<string[]> {
  const { binding } = session;
  const ifindex = session.ifindex!;
  const link = await binding.getLink(ifindex);
  const addresses = await binding.listAddresses(ifindex);
  const routes = await binding.listRoutes(ifindex);
  return differencesIn({ link, addresses, routes }, wanted);
}

/** One way a reading of the link differs from the configuration wanted. */
export type Difference =
  | { kind: 'down' }
  | { kind: 'mtu'; mtu: number; wanted: number }
  | { kind: 'address'; cidr: string }
  | { kind: 'route'; destination: string; metric: number };

/**
 * How a reading of the link (a read-back, a monitor's baseline) differs from
 * `wanted`, in this order: down, its MTU, each address missing, each route
 * missing. Each reader words them its own way.
 */
export function differencesOf({ up, mtu, addresses, routes }: MonitorBaseline, wanted: AdapterLink): Difference[] {
  const differences: Difference[] = [];
  if (!up) differences.push({ kind: 'down' });
  if (wanted.mtu !== undefined && mtu !== wanted.mtu) differences.push({ kind: 'mtu', mtu, wanted: wanted.mtu });
  // Keyed: a configuration may hold thousands of routes.
  const addressSet = new Set(addresses.map((a) => a.cidr));
  for (const address of wanted.addresses) if (!addressSet.has(address.cidr)) differences.push({ kind: 'address', cidr: address.cidr });
  for (const route of missingRoutes(routes, wanted.routes)) differences.push({ kind: 'route', destination: route.destination, metric: route.metric });
  return differences;
}

/** How one reading of the kernel differs from `wanted`, as verification says it. */
export function differencesIn({ link, addresses, routes }: KernelView, wanted: AdapterLink): string[] {
  return differencesOf({ up: link.up, mtu: link.mtu, addresses, routes }, wanted).map((difference) => {
    switch (difference.kind) {
      case 'down': return 'link is down';
      case 'mtu': return `mtu is ${difference.mtu}, asked ${difference.wanted}`;
      case 'address': return `address ${difference.cidr} missing`;
      case 'route': return `route ${difference.destination} metric ${difference.metric} missing`;
    }
  });
}

/** Addresses and routes on the link that the desired configuration does not list: someone else's, left alone. */
export interface Drift {
  addresses: string[];
  routes: Array<{ destination: string; metric: number }>;
}

export async function driftOf(session: InterfaceSession): Promise<Drift> {
  const { binding, link: wanted } = session;
  const ifindex = session.ifindex!;
  const addresses = await binding.listAddresses(ifindex);
  const routes = await binding.listRoutes(ifindex);
  const ownAddresses = new Set(wanted.addresses.map((a) => a.cidr));
  const ownRoutes = routeKeys(wanted.routes);
  return {
    // The kernel's own link-local address is nobody's drift.
    addresses: addresses.filter((a) => !a.address.startsWith('fe80:') && !ownAddresses.has(a.cidr)).map((a) => a.cidr),
    routes: routes.filter((r) => !ownRoutes.has(routeKey(r.destination, r.metric))).map((r) => ({ destination: r.destination, metric: r.metric })),
  };
}

/** readBack: what the open read after its plan (OpenOptions.readBack), when it did; else the kernel is asked now. */
export async function verifyConfigured(session: InterfaceSession, readBack?: KernelView): Promise<void> {
  const differences = readBack ? differencesIn(readBack, session.link) : await configurationDifferences(session);
  // No state given: verification runs while creating and while recovering alike.
  if (differences.length > 0) throw new StateMismatchError(differences, { interfaceName: session.name });
}

/**
 * What is left of this session in the kernel: the interface, an address or a
 * route on it, an open fd, a persistent link it made. Empty means clean.
 */
export async function findLeftovers(session: InterfaceSession): Promise<string[]> {
  const { binding } = session;
  const leftovers: string[] = [];
  if (session.fdsOpen) leftovers.push('open queue fds');
  const ifindexes = new Set<number>(session.madeLinks.keys());
  if (session.ifindex !== undefined) ifindexes.add(session.ifindex);
  for (const ifindex of ifindexes) {
    if (session.confirmedGone === ifindex) {
      session.forgetLink(ifindex);
      continue;
    }
    try {
      const link = await binding.getLink(ifindex);
      leftovers.push(`interface ${link.name} (ifindex ${ifindex})`);
    } catch (error) {
      if (!isGone(error)) throw error;
      session.forgetLink(ifindex);
      continue;
    }
    const addresses = await binding.listAddresses(ifindex).catch(emptyIfGone);
    for (const address of addresses) if (!address.address.startsWith('fe80:')) leftovers.push(`address ${address.cidr}`);
    const routes = await binding.listRoutes(ifindex).catch(emptyIfGone);
    for (const route of routes) leftovers.push(`route ${route.destination}`);
  }
  return leftovers;
}

function emptyIfGone(error: unknown): never[] {
  if (isGone(error)) return [];
  throw error;
}
