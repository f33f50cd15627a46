// A LinkPlan checked whole and laid out as the requests both bindings make,
// in the one order LinkPlan documents. The native binding sends these steps
// from one threadpool worker; the simulated binding runs the single operation
// each stands for through its fault injector. Both number steps the same way,
// so a failure's `step` means the same thing on either.

import type { BindingOp } from './operations.js';
import type { LinkPlan, RouteSpec, TunBinding } from './types.js';
import {
  InvalidArgumentTypeError, InvalidArgumentValueError, normalizeRoute, parseCidr, validateBoolean, validateInteger,
  validateMtu, type NormalizedRoute, type ParsedCidr,
} from './validate.js';

/** IFALIASZ - 1 */
export const MAX_ALIAS_BYTES = 255;

export type PlanStep =
  /** One RTM_NEWLINK carrying whichever of mtu/alias/group the plan gives. */
  | { kind: 'link'; mtu?: number; alias?: string; group?: number }
  | { kind: 'address'; add: boolean; cidr: ParsedCidr }
  | { kind: 'up'; up: boolean }
  | { kind: 'route'; add: boolean; route: NormalizedRoute };

export function validateAlias(alias: unknown, argument = 'alias'): string {
  if (typeof alias !== 'string') throw new InvalidArgumentTypeError(argument, 'a string', alias);
  if (Buffer.byteLength(alias) > MAX_ALIAS_BYTES) {
    throw new InvalidArgumentValueError(argument, `must be at most ${MAX_ALIAS_BYTES} bytes`, alias);
  }
  if (alias.includes('\0')) throw new InvalidArgumentValueError(argument, 'must not contain NUL', alias);
  return alias;
}

/**
 * Route lists whose routes are already normalized: a reconfiguration hands
 * the binding the routes it validated, and a thousand of them parsed a second
 * time cost more than the kernel's batch. One entry per list (not per route:
 * a thousand WeakMap entries a call cost the collector more than the parse);
 * the list and its routes frozen, so they can never say anything else than
 * what was checked.
 */
const parsedLists = new WeakMap<readonly unknown[], readonly NormalizedRoute[]>();

/** `parsed[i]` is `routes[i]` normalized: a plan listing `routes` is packed from `parsed`. */
export function withParsedRoutes<T extends Readonly<Required<RouteSpec>>>(routes: T[], parsed: readonly NormalizedRoute[]): T[] {
  Object.freeze(routes);
  const agree = routes.length === parsed.length && routes.every((r, i) => Object.isFrozen(r)
    && r.destination === parsed[i]!.destination.cidr && r.metric === parsed[i]!.metric);
  if (!agree) throw new Error('tun-lifecycle: internal error: parsed routes that do not match their specs');
  parsedLists.set(routes, parsed);
  return routes;
}

/** Every part validated before any step is returned, so a bad plan never reaches the kernel. */
export function planSteps(plan: unknown, argument = 'plan'): PlanStep[] {
  if (plan === null || typeof plan !== 'object' || Array.isArray(plan)) {
    throw new InvalidArgumentTypeError(argument, 'an object', plan);
  }
  const p = plan as LinkPlan;
  const steps: PlanStep[] = [];
  const routes = (list: unknown, key: string, add: boolean) => {
    if (!Array.isArray(list)) throw new InvalidArgumentTypeError(`${argument}.${key}`, 'an array of routes', list);
    const parsed = parsedLists.get(list);
    if (parsed) {
      for (const route of parsed) steps.push({ kind: 'route', add, route });
      return;
    }
    list.forEach((route, i) => steps.push({ kind: 'route', add, route: normalizeRoute(route, `${argument}.${key}[${i}]`) }));
  };
  const addresses = (list: unknown, key: string, add: boolean) => {
    if (!Array.isArray(list)) throw new InvalidArgumentTypeError(`${argument}.${key}`, 'an array of CIDR strings', list);
    list.forEach((cidr, i) => steps.push({ kind: 'address', add, cidr: parseCidr(cidr, `${argument}.${key}[${i}]`) }));
  };
  if (p.removeRoutes !== undefined) routes(p.removeRoutes, 'removeRoutes', false);
  if (p.removeAddresses !== undefined) addresses(p.removeAddresses, 'removeAddresses', false);
  const link: PlanStep & { kind: 'link' } = { kind: 'link' };
  if (p.mtu !== undefined) link.mtu = validateMtu(p.mtu, `${argument}.mtu`);
  if (p.alias !== undefined) link.alias = validateAlias(p.alias, `${argument}.alias`);
  if (p.group !== undefined) link.group = validateInteger(p.group, `${argument}.group`, 0, 0xffffffff);
  if (link.mtu !== undefined || link.alias !== undefined || link.group !== undefined) steps.push(link);
  if (p.addresses !== undefined) addresses(p.addresses, 'addresses', true);
  if (p.up !== undefined) steps.push({ kind: 'up', up: validateBoolean(p.up, `${argument}.up`) });
  if (p.routes !== undefined) routes(p.routes, 'routes', true);
  return steps;
}

/** The single operations a plan's steps stand for; each takes the ifindex and one argument. */
export type SingleOp = 'setAlias' | 'setGroup' | 'setMtu' | 'addAddress' | 'deleteAddress' | 'setUp' | 'addRoute' | 'deleteRoute';

/** One single binding call: `binding[op](ifindex, arg)`. */
export type SingleCall = { [Op in SingleOp]: { op: Op; arg: Parameters<TunBinding[Op]>[1] } }[SingleOp];

/**
 * The single binding calls one step stands for, in order (the link step is
 * one request but three single calls: alias, group, MTU). The simulated
 * binding runs a plan as these calls; fault injection counts them.
 */
export function callsOfStep(step: PlanStep): SingleCall[] {
  switch (step.kind) {
    case 'link': {
      const calls: SingleCall[] = [];
      if (step.alias !== undefined) calls.push({ op: 'setAlias', arg: step.alias });
      if (step.group !== undefined) calls.push({ op: 'setGroup', arg: step.group });
      if (step.mtu !== undefined) calls.push({ op: 'setMtu', arg: step.mtu });
      return calls;
    }
    case 'address': return [{ op: step.add ? 'addAddress' : 'deleteAddress', arg: step.cidr.cidr }];
    case 'up': return [{ op: 'setUp', arg: step.up }];
    case 'route': {
      const arg = { destination: step.route.destination.cidr, metric: step.route.metric };
      return [step.add ? { op: 'addRoute', arg } : { op: 'deleteRoute', arg }];
    }
  }
}

/** The single operations a plan stands for, in order (for fault injection around any binding). */
export function planOps(plan: LinkPlan): BindingOp[] {
  return planSteps(plan).flatMap((step) => callsOfStep(step).map((call) => call.op));
}

/** Steps (in LinkPlan's order, as planSteps makes them) as a plan again: a plan's prefix, an undo. */
export function planFromSteps(steps: readonly PlanStep[]): LinkPlan {
  const plan: LinkPlan = {};
  const push = <K extends 'removeRoutes' | 'removeAddresses' | 'addresses' | 'routes'>(key: K, item: NonNullable<LinkPlan[K]>[number]) => {
    ((plan[key] as unknown[] | undefined) ??= []).push(item);
  };
  for (const step of steps) {
    switch (step.kind) {
      case 'link':
        if (step.mtu !== undefined) plan.mtu = step.mtu;
        if (step.alias !== undefined) plan.alias = step.alias;
        if (step.group !== undefined) plan.group = step.group;
        break;
      case 'up': plan.up = step.up; break;
      case 'address': push(step.add ? 'addresses' : 'removeAddresses', step.cidr.cidr); break;
      case 'route': {
        const route = { destination: step.route.destination.cidr, metric: step.route.metric };
        push(step.add ? 'routes' : 'removeRoutes', route);
        break;
      }
    }
  }
  return plan;
}

/**
 * The plan that undoes the given address and route steps of a plan (the
 * native binding's batch carried them out past a failure): each added one
 * removed, each removed one added back, newest first — which is LinkPlan's
 * own order again.
 */
export function inversePlan(steps: readonly PlanStep[]): LinkPlan {
  return planFromSteps([...steps].reverse().flatMap((step) => (step.kind === 'address' || step.kind === 'route' ? [{ ...step, add: !step.add }] : [])));
}
