// One cleanup pass, in the order the design fixes: link down → remove
// addresses → remove routes → release (close fds, then delete a persistent
// link) → verify. Each step is best effort (one failing step must not stop
// the release of the rest); verification decides. A pass that leaves
// something behind rejects with what it found left; the statechart decides
// whether another round follows (stopping.round → stopping.backoff → round,
// under the one cleanupTimeout deadline).
//
// When several cleanups run at once on one binding, the per-adapter link
// down / address / route steps are left to the kernel: the batched group
// deletion (teardown-batch.ts) takes every link of the batch down, drops its
// addresses and flushes its routes in that order, in one pass instead of
// 3·N requests. Only a first round may be batched; a retry does each step.
// Verification stays per adapter, as does the error it reports.
//
// Passes are serialized per session: a pass that outlived its deadline keeps
// going and releases everything; the next cleanup() joins it, then verifies.
// Releases of concurrent cleanups are coalesced (see teardown-batch.ts).

import { CleanupFailedError } from '../errors.js';
import { roundMayHelp } from './retry-policy.js';
import type { InterfaceSession } from './session.js';
import { codeOf, tolerate } from './kernel-errors.js';
import { enterCleanup, releaseBatched } from './teardown-batch.js';
import { findLeftovers } from './verify.js';

// Answers that mean "already done" for each step.
const GONE = ['ENODEV'];
const NO_ADDRESS = ['ENODEV', 'EADDRNOTAVAIL', 'ENOENT'];
const NO_ROUTE = ['ENODEV', 'ESRCH', 'ENOENT'];

/** Cleanup round `round` (1-based) of the current stopping episode. */
export function cleanupPass(session: InterfaceSession, round: number): Promise<void> {
  return session.serial(async () => {
    const slot = await enterCleanup(session.binding);
    try {
      await pass(session, round, slot.concurrent && round === 1);
    } finally {
      slot.leave();
    }
  });
}

async function pass(session: InterfaceSession, round: number, batched: boolean): Promise<void> {
  const errors = await cleanupSteps(session, batched);
  let lastError = errors.at(-1);
  let leftovers: string[];
  try {
    leftovers = await findLeftovers(session);
  } catch (error) {
    // Could not look: as good as something left.
    lastError = error;
    leftovers = [`unverified (${codeOf(error) ?? 'error'})`];
  }
  if (leftovers.length === 0) return;
  session.log('warn', { interface: session.name, round, leftovers, error: lastError },
    `tun-lifecycle: ${session.name} cleanup round ${round} left ${leftovers.join(', ')}`);
  throw new CleanupFailedError(leftovers, {
    state: 'stopping', interfaceName: session.name, cause: lastError, transient: roundMayHelp(errors),
  });
}

/** Every step once; returns the errors the steps met. */
async function cleanupSteps(session: InterfaceSession, batched: boolean): Promise<unknown[]> {
  const { binding, link } = session;
  const errors: unknown[] = [];
  const step = async (name: string, work: () => Promise<void>) => {
    try {
      await work();
    } catch (error) {
      errors.push(error);
      session.log('debug', { interface: session.name, step: name, error }, `tun-lifecycle: ${session.name} cleanup step ${name} failed`);
    }
  };
  const ifindex = session.ifindex;
  if (ifindex !== undefined && session.device && !batched) {
    await step('link down', () => tolerate(() => binding.setUp(ifindex, false), ...GONE));
    await step('remove addresses', async () => {
      for (const address of link.addresses) {
        await tolerate(() => binding.deleteAddress(ifindex, address.cidr), ...NO_ADDRESS);
      }
    });
    await step('remove routes', async () => {
      for (const route of link.routes) {
        await tolerate(() => binding.deleteRoute(ifindex, { destination: route.destination.cidr, metric: route.metric }), ...NO_ROUTE);
      }
    });
  }
  await step('release', () => releaseBatched(session));
  return errors;
}
