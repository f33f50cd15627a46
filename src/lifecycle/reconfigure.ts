// One reconfiguration attempt while ready: diff the configuration proposed
// against what the kernel holds (read back, never remembered), apply the
// difference in an order the kernel accepts — as one LinkPlan, whose order is
// that order, so the native binding sends a thousand routes in a few batched
// requests from one worker, which then reads the kernel back in the same trip
// (configure's readBack; a binding without it is asked separately) — verify
// that reading, and commit it as the desired configuration. A failed step (or verification) undoes the steps already
// applied, newest first (one plan again), and checks the undo took; the statechart then
// retries (transient errno) or gives up with the kernel as it was. The queues
// are never touched: packets keep flowing through the whole attempt.

import { RollbackFailedError, StateMismatchError } from '../errors.js';
import type { KernelView, LinkPlan, RouteSpec } from '../binding/contract/types.js';
import { withParsedRoutes } from '../binding/contract/link-plan.js';
import type { NormalizedRoute } from '../binding/contract/validate.js';
import { heldRoutes, keyedRoutes, routeKeys, type HeldRoutes } from '../binding/contract/route-metric.js';
import type { AdapterLink } from '../options.js';
import type { InterfaceSession } from './session.js';
import { configurationDifferences, differencesIn } from './verify.js';

/** What one reconfiguration changed in the kernel ('reconfigured' carries it). */
export interface ReconfigureDiff {
  addresses: { added: string[]; removed: string[] };
  routes: { added: Required<RouteSpec>[]; removed: Required<RouteSpec>[] };
  /** Present when the MTU changed. */
  mtu?: { from: number; to: number };
}

/**
 * One kernel change; its inverse is the same step the other way. Plain data
 * (a reconfiguration may hold ten thousand): planOf makes the plans of a list.
 */
type Step =
  | { kind: 'route'; add: boolean; route: Required<RouteSpec>; parsed: NormalizedRoute }
  | { kind: 'address'; add: boolean; cidr: string }
  | { kind: 'mtu'; from: number; to: number };

/** What the kernel holds, keyed: addresses by cidr, routes by destination and metric. */
interface KernelConfiguration {
  mtu: number;
  addresses: Set<string>;
  routes: HeldRoutes;
}

/** The step's failure was the reconfiguration's: the attempt was stopped (deadline) before it could finish. */
export class ReconfigureAbortedError extends Error {
  constructor() {
    super('reconfiguration stopped by its deadline; its steps were undone');
    this.name = 'ReconfigureAbortedError';
  }
}

const hasAddress = (kernel: KernelConfiguration, cidr: string) => kernel.addresses.has(cidr);
const hasRoute = (kernel: KernelConfiguration, route: Required<RouteSpec>) => kernel.routes.has(route.destination, route.metric);

function describe(step: Step): string {
  if (step.kind === 'mtu') return `set mtu ${step.from} → ${step.to}`;
  const what = step.kind === 'route' ? `route ${step.route.destination} metric ${step.route.metric}` : `address ${step.cidr}`;
  return `${step.add ? 'add' : 'remove'} ${what}`;
}

/** After its undo the kernel holds what it held before the step. */
function undone(step: Step, kernel: KernelConfiguration): boolean {
  if (step.kind === 'mtu') return kernel.mtu === step.from;
  const held = step.kind === 'route' ? hasRoute(kernel, step.route) : hasAddress(kernel, step.cidr);
  return held !== step.add;
}

/** What an add step puts in the kernel: ours, to be removed by recovery should its undo fail. */
function made(step: Step): { address?: string; route?: Required<RouteSpec> } | undefined {
  if (step.kind === 'mtu' || !step.add) return undefined;
  return step.kind === 'route' ? { route: step.route } : { address: step.cidr };
}

function keyed({ link, addresses, routes }: KernelView): KernelConfiguration {
  return { mtu: link.mtu, addresses: new Set(addresses.map((a) => a.cidr)), routes: heldRoutes(routes) };
}

async function readKernel(session: InterfaceSession): Promise<KernelConfiguration> {
  const { binding } = session;
  const ifindex = session.ifindex!;
  // One after another: concurrent requests would each take a netlink socket of the binding's pool.
  const link = await binding.getLink(ifindex);
  const addresses = await binding.listAddresses(ifindex);
  const routes = await binding.listRoutes(ifindex);
  return keyed({ link, addresses, routes });
}

/**
 * Steps laid end to end as one plan, each as it is (`forward`) or undone.
 * planChange makes them in LinkPlan's own order (and an undo, newest first,
 * is in that order again), so step i of the list is step i of the plan: a
 * failure's `step` names it.
 */
function planOf(steps: readonly Step[], forward: boolean): LinkPlan {
  const plan: LinkPlan = {};
  // Each route list goes with its parsed form: the binding packs it without parsing again.
  const added = { routes: [] as Required<RouteSpec>[], parsed: [] as NormalizedRoute[] };
  const removed = { routes: [] as Required<RouteSpec>[], parsed: [] as NormalizedRoute[] };
  for (const step of steps) {
    if (step.kind === 'mtu') {
      plan.mtu = forward ? step.to : step.from;
    } else if (step.kind === 'route') {
      const into = step.add === forward ? added : removed;
      into.routes.push(step.route);
      into.parsed.push(step.parsed);
    } else {
      (step.add === forward ? (plan.addresses ??= []) : (plan.removeAddresses ??= [])).push(step.cidr);
    }
  }
  if (removed.routes.length > 0) plan.removeRoutes = withParsedRoutes(removed.routes, removed.parsed);
  if (added.routes.length > 0) plan.routes = withParsedRoutes(added.routes, added.parsed);
  return plan;
}

/** Routes in the form the kernel reads them back (IPv6 metric 0 is 1024), keyed. */
const routesOf = (link: AdapterLink) => keyedRoutes(link.routes);

/**
 * The steps from `kernel` to `target`, in the order the kernel accepts:
 * routes out (before the addresses they may depend on), addresses out, the
 * MTU (after IPv6 addresses left, when going under 1280; before IPv6 ones
 * come, when going over it), addresses in, routes in (after the addresses).
 * Only what `previous` (the desired configuration so far) lists is removed:
 * what someone else added is never touched, nor taken over.
 */
export function planChange(
  previous: AdapterLink, target: AdapterLink, kernel: KernelConfiguration, desired: AdapterLink = previous,
): { steps: Step[]; diff: ReconfigureDiff } {
  const wantedAddresses = new Set(target.addresses.map((a) => a.cidr));
  const wantedRoutes = routeKeys(target.routes);
  // What is ours already and in place is left as it is; anything new is asked
  // for even when present: the kernel refuses (EEXIST) what someone else made.
  // (What recovery already put in place for the desired configuration is ours too.)
  const ownAddresses = new Set([...previous.addresses, ...desired.addresses].map((a) => a.cidr));
  const ownRoutes = desired === previous ? routeKeys(previous.routes) : new Set([...routeKeys(previous.routes), ...routeKeys(desired.routes)]);
  const diff: ReconfigureDiff = { addresses: { added: [], removed: [] }, routes: { added: [], removed: [] } };
  const steps: Step[] = [];

  for (const { route, key, parsed } of routesOf(previous)) {
    if (wantedRoutes.has(key) || !hasRoute(kernel, route)) continue;
    diff.routes.removed.push(route);
    steps.push({ kind: 'route', add: false, route, parsed });
  }
  for (const address of previous.addresses) {
    if (wantedAddresses.has(address.cidr) || !hasAddress(kernel, address.cidr)) continue;
    diff.addresses.removed.push(address.cidr);
    steps.push({ kind: 'address', add: false, cidr: address.cidr });
  }
  if (target.mtu !== undefined && target.mtu !== kernel.mtu) {
    const from = kernel.mtu;
    const to = target.mtu;
    diff.mtu = { from, to };
    steps.push({ kind: 'mtu', from, to });
  }
  for (const address of target.addresses) {
    if (ownAddresses.has(address.cidr) && hasAddress(kernel, address.cidr)) continue;
    diff.addresses.added.push(address.cidr);
    steps.push({ kind: 'address', add: true, cidr: address.cidr });
  }
  for (const { route, key, parsed } of routesOf(target)) {
    if (ownRoutes.has(key) && hasRoute(kernel, route)) continue;
    diff.routes.added.push(route);
    steps.push({ kind: 'route', add: true, route, parsed });
  }
  return { steps, diff };
}

/**
 * Apply `session.proposed` (the desired configuration when none is proposed).
 * Resolves with what changed once the kernel holds it (read back when
 * validateState is on) and it is the desired configuration. Rejects with the
 * failing step's error after undoing every step applied, or with
 * RollbackFailedError when the undo did not take.
 */
export async function reconfigureInterface(
  session: InterfaceSession, signal?: AbortSignal, onPlanned?: (diff: ReconfigureDiff) => void,
): Promise<ReconfigureDiff> {
  // What desire() replaced (in error) is ours too until this pass removes it.
  const previous = session.replaced ?? session.link;
  const target = session.proposed ?? session.link;
  const kernel = await readKernel(session);
  const { steps, diff } = planChange(previous, target, kernel, session.link);
  // What is about to be applied, for whoever shows it (the adapter's 'reconfiguring', the inspector).
  if (steps.length > 0) onPlanned?.(diff);
  let applied: readonly Step[] = [];
  // Verification's reads, made by the plan's own round trip when the binding can.
  let readBack: KernelView | undefined;
  try {
    if (signal?.aborted) throw new ReconfigureAbortedError();
    if (steps.length > 0) {
      try {
        readBack = await session.binding.configure(session.ifindex!, planOf(steps, true), { readBack: target.validateState });
      } catch (error) {
        // The plan stopped at `step`: the ones before it took.
        const at = (error as { step?: unknown } | null)?.step;
        applied = steps.slice(0, typeof at === 'number' ? at : 0);
        throw error;
      }
    }
    applied = steps;
    if (signal?.aborted) throw new ReconfigureAbortedError();
    if (target.validateState) {
      const differences = readBack ? differencesIn(readBack, target) : await configurationDifferences(session, target);
      if (differences.length > 0) throw new StateMismatchError(differences, { state: 'reconfiguring', interfaceName: session.name });
    }
  } catch (error) {
    session.log('warn', { interface: session.name, error, applied: applied.map(describe) },
      `tun-lifecycle: ${session.name} reconfiguration failed; undoing ${applied.length} step(s)`);
    await undo(session, applied, error);
    throw error;
  }
  session.commitProposed();
  return diff;
}

/** Undo `applied` newest first, then read the kernel back: every step must be undone. */
async function undo(session: InterfaceSession, applied: readonly Step[], cause: unknown): Promise<void> {
  const failed = (rollbackError: unknown): never => {
    // Recovery converges to the previous desired configuration, not to this
    // one, and removes what this attempt added and may have left behind.
    session.dropProposed();
    for (const step of applied) {
      const ours = made(step);
      if (ours) session.mayHaveLeft(ours);
    }
    throw new RollbackFailedError(rollbackError, { state: 'reconfiguring', interfaceName: session.name, cause });
  };
  if (applied.length === 0) return;
  let readBack: KernelView | undefined;
  try {
    readBack = await session.binding.configure(session.ifindex!, planOf([...applied].reverse(), false), { readBack: true });
  } catch (error) {
    failed(error);
  }
  let kernel: KernelConfiguration;
  try {
    kernel = readBack ? keyed(readBack) : await readKernel(session);
  } catch (error) {
    return failed(error);
  }
  const left = applied.filter((step) => !undone(step, kernel)).map(describe);
  if (left.length > 0) failed(new Error(`not undone: ${left.join('; ')}`));
}
