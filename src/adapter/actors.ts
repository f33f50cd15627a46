// The one place that wires the lifecycle actors (src/lifecycle/) into the
// statechart. The machine is provided once for every adapter; each actor
// finds its adapter's session through the actor system it runs in.

import { fromPromise } from 'xstate';
import type { Actor, SnapshotFrom } from 'xstate';
import { tunLifecycleMachine } from '../../machines/tunLifecycle.js';
import type { AttemptInput, CleanupInput, CreateOutput } from '../../machines/types.js';
import { createInterface } from '../lifecycle/create.js';
import { linkMonitorActor } from '../lifecycle/monitor.js';
import type { ReconfigureDiff } from '../lifecycle/reconfigure.js';
import type { InterfaceSession } from '../lifecycle/session.js';

// Cold start: a plain create runs create and the link monitor only. Recovery,
// cleanup and reconfiguration (and the teardown batching cleanup brings) load
// when first run — each is an async actor anyway, and a VPN's process pays
// for them at its end, not at its start.
const recoverModule = () => import('../lifecycle/recover.js');
const cleanupModule = () => import('../lifecycle/cleanup.js');
const reconfigureModule = () => import('../lifecycle/reconfigure.js');

/** What the machine's actors need from the adapter that runs them. */
export interface ActorHost {
  session(): InterfaceSession;
  hasBinding(): boolean;
  /** Makes the binding: at once (undefined) unless it is a namespace's, which is a promise. May throw (no addon). */
  ensureBinding(): Promise<void> | undefined;
  /** A reconfiguration is about to apply this diff (the adapter emits 'reconfiguring'). */
  reconfiguring(diff: ReconfigureDiff): void;
  /** A reconfiguration was applied (the adapter emits 'reconfigured'). */
  reconfigured(diff: ReconfigureDiff): void;
}

// The actors are provided once, for every adapter: a machine made per adapter
// would rebuild (and re-memoize) the whole state-node tree each time, which
// dominated the cost of 1000 adapters. Each actor finds its adapter through
// the actor system it runs in.
export const hosts = new WeakMap<object, ActorHost>();

function hostOf(system: unknown): ActorHost {
  const host = hosts.get(system as object);
  if (!host) throw new Error('tun-lifecycle: lifecycle actor started outside a TunAdapter');
  return host;
}

export const adapterMachine = tunLifecycleMachine.provide({
  actors: {
    // With a binding at hand the kernel request goes out inside the actor's
    // start, before the snapshot's observers run: awaiting first would put
    // them on the critical path of every create.
    create: fromPromise<CreateOutput, AttemptInput>(({ system }) => {
      const host = hostOf(system);
      let pending: Promise<void> | undefined;
      try {
        pending = host.ensureBinding();
      } catch (error) {
        return Promise.reject(error);
      }
      return pending ? pending.then(() => createInterface(host.session())) : createInterface(host.session());
    }),
    recover: fromPromise<CreateOutput, AttemptInput>(async ({ system }) => {
      const host = hostOf(system);
      const { recoverInterface } = await recoverModule();
      return recoverInterface(host.session());
    }),
    // No binding means nothing was ever opened: the cleanup is trivially complete.
    cleanup: fromPromise<void, CleanupInput>(async ({ system, input }) => {
      const host = hostOf(system);
      if (!host.hasBinding()) return;
      const { cleanupPass } = await cleanupModule();
      await cleanupPass(host.session(), input.round);
    }),
    // The signal aborts when the deadline leaves the state: the attempt then undoes its steps.
    reconfigure: fromPromise<void, AttemptInput>(async ({ system, signal }) => {
      const host = hostOf(system);
      const { reconfigureInterface } = await reconfigureModule();
      host.reconfigured(await reconfigureInterface(host.session(), signal, (diff) => host.reconfiguring(diff)));
    }),
    linkMonitor: linkMonitorActor((system) => hostOf(system).session()),
  },
});

export type LifecycleActor = Actor<typeof adapterMachine>;
export type LifecycleSnapshot = SnapshotFrom<typeof adapterMachine>;
