// The metric the kernel gives a route: both the simulated kernel (adding one)
// and verification (reading one back) need the same answer.

import type { NormalizedRoute } from './validate.js';

/** IPv6 routes added with metric 0 get the kernel's default 1024. */
export function effectiveMetric(family: 4 | 6, metric: number): number {
  return family === 6 && metric === 0 ? 1024 : metric;
}

/** What tells one route of a link from another: its destination and the metric the kernel holds. */
export function routeKey(destination: string, metric: number): string {
  return `${destination}@${metric}`;
}

/** The key a desired route will have once the kernel holds it (IPv6 metric 0 read back as 1024). */
export function desiredRouteKey(route: { family: 4 | 6; destination: { cidr: string }; metric: number }): string {
  return routeKey(route.destination.cidr, effectiveMetric(route.family, route.metric));
}

/** A desired route as the kernel will hold it, and its key. */
export interface KeyedRoute {
  readonly route: Readonly<{ destination: string; metric: number }>;
  readonly key: string;
  /** The route normalized, with the metric the kernel will hold. */
  readonly parsed: NormalizedRoute;
}

const keyed = new WeakMap<readonly NormalizedRoute[], readonly KeyedRoute[]>();

/**
 * A desired route list in the form the kernel reads it back, with keys: made
 * once per list (a resolved configuration's lists are never changed, and one
 * reconfiguration's target is the next one's previous configuration), so a
 * thousand routes are not keyed again by each diff, verification and check.
 * The routes are frozen: the same objects reach every diff that lists them,
 * and a plan of them is packed from their parsed form (withParsedRoutes).
 */
export function keyedRoutes(routes: readonly NormalizedRoute[]): readonly KeyedRoute[] {
  let list = keyed.get(routes);
  if (!list) {
    list = routes.map((r) => {
      const metric = effectiveMetric(r.family, r.metric);
      const route = Object.freeze({ destination: r.destination.cidr, metric });
      // What a plan packs (withParsedRoutes): the route as the kernel will hold it, parsed.
      const parsed = metric === r.metric ? r : { ...r, metric };
      return { route, key: routeKey(route.destination, route.metric), parsed };
    });
    keyed.set(routes, list);
  }
  return list;
}

const keySets = new WeakMap<readonly NormalizedRoute[], ReadonlySet<string>>();

/** The keys of keyedRoutes(routes) as a set, made once per list as that is (diffs and the monitor ask for it on every change). */
export function routeKeys(routes: readonly NormalizedRoute[]): ReadonlySet<string> {
  let keys = keySets.get(routes);
  if (!keys) {
    keys = new Set(keyedRoutes(routes).map((r) => r.key));
    keySets.set(routes, keys);
  }
  return keys;
}

/** Which routes a reading of the kernel holds, asked by destination and metric. */
export interface HeldRoutes {
  has(destination: string, metric: number): boolean;
}

/**
 * The routes read back, by destination: no key string is made per route (a
 * reading of a thousand routes is checked on every reconfiguration); the rare
 * destination held with several metrics keeps its other metrics aside.
 */
export function heldRoutes(routes: ReadonlyArray<{ destination: string; metric: number }>): HeldRoutes {
  const first = new Map<string, number>();
  let more: Set<string> | undefined;
  for (const { destination, metric } of routes) {
    const held = first.get(destination);
    if (held === undefined) first.set(destination, metric);
    else if (held !== metric) (more ??= new Set()).add(routeKey(destination, metric));
  }
  return { has: (destination, metric) => first.get(destination) === metric || (more?.has(routeKey(destination, metric)) ?? false) };
}

/** The desired routes a reading of the kernel does not hold (verification and the monitor's attach check ask the same). */
export function missingRoutes(
  reading: ReadonlyArray<{ destination: string; metric: number }>, wanted: readonly NormalizedRoute[],
): Array<KeyedRoute['route']> {
  const held = heldRoutes(reading);
  const missing: Array<KeyedRoute['route']> = [];
  for (const { route } of keyedRoutes(wanted)) if (!held.has(route.destination, route.metric)) missing.push(route);
  return missing;
}
