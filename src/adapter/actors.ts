// The one place that wires the lifecycle actors (src/lifecycle/) into the
// statechart. Every adapter runs the exported chart itself, its actors
// registered for the adapter's actor system (systemActors); each actor finds
// its adapter's session through the actor system it runs in.

import type { Actor, ActorSystem, SnapshotFrom } from 'xstate';
import { systemActors, tunLifecycleMachine, type LifecycleActorImplementations } from '../../machines/tunLifecycle.js';
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

// One set of actors for every adapter, and one machine: a machine made per
// adapter (or even one .provide()d copy) rebuilds the whole state-node tree,
// which dominated the cost of 1000 adapters and cost about 1 ms of every cold
// start. Each actor finds its adapter through the actor system it runs in.
const hosts = new WeakMap<object, ActorHost>();

function hostOf(system: unknown): ActorHost {
  const host = hosts.get(system as object);
  if (!host) throw new Error('tun-lifecycle: lifecycle actor started outside a TunAdapter');
  return host;
}

const lifecycleActors: LifecycleActorImplementations = {
  // With a binding at hand the kernel request goes out inside the actor's
  // start, before the snapshot's observers run: awaiting first would put
  // them on the critical path of every create.
  create: ({ system }) => {
    const host = hostOf(system);
    let pending: Promise<void> | undefined;
    try {
      pending = host.ensureBinding();
    } catch (error) {
      return Promise.reject(error);
    }
    return pending ? pending.then(() => createInterface(host.session())) : createInterface(host.session());
  },
  recover: async ({ system }) => {
    const host = hostOf(system);
    const { recoverInterface } = await recoverModule();
    return recoverInterface(host.session());
  },
  // No binding means nothing was ever opened: the cleanup is trivially complete.
  cleanup: async ({ system, input }) => {
    const host = hostOf(system);
    if (!host.hasBinding()) return;
    const { cleanupPass } = await cleanupModule();
    await cleanupPass(host.session(), input.round);
  },
  // The signal aborts when the deadline leaves the state: the attempt then undoes its steps.
  reconfigure: async ({ system, signal }) => {
    const host = hostOf(system);
    const { reconfigureInterface } = await reconfigureModule();
    host.reconfigured(await reconfigureInterface(host.session(), signal, (diff) => host.reconfiguring(diff)));
  },
  linkMonitor: linkMonitorActor((system) => hostOf(system).session()),
};

/** The chart, as every adapter runs it. */
export const adapterMachine = tunLifecycleMachine;

/** Gives an adapter's actor system its host and the lifecycle actors (before the actor starts). */
export function hostActors(system: ActorSystem<any>, host: ActorHost): void {
  hosts.set(system, host);
  systemActors.set(system, lifecycleActors);
}

export type LifecycleActor = Actor<typeof adapterMachine>;
export type LifecycleSnapshot = SnapshotFrom<typeof adapterMachine>;
