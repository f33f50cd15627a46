// Any TunBinding with the simulated binding's fault controls in front of it:
// `faults.fail(op, errno)`, `faults.hang(op)`, `faults.delay(op, ms)`. Used to
// make the outcomes the kernel cannot be asked for (a transient EBUSY on one
// call, a step that hangs) happen to the native binding, while everything
// else stays real.

import { FaultInjector } from '../binding/simulated/faults.js';
import { BINDING_OPS, OPERATIONS, type BindingOp } from '../binding/contract/operations.js';
import { callsOfStep, planFromSteps, planOps, planSteps, type PlanStep } from '../binding/contract/link-plan.js';
import type { LinkPlan, OpenOptions, TunBinding } from '../binding/contract/types.js';

export type FaultyBinding = TunBinding & { readonly faults: FaultInjector; readonly inner: TunBinding };

/** A plan's single requests; none for a missing or bad plan (the inner binding refuses a bad one). */
function opsOf(plan: LinkPlan | undefined): BindingOp[] {
  if (plan === undefined) return [];
  try {
    return planOps(plan);
  } catch {
    return [];
  }
}

/** The single requests one call stands for, each counted and faulted before the inner binding sees the call. */
function requestsOf(op: BindingOp, args: unknown[]): BindingOp[] {
  switch (op) {
    // The one-round-trip fast path stands for the single requests it makes, in
    // its order: a fault armed on any of them fails the whole call, as the
    // kernel's refusal of that step would.
    case 'configure': return opsOf(args[1] as LinkPlan | undefined);
    // open({ configure: plan }) is the open, then the plan's single requests.
    case 'open': return ['open', ...opsOf((args[0] as OpenOptions | undefined)?.configure)];
    default: return [op];
  }
}

/**
 * An open asks for no read-back through this wrapper: the reads a verification
 * makes then go through it one by one, where a test can fail or hold each
 * (a failing listAddresses after open handed the device over, say).
 */
function withoutReadBack(args: unknown[]): unknown[] {
  const options = args[0] as OpenOptions | undefined;
  return options?.readBack ? [{ ...options, readBack: false }, ...args.slice(1)] : args;
}

export function withFaults(inner: TunBinding, faults: FaultInjector = new FaultInjector()): FaultyBinding {
  const wrapped: Record<string, unknown> = {
    kind: inner.kind,
    faults,
    inner,
    openFdCount: () => inner.openFdCount(),
  };
  for (const op of BINDING_OPS) {
    const call = (args: unknown[]) => (inner[op] as (...a: unknown[]) => unknown).apply(inner, args);
    if (OPERATIONS[op].sync) {
      wrapped[op] = (...args: unknown[]) => {
        faults.enterSync(op);
        return call(args);
      };
      continue;
    }
    if (op === 'configure') {
      wrapped[op] = (ifindex: number, plan: LinkPlan) => configureWithFaults(inner, faults, ifindex, plan);
      continue;
    }
    wrapped[op] = async (...args: unknown[]) => {
      const name = op === 'getLink' && typeof args[0] === 'string' ? args[0] : undefined;
      for (const [i, request] of requestsOf(op, args).entries()) await faults.enter(request, i === 0 ? name : undefined);
      return call(op === 'open' ? withoutReadBack(args) : args);
    };
  }
  return wrapped as unknown as FaultyBinding;
}

/**
 * A plan's steps faulted in order, as the kernel would refuse one: the steps
 * before a faulted one are carried out for real, and the error gets `step`
 * (what configure() promises), so a caller's rollback has real work to undo.
 */
async function configureWithFaults(inner: TunBinding, faults: FaultInjector, ifindex: number, plan: LinkPlan): Promise<undefined> {
  let steps: PlanStep[];
  try {
    steps = planSteps(plan);
  } catch {
    await inner.configure(ifindex, plan); // the inner binding refuses a bad plan
    return undefined;
  }
  for (const [index, step] of steps.entries()) {
    for (const call of callsOfStep(step)) {
      try {
        await faults.enter(call.op);
      } catch (error) {
        if (index > 0) await inner.configure(ifindex, planFromSteps(steps.slice(0, index)));
        if (error !== null && typeof error === 'object') Object.assign(error, { step: index });
        throw error;
      }
    }
  }
  // Without read-back (see withoutReadBack): the caller's reads then come through here one by one.
  await inner.configure(ifindex, plan);
  return undefined;
}
