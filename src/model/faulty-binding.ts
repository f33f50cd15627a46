// Any TunBinding with the simulated binding's fault controls in front of it:
// `faults.fail(op, errno)`, `faults.hang(op)`, `faults.delay(op, ms)`. Used to
// make the outcomes the kernel cannot be asked for (a transient EBUSY on one
// call, a step that hangs) happen to the native binding, while everything
// else stays real.

import { FaultInjector } from '../binding/simulated/faults.js';
import type { BindingOp } from '../binding/simulated/faults.js';
import { planOps } from '../binding/contract/link-plan.js';
import type { LinkPlan, OpenOptions, TunBinding } from '../binding/contract/types.js';

export type FaultyBinding = TunBinding & { readonly faults: FaultInjector; readonly inner: TunBinding };

const ASYNC_OPS = [
  'open', 'getLink', 'listLinks', 'setMtu', 'setUp', 'setAlias', 'setGroup', 'addAddress', 'deleteAddress',
  'listAddresses', 'addRoute', 'deleteRoute', 'listRoutes', 'deleteLink', 'deleteLinkGroup',
] as const satisfies readonly BindingOp[];

/** A plan's single requests; none for a bad plan (the inner binding refuses it). */
function opsOf(plan: LinkPlan): BindingOp[] {
  try {
    return planOps(plan);
  } catch {
    return [];
  }
}

export function withFaults(inner: TunBinding, faults: FaultInjector = new FaultInjector()): FaultyBinding {
  const wrapped: Record<string, unknown> = {
    kind: inner.kind,
    faults,
    inner,
    monitor: (...args: Parameters<TunBinding['monitor']>) => {
      faults.enterSync('monitor');
      return inner.monitor(...args);
    },
    openFdCount: () => inner.openFdCount(),
  };
  if (inner.configure) {
    const configure = inner.configure.bind(inner);
    // The one-round-trip fast path stands for the single requests it makes, in
    // its order: a fault armed on any of them fails the whole call, as the
    // kernel's refusal of that step would.
    wrapped.configure = async (ifindex: number, plan: LinkPlan) => {
      const steps: BindingOp[] = [
        ...(plan.alias !== undefined ? ['setAlias' as const] : []),
        ...(plan.group !== undefined ? ['setGroup' as const] : []),
        ...(plan.mtu !== undefined ? ['setMtu' as const] : []),
        ...(plan.addresses ?? []).map(() => 'addAddress' as const),
        ...(plan.up !== undefined ? ['setUp' as const] : []),
        ...(plan.routes ?? []).map(() => 'addRoute' as const),
      ];
      for (const step of steps) await faults.enter(step);
      return configure(ifindex, plan);
    };
  }
  for (const op of ASYNC_OPS) {
    wrapped[op] = async (...args: unknown[]) => {
      const name = op === 'getLink' && typeof args[0] === 'string' ? args[0] : undefined;
      await faults.enter(op, name);
      // open({ configure: plan }) also stands for the plan's single requests.
      const plan = op === 'open' ? (args[0] as OpenOptions | undefined)?.configure : undefined;
      if (plan !== undefined) for (const step of opsOf(plan)) await faults.enter(step);
      return (inner[op] as (...a: unknown[]) => Promise<unknown>)(...args);
    };
  }
  return wrapped as unknown as FaultyBinding;
}
