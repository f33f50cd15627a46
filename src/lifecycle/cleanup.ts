// Cleanup, in the order the design fixes: link down → remove addresses →
// remove routes → release (close fds, then delete a persistent link) → verify.
// Each step is best effort (one failing step must not stop the release of the
// rest); verification decides. A round that leaves something behind is
// repeated with the retry policy's backoff, then reported.
//
// When several cleanups run at once on one binding, the per-adapter link
// down / address / route steps are left to the kernel: the batched group
// deletion (teardown-batch.ts) takes every link of the batch down, drops its
// addresses and flushes its routes in that order, in one pass instead of
// 3·N requests. Verification stays per adapter, as does the error it reports.
//
// Runs are serialized per session: a run that outlived its deadline keeps
// going and releases everything; the next cleanup() joins it, then verifies.
// Releases of concurrent cleanups are coalesced (see teardown-batch.ts).

import { CleanupFailedError } from '../errors.js';
import { backoffDelay, isTransientError } from './retry-policy.js';
import type { LifecyclePolicy } from '../../machines/types.js';
import type { InterfaceSession } from './session.js';
import { codeOf, tolerate } from './kernel-errors.js';
import { enterCleanup, releaseBatched } from './teardown-batch.js';
import { findLeftovers } from './verify.js';

// Answers that mean "already done" for each step.
const GONE = ['ENODEV'];
const NO_ADDRESS = ['ENODEV', 'EADDRNOTAVAIL', 'ENOENT'];
const NO_ROUTE = ['ENODEV', 'ESRCH', 'ENOENT'];

export function cleanupInterface(session: InterfaceSession, options: LifecyclePolicy): Promise<void> {
  return session.serial(() => cleanupRounds(session, options));
}

async function cleanupRounds(session: InterfaceSession, options: LifecyclePolicy): Promise<void> {
  const slot = await enterCleanup(session.binding);
  try {
    await rounds(session, options, slot.concurrent);
  } finally {
    slot.leave();
  }
}

async function rounds(session: InterfaceSession, options: LifecyclePolicy, concurrent: boolean): Promise<void> {
  let lastError: unknown;
  let leftovers: string[] = [];
  for (let round = 1; round <= options.retryAttempts + 1; round++) {
    // Only the first round may hand the steps to a batch; a retry does each one.
    const errors = await cleanupOnce(session, concurrent && round === 1);
    lastError = errors.at(-1) ?? lastError;
    try {
      leftovers = await findLeftovers(session);
    } catch (error) {
      // Could not look: as good as something left.
      lastError = error;
      leftovers = [`unverified (${codeOf(error) ?? 'error'})`];
    }
    if (leftovers.length === 0) return;
    const permanent = errors.length > 0 && !errors.some(isTransientError);
    session.log('warn', { interface: session.name, round, leftovers, error: lastError },
      `tun-lifecycle: ${session.name} cleanup round ${round} left ${leftovers.join(', ')}`);
    if (permanent || round > options.retryAttempts) break;
    await sleep(backoffDelay(options, round));
  }
  throw new CleanupFailedError(leftovers, { state: 'stopping', interfaceName: session.name, cause: lastError });
}

/** One pass of every step; returns the errors the steps met. */
async function cleanupOnce(session: InterfaceSession, batched: boolean): Promise<unknown[]> {
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

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref?.());
}
