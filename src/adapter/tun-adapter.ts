// TunAdapter: the public face of one TUN interface. Every state change goes
// through the statechart's actor (so interleaved calls are serialized by it);
// the snapshot watch turns its snapshots into state, logs and settled
// promises, the packet iterator and the Duplex read through a packet port,
// and actors.ts hands the machine its real actors (src/lifecycle).

import { events } from '../binding/contract/builtins.js';
import type { Duplex } from 'node:stream';
import { createActor } from 'xstate';
import type { AlertEvent, LifecycleCounters } from '../../machines/types.js';
import { InterfaceState } from '../../machines/types.js';
import type { LinkStats, OffloadState, QueueStats, TunBinding } from '../binding/contract/types.js';
import { AbortError, InterfaceNotReadyError, InvalidStateTransitionError } from '../errors.js';
import { bindingIn } from '../binding/default.js';
import type { Worker } from 'node:worker_threads';
import type { QueueHandle } from '../binding/native/device.js';
import { registerForExit, unregisterForExit } from '../lifecycle/exit-hooks.js';
import type { ExitParticipant } from '../lifecycle/exit-hooks.js';
import { InterfaceSession } from '../lifecycle/session.js';
import { driftOf, type Drift } from '../lifecycle/verify.js';
import { adapterMachine, hostActors, type ActorHost, type LifecycleActor } from './actors.js';
import type { PacketPort } from './packet-source.js';
import { packetIterator, type PacketIteratorOptions } from './packets.js';
import { SnapshotWatch } from './snapshot-watch.js';
import type { AlertInfo, TypedEmitterClass } from './events.js';
import { relayPackets, sessionPort } from './session-port.js';
import { packetStream } from './stream.js';
import { validateInteger } from '../binding/contract/validate.js';
import { createLog } from '../log.js';
import type { Log } from '../log.js';
import { resolveOptions, validateName } from '../options.js';
import type { AdapterOptions, AdapterWiring, ConfigurationChange } from '../options.js';
import { Reconfigurations, configOf, sugar, type LinkConfig } from './reconfigure.js';
import type { ReconfigureDiff } from '../lifecycle/reconfigure.js';
import type { RouteSpec } from '../binding/contract/types.js';

export interface AdapterStats extends LifecycleCounters {
  state: InterfaceState;
  name: string;
  ifindex: number | undefined;
  /** The kernel's 64-bit link counters (undefined when there is no link to ask). */
  kernel: LinkStats | undefined;
  /** Per-queue library counters. */
  queues: QueueStats[];
  /** What is on the link that the desired configuration does not list (someone else's; left alone). */
  drift: Drift | undefined;
  /** The offload in force and why it is less than asked (undefined: no device, or a binding without offload). */
  offload: OffloadState | undefined;
}

/** Events: see TunAdapterEvents ('state', 'packet', 'drain', 'alert', 'reconfigured'). */
export class TunAdapter extends (events.EventEmitter as TypedEmitterClass) implements AsyncDisposable {
  /** The running XState actor: subscribe to it, inspect it. */
  readonly actor: LifecycleActor;
  readonly #options: AdapterWiring;
  readonly #log: Log;
  #session: InterfaceSession | undefined;
  /** The offload state last emitted (each device's state object is replaced on change). */
  #offloadTold: OffloadState | undefined;
  #binding: TunBinding | undefined;
  readonly #watch: SnapshotWatch;
  readonly #port: PacketPort;
  /** Set while ready: stops relaying the session's packets as this adapter's events. */
  #unrelay: (() => void) | undefined;
  #startPromise: Promise<this> | undefined;
  #cleanupPromise: Promise<void> | undefined;
  readonly #exit: ExitParticipant;
  #onAbort: (() => void) | undefined;
  /** Why the start in flight was given up, when options.signal did it. */
  #abortError: AbortError | undefined;
  readonly #reconfigurations: Reconfigurations;

  constructor(name: string, options: AdapterOptions = {}) {
    super();
    validateName(name);
    const { policy, link, wiring } = resolveOptions(options);
    this.#options = wiring;
    this.#log = createLog(this.#options.logger);
    // With netns the binding is the namespace's, made when first needed.
    this.#binding = this.#options.netns === undefined ? this.#options.binding : undefined;
    const requestedName = name;
    const host: ActorHost = {
      session: () => {
        this.#session ??= new InterfaceSession(this.#binding!, link, requestedName, this.#log);
        return this.#session;
      },
      hasBinding: () => this.#binding !== undefined,
      ensureBinding: () => {
        if (this.#binding) return undefined;
        const made = bindingIn(this.#options);
        if (!(made instanceof Promise)) {
          this.#binding = made;
          return undefined;
        }
        return made.then((binding) => { this.#binding ??= binding; });
      },
      reconfiguring: (diff) => this.emit('reconfiguring', diff),
      reconfigured: (diff) => {
        this.#reconfigurations.applied(diff);
        this.emit('reconfigured', diff);
      },
    };

    const inspect = this.#options.inspect;
    this.actor = createActor(adapterMachine, {
      input: { policy, interfaceName: name },
      ...(inspect === undefined ? {} : { inspect }),
    });

    hostActors(this.actor.system, host);
    this.#watch = new SnapshotWatch(this.actor.getSnapshot().value, this.#log, {
      name: () => this.name,
      transition: (to, from) => this.#onTransition(to, from),
    });
    this.#port = sessionPort(this, () => this.#session);
    const adapter = this;
    this.#reconfigurations = new Reconfigurations({
      actor: this.actor,
      watch: this.#watch,
      initialLink: link,
      session: () => this.#session,
      get name() { return adapter.name; },
      get lastError() { return adapter.lastError; },
    });
    this.actor.subscribe({
      next: (snapshot) => this.#watch.observe(snapshot),
      error: (error) => this.#log('error', { interface: this.name, error }, `tun-lifecycle: ${this.name} actor failed`),
    });
    this.actor.on('alert', (event: AlertEvent) => {
      const info: AlertInfo = {
        interfaceName: this.name, consecutiveFailures: event.consecutiveFailures, error: event.error, state: event.state,
      };
      this.#log('error', { interface: this.name, ...info }, `tun-lifecycle: ${this.name} alert: ${event.consecutiveFailures} consecutive failures`);
      this.emit('alert', info);
    });

    this.#exit = {
      handlesSignals: this.#options.handleSignals,
      teardownSync: () => { try { this.#session?.closeFds(); } catch { /* best effort at exit */ } },
      cleanupForExit: () => this.#cleanupIfNeeded(),
    };
    this.actor.start();
  }

  /** The top-level lifecycle state. */
  get state(): InterfaceState {
    return this.#watch.state;
  }

  /** The interface name (the kernel's choice once created, when a 'tun%d' pattern was given). */
  get name(): string {
    return this.#session?.name ?? this.actor.getSnapshot().context.interfaceName;
  }

  get ifindex(): number | undefined {
    return this.#session?.ifindex;
  }

  /** The last failure (kept while in error and after). */
  get lastError(): Error | undefined {
    return this.actor.getSnapshot().context.lastError;
  }

  /**
   * uninitialized → initializing → ready. Rejects with ConfigurationFailedError
   * (the machine is then in error), or with AbortError when cleanup() or
   * options.signal gives the start up: only once the cleanup has verified that
   * nothing is left (an AggregateError of both when that cleanup fails). A
   * signal already aborted rejects at once and touches nothing.
   */
  start(): Promise<this> {
    if (this.#startPromise && this.state === InterfaceState.Initializing) return this.#startPromise;
    if (this.state !== InterfaceState.Uninitialized) {
      return Promise.reject(new InvalidStateTransitionError('start', { state: this.state, interfaceName: this.name }));
    }
    const signal = this.#options.signal;
    if (signal?.aborted) return Promise.reject(this.#abortedBySignal(signal));
    let abort: AbortError | undefined;
    this.#startPromise = this.#watch.until<this>((state) => {
      if (state === InterfaceState.Ready) return { value: this };
      if (abort === undefined && state === InterfaceState.Error) return { error: this.lastError };
      if (state === InterfaceState.Stopping || state === InterfaceState.Stopped) {
        abort ??= this.#abortError ?? new AbortError({ state: InterfaceState.Initializing, interfaceName: this.name });
      }
      if (state === InterfaceState.Stopped) return { error: abort };
      if (state === InterfaceState.Error && abort !== undefined) {
        return { error: new AggregateError([abort, this.lastError], `${this.name}: start given up, and the cleanup after it failed`) };
      }
      return undefined;
    });
    // Held for callers of start(); an adapter cleaned up mid-start must not raise an unhandled rejection.
    this.#startPromise.catch(() => undefined);
    registerForExit(this.#exit);
    if (signal) {
      this.#onAbort = () => {
        if (this.state === InterfaceState.Initializing) this.#abortError ??= this.#abortedBySignal(signal);
        void this.#cleanupIfNeeded().catch(() => undefined);
      };
      signal.addEventListener('abort', this.#onAbort, { once: true });
    }
    this.actor.send({ type: 'START' });
    return this.#startPromise;
  }

  /**
   * ready|error|initializing → stopping → stopped. While stopping (or asked
   * during initializing): the same promise. Once stopped, or before start():
   * InvalidStateTransitionError. Rejects with CleanupTimeoutError or
   * CleanupFailedError when cleanup fails; calling again retries.
   */
  cleanup(): Promise<void> {
    if (this.#cleanupPromise) return this.#cleanupPromise;
    const snapshot = this.actor.getSnapshot();
    if (!snapshot.can({ type: 'CLEANUP' })) {
      return Promise.reject(new InvalidStateTransitionError('cleanup', { state: this.state, interfaceName: this.name }));
    }
    let enteredStopping = false;
    const promise = this.#watch.until<void>((state) => {
      if (state === InterfaceState.Stopping) enteredStopping = true;
      if (state === InterfaceState.Stopped) return { value: undefined };
      if (state === InterfaceState.Error && enteredStopping) return { error: this.lastError };
      return undefined;
    });
    this.#cleanupPromise = promise;
    const forget = () => { if (this.#cleanupPromise === promise) this.#cleanupPromise = undefined; };
    promise.then(forget, forget);
    this.actor.send({ type: 'CLEANUP' });
    return promise;
  }

  /** error → recovery → ready, on demand (not after a failed cleanup). */
  recover(): Promise<this> {
    if (!this.actor.getSnapshot().can({ type: 'RECOVER' })) {
      return Promise.reject(new InvalidStateTransitionError('recover', { state: this.state, interfaceName: this.name }));
    }
    const promise = this.#watch.until<this>(() => {
      const snapshot = this.actor.getSnapshot();
      if (snapshot.matches('ready')) return { value: this };
      if (snapshot.matches({ error: 'halted' })) return { error: this.lastError };
      if (snapshot.matches('stopping') || snapshot.matches('stopped')) return { error: this.#aborted() };
      return undefined;
    }, true);
    this.actor.send({ type: 'RECOVER' });
    return promise;
  }

  /** The desired configuration now (frozen, canonical): what the kernel is kept converged to. */
  get config(): LinkConfig {
    return configOf(this.#reconfigurations.desired);
  }

  /**
   * Change the desired configuration while ready (or in error: recovery then
   * converges to it). A given key is that key's whole desired list; validated
   * as at creation. Calls run one at a time, in call order. Resolves with what
   * changed once the kernel holds it; rejects with ConfigurationFailedError
   * (state 'ready') after rolling the kernel back.
   */
  reconfigure(change: ConfigurationChange): Promise<ReconfigureDiff> {
    return this.#reconfigurations.enqueue(() => change);
  }

  addRoute(route: string | RouteSpec): Promise<ReconfigureDiff> {
    return this.#reconfigurations.enqueue(sugar.addRoute(route));
  }

  removeRoute(route: string | RouteSpec): Promise<ReconfigureDiff> {
    return this.#reconfigurations.enqueue(sugar.removeRoute(route));
  }

  addAddress(cidr: string): Promise<ReconfigureDiff> {
    return this.#reconfigurations.enqueue(sugar.addAddress(cidr));
  }

  removeAddress(cidr: string): Promise<ReconfigureDiff> {
    return this.#reconfigurations.enqueue(sugar.removeAddress(cidr));
  }

  /**
   * Write one IP packet on a queue (default 0). Returns false when the
   * packet had to be queued (wait for 'drain'). Throws InterfaceNotReadyError
   * outside ready; TypeError/RangeError for a malformed packet.
   */
  write(packet: Uint8Array, queue = 0): boolean {
    const device = this.#session?.device;
    if (!carriesPackets(this.state) || !device) {
      throw new InterfaceNotReadyError('write', { state: this.state, interfaceName: this.name });
    }
    const index = validateInteger(queue, 'queue', 0, device.queues.length - 1);
    return device.queues[index]!.write(packet);
  }

  /**
   * Queue `index` read and written by a worker_threads Worker: `start` gets a
   * cloneable handle to pass it (workerData), where attachQueue(handle) makes
   * it the worker's. Native binding, ready adapter only. A worker that exits
   * is counted, not a fault, while another queue remains (src/adapter/worker-queues.ts).
   */
  runQueueInWorker(index: number, start: (handle: QueueHandle) => Worker): Promise<Worker> {
    const session = this.#session;
    if (this.state !== InterfaceState.Ready || !session) {
      throw new InterfaceNotReadyError('runQueueInWorker', { state: this.state, interfaceName: this.name });
    }
    // Loaded when first used: worker queues are not part of a plain create.
    return import('./worker-queues.js').then((queues) => queues.runQueueInWorker(session, index, start));
  }

  /** Packets read from the interface, until it stops (or the loop breaks). */
  packets(options: PacketIteratorOptions = {}): AsyncIterableIterator<Buffer> {
    return packetIterator(this.#port, options);
  }

  /**
   * An object-mode Duplex: readable side yields packets (pausing the queues
   * under backpressure), writable side writes them (waiting for 'drain').
   * Ends when the adapter stops.
   */
  stream(): Duplex {
    return packetStream(this.#port);
  }

  /** Kernel link counters (64-bit) and the library's own counters. */
  async stats(): Promise<AdapterStats> {
    const context = this.actor.getSnapshot().context;
    const session = this.#session;
    let kernel: LinkStats | undefined;
    let drift: Drift | undefined;
    if (session?.ifindex !== undefined && session.fdsOpen) {
      kernel = await session.binding.getLink(session.ifindex).then((link) => link.stats, () => undefined);
      drift = await driftOf(session).catch(() => undefined);
    }
    return {
      ...context.counters,
      state: this.state,
      name: this.name,
      ifindex: this.ifindex,
      kernel,
      queues: session?.device?.queues.map((queue) => queue.stats()) ?? [],
      drift,
      offload: session?.device?.offload,
    };
  }

  /**
   * Coalescing switches on the running device (segmented mode), for kernels
   * that misbehave in the field: `{ tcp: false }`, `{ udp: false }`. Reads
   * still split. Emits 'offload' when the state changes; returns it.
   */
  setOffload(switches: { tcp?: boolean; udp?: boolean }): OffloadState | undefined {
    const device = this.#session?.device;
    if (!carriesPackets(this.state) || !device) {
      throw new InterfaceNotReadyError('setOffload', { state: this.state, interfaceName: this.name });
    }
    if (device.setOffload === undefined) return device.offload;
    device.setOffload(switches);
    this.#reportOffload();
    return device.offload;
  }

  /** Emits 'offload' when the device's state is not the one last told. */
  #reportOffload(): void {
    const state = this.#session?.device?.offload;
    if (state === undefined || state === this.#offloadTold) return;
    this.#offloadTold = state;
    this.emit('offload', state);
  }

  /** `await using iface = await createAdapter(...)`: cleans up unless already stopped. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.#cleanupIfNeeded();
  }

  #cleanupIfNeeded(): Promise<void> {
    if (this.#cleanupPromise) return this.#cleanupPromise;
    if (this.state === InterfaceState.Stopped || this.state === InterfaceState.Uninitialized) return Promise.resolve();
    return this.cleanup();
  }

  #onTransition(to: InterfaceState, from: InterfaceState): void {
    if (to === InterfaceState.Ready && this.#session) this.#unrelay ??= relayPackets(this.#session, this);
    if (to === InterfaceState.Ready) this.#reportOffload();
    if (carriesPackets(from) && !carriesPackets(to)) {
      this.#unrelay?.();
      this.#unrelay = undefined;
    }
    if (to === InterfaceState.Stopped) this.#finish();
    this.emit('state', to, from);
  }

  #aborted(): AbortError {
    return new AbortError({ state: this.state, interfaceName: this.name });
  }

  #abortedBySignal(signal: AbortSignal): AbortError {
    return new AbortError({ by: 'signal', state: this.state, interfaceName: this.name, cause: signal.reason });
  }

  #finish(): void {
    unregisterForExit(this.#exit);
    if (this.#onAbort) this.#options.signal?.removeEventListener('abort', this.#onAbort);
  }
}

/** Packets flow while ready and while reconfiguring (the queues stay open). */
function carriesPackets(state: InterfaceState): boolean {
  return state === InterfaceState.Ready || state === InterfaceState.Reconfiguring;
}

/**
 * Create, configure and verify an interface; resolves when it is ready.
 * On failure rejects with ConfigurationFailedError after making sure nothing
 * is left in the kernel.
 */
export async function createAdapter(name: string, options: AdapterOptions = {}): Promise<TunAdapter> {
  const adapter = new TunAdapter(name, options);
  try {
    return await adapter.start();
  } catch (error) {
    if (adapter.state === InterfaceState.Error) {
      await adapter.cleanup().catch((cleanupError: unknown) => {
        throw new AggregateError([error, cleanupError], `${name}: start failed and so did the cleanup after it`);
      });
    }
    throw error;
  }
}
