// TunAdapter: the public face of one TUN interface. Every state change goes
// through the statechart's actor (so interleaved calls are serialized by it);
// this class turns snapshots into promises, events, a packet iterator and a
// stream, and hands the machine its real actors (src/lifecycle) via provide().

import { EventEmitter } from 'node:events';
import { Duplex } from 'node:stream';
import { createActor } from 'xstate';
import type { StateValue } from 'xstate';
import { topLevelState } from '../../machines/tunLifecycle.js';
import type { AlertEvent, LifecycleCounters } from '../../machines/types.js';
import { InterfaceState } from '../../machines/types.js';
import type { LinkStats, QueueStats, TunBinding } from '../binding/contract/types.js';
import { InterfaceNotReadyError, InvalidStateTransitionError } from '../errors.js';
import { loadDefaultBinding } from '../binding/default.js';
import { registerForExit, unregisterForExit } from '../lifecycle/exit-hooks.js';
import type { ExitParticipant } from '../lifecycle/exit-hooks.js';
import { InterfaceSession } from '../lifecycle/session.js';
import { adapterMachine, hosts, type ActorHost, type LifecycleActor, type LifecycleSnapshot } from './actors.js';
import { validateInteger } from '../binding/contract/validate.js';
import { createLog } from '../log.js';
import type { Log } from '../log.js';
import { resolveOptions, validateName } from '../options.js';
import type { AdapterOptions, AdapterWiring } from '../options.js';


export interface AlertInfo {
  interfaceName: string;
  consecutiveFailures: number;
  /** The latest failure. */
  error: Error | undefined;
  /** Where it happened ('initializing', 'ready', 'stopping', 'error' = during recovery). */
  state: string | undefined;
}

export interface AdapterStats extends LifecycleCounters {
  state: InterfaceState;
  name: string;
  ifindex: number | undefined;
  /** The kernel's 64-bit link counters (undefined when there is no link to ask). */
  kernel: LinkStats | undefined;
  /** Per-queue library counters. */
  queues: QueueStats[];
}

export interface PacketIteratorOptions {
  /** Packets buffered before the queues are paused (backpressure). Default 1024. */
  highWaterMark?: number;
  signal?: AbortSignal;
}

/**
 * Events:
 *  - 'state' (to: InterfaceState, from: InterfaceState) — every top-level transition
 *  - 'packet' (packet: Buffer, queue: number) — one per packet read while ready
 *  - 'alert' (info: AlertInfo) — every alertThreshold-th consecutive failure
 *  - 'drain' (queue: number) — a queue flushed its write backlog
 */
export class TunAdapter extends EventEmitter implements AsyncDisposable {
  /** The running XState actor: subscribe to it, inspect it. */
  readonly actor: LifecycleActor;
  readonly #options: AdapterWiring;
  readonly #log: Log;
  #session: InterfaceSession | undefined;
  #binding: TunBinding | undefined;
  #state: InterfaceState;
  /** The last snapshot's state value and its key (compared on every snapshot). */
  #value: StateValue;
  #valueKey: string;
  /** Pending start()/cleanup()/recover() promises, told of each change in #onSnapshot. */
  readonly #watchers = new Set<Watcher>();
  #startPromise: Promise<this> | undefined;
  #cleanupPromise: Promise<void> | undefined;
  readonly #exit: ExitParticipant;
  #onAbort: (() => void) | undefined;

  constructor(name: string, options: AdapterOptions = {}) {
    super();
    validateName(name);
    const { policy, link, wiring } = resolveOptions(options);
    this.#options = wiring;
    this.#log = createLog(this.#options.logger);
    this.#binding = this.#options.binding;
    const requestedName = name;
    const host: ActorHost = {
      session: () => {
        this.#session ??= new InterfaceSession(this.#binding!, link, requestedName, this.#log);
        return this.#session;
      },
      hasBinding: () => this.#binding !== undefined,
      ensureBinding: async () => { this.#binding ??= await loadDefaultBinding(); },
    };

    const inspect = this.#options.inspect;
    this.actor = createActor(adapterMachine, {
      input: { policy, interfaceName: name },
      ...(inspect === undefined ? {} : { inspect }),
    });

    hosts.set(this.actor.system, host);
    const initial = this.actor.getSnapshot();
    this.#state = topLevelState(initial.value);
    this.#value = initial.value;
    this.#valueKey = valueKey(initial.value);
    this.actor.subscribe({
      next: (snapshot) => this.#onSnapshot(snapshot),
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
    return this.#state;
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

  /** uninitialized → initializing → ready. Rejects with ConfigurationFailedError (the machine is then in error). */
  start(): Promise<this> {
    if (this.#startPromise && this.#state === InterfaceState.Initializing) return this.#startPromise;
    if (this.#state !== InterfaceState.Uninitialized) {
      return Promise.reject(new InvalidStateTransitionError('start', { state: this.#state, interfaceName: this.name }));
    }
    this.#startPromise = new Promise<this>((resolve, reject) => {
      this.#watch((state) => {
        if (state === InterfaceState.Ready) resolve(this);
        else if (state === InterfaceState.Error) reject(this.lastError);
        else if (state === InterfaceState.Stopping || state === InterfaceState.Stopped) reject(abortError(this.name));
        else return false;
        return true;
      });
    });
    // Held for callers of start(); an adapter cleaned up mid-start must not raise an unhandled rejection.
    this.#startPromise.catch(() => undefined);
    registerForExit(this.#exit);
    const signal = this.#options.signal;
    if (signal) {
      this.#onAbort = () => { void this.#cleanupIfNeeded().catch(() => undefined); };
      if (signal.aborted) queueMicrotask(this.#onAbort);
      else signal.addEventListener('abort', this.#onAbort, { once: true });
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
      return Promise.reject(new InvalidStateTransitionError('cleanup', { state: this.#state, interfaceName: this.name }));
    }
    let enteredStopping = false;
    const promise = new Promise<void>((resolve, reject) => {
      this.#watch((state) => {
        if (state === InterfaceState.Stopping) enteredStopping = true;
        if (state === InterfaceState.Stopped) resolve();
        else if (state === InterfaceState.Error && enteredStopping) reject(this.lastError);
        else return false;
        return true;
      });
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
      return Promise.reject(new InvalidStateTransitionError('recover', { state: this.#state, interfaceName: this.name }));
    }
    const promise = new Promise<this>((resolve, reject) => {
      this.#watch(() => {
        const snapshot = this.actor.getSnapshot();
        if (snapshot.matches('ready')) resolve(this);
        else if (snapshot.matches({ error: 'halted' })) reject(this.lastError);
        else if (snapshot.matches('stopping') || snapshot.matches('stopped')) reject(abortError(this.name));
        else return false;
        return true;
      }, true);
    });
    this.actor.send({ type: 'RECOVER' });
    return promise;
  }

  /**
   * Write one IP packet on a queue (default 0). Returns false when the
   * packet had to be queued (wait for 'drain'). Throws InterfaceNotReadyError
   * outside ready; TypeError/RangeError for a malformed packet.
   */
  write(packet: Uint8Array, queue = 0): boolean {
    const device = this.#session?.device;
    if (this.#state !== InterfaceState.Ready || !device) {
      throw new InterfaceNotReadyError('write', { state: this.#state, interfaceName: this.name });
    }
    const index = validateInteger(queue, 'queue', 0, device.queues.length - 1);
    return device.queues[index]!.write(packet);
  }

  /** Packets read from the interface, until it stops (or the loop breaks). */
  packets(options: PacketIteratorOptions = {}): AsyncIterableIterator<Buffer> {
    const highWaterMark = options.highWaterMark ?? 1024;
    const buffered: Buffer[] = [];
    let waiting: ((result: IteratorResult<Buffer>) => void) | undefined;
    let ended = false;
    let paused = false;
    const onPacket = (packet: Buffer) => {
      if (waiting) {
        const wake = waiting;
        waiting = undefined;
        wake({ value: packet, done: false });
        return;
      }
      buffered.push(packet);
      if (buffered.length >= highWaterMark && !paused) {
        paused = true;
        this.#session?.pause();
      }
    };
    const finish = () => {
      if (ended) return;
      ended = true;
      this.off('packet', onPacket);
      this.off('state', onState);
      options.signal?.removeEventListener('abort', finish);
      if (paused) this.#session?.resume();
      if (waiting) {
        const wake = waiting;
        waiting = undefined;
        wake({ value: undefined, done: true });
      }
    };
    const onState = (to: InterfaceState) => { if (to === InterfaceState.Stopped) finish(); };
    this.on('packet', onPacket);
    this.on('state', onState);
    options.signal?.addEventListener('abort', finish, { once: true });
    if (this.#state === InterfaceState.Stopped) finish();

    const iterator: AsyncIterableIterator<Buffer> = {
      next: () => {
        const packet = buffered.shift();
        if (packet) {
          if (paused && buffered.length <= highWaterMark / 2) {
            paused = false;
            this.#session?.resume();
          }
          return Promise.resolve({ value: packet, done: false });
        }
        if (ended) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => { waiting = resolve; });
      },
      return: () => {
        finish();
        buffered.length = 0;
        return Promise.resolve({ value: undefined, done: true });
      },
      [Symbol.asyncIterator]() { return iterator; },
    };
    return iterator;
  }

  /**
   * An object-mode Duplex: readable side yields packets (pausing the queues
   * under backpressure), writable side writes them (waiting for 'drain').
   * Ends when the adapter stops.
   */
  stream(): Duplex {
    let reading = true;
    const adapter = this;
    const duplex = new Duplex({
      objectMode: true,
      read() {
        if (!reading) {
          reading = true;
          adapter.#session?.resume();
        }
      },
      write(chunk: Uint8Array, _encoding, callback) {
        try {
          if (adapter.write(chunk)) callback();
          else adapter.once('drain', () => callback());
        } catch (error) {
          callback(error as Error);
        }
      },
    });
    const onPacket = (packet: Buffer) => {
      if (!duplex.push(packet) && reading) {
        reading = false;
        this.#session?.pause();
      }
    };
    const onState = (to: InterfaceState) => {
      if (to === InterfaceState.Stopped) {
        detach();
        duplex.push(null);
      }
    };
    const detach = () => {
      this.off('packet', onPacket);
      this.off('state', onState);
    };
    this.on('packet', onPacket);
    this.on('state', onState);
    duplex.once('close', detach);
    if (this.#state === InterfaceState.Stopped) onState(InterfaceState.Stopped);
    return duplex;
  }

  /** Kernel link counters (64-bit) and the library's own counters. */
  async stats(): Promise<AdapterStats> {
    const context = this.actor.getSnapshot().context;
    const session = this.#session;
    let kernel: LinkStats | undefined;
    if (session?.ifindex !== undefined && session.fdsOpen) {
      kernel = await session.binding.getLink(session.ifindex).then((link) => link.stats, () => undefined);
    }
    return {
      ...context.counters,
      state: this.#state,
      name: this.name,
      ifindex: this.ifindex,
      kernel,
      queues: session?.device?.queues.map((queue) => queue.stats()) ?? [],
    };
  }

  /** `await using iface = await createAdapter(...)`: cleans up unless already stopped. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.#cleanupIfNeeded();
  }

  #cleanupIfNeeded(): Promise<void> {
    if (this.#cleanupPromise) return this.#cleanupPromise;
    if (this.#state === InterfaceState.Stopped || this.#state === InterfaceState.Uninitialized) return Promise.resolve();
    return this.cleanup();
  }

  /**
   * Call check(state) on every top-level change (or, with everyStep, every
   * change of the state value) until it returns true. Runs inside the
   * snapshot listener; a watcher added meanwhile first hears the next change.
   */
  #watch(check: (state: InterfaceState) => boolean, everyStep = false): void {
    // One actor subscription serves them all: each extra observer is work
    // XState does on every snapshot of every adapter.
    this.#watchers.add({ check, everyStep, lastState: this.#state });
  }

  #onSnapshot(snapshot: LifecycleSnapshot): void {
    const key = valueKey(snapshot.value);
    if (key === this.#valueKey) return;
    const fromValue = this.#value;
    this.#value = snapshot.value;
    this.#valueKey = key;
    const from = this.#state;
    const to = topLevelState(snapshot.value);
    this.#state = to;
    const level = from === to ? 'debug' : to === InterfaceState.Error ? 'warn' : 'info';
    // Built only when something listens: this runs on every transition of every adapter.
    if (this.#log.enabled(level)) {
      const fields = { interface: this.name, from: fromValue, to: snapshot.value, attempt: snapshot.context.attempt };
      if (from === to) {
        this.#log('debug', fields, `tun-lifecycle: ${this.name} ${JSON.stringify(fromValue)} → ${JSON.stringify(snapshot.value)}`);
      } else if (to === InterfaceState.Error) {
        this.#log('warn', { ...fields, error: snapshot.context.lastError }, `tun-lifecycle: ${this.name} ${from} → error: ${snapshot.context.lastError?.message}`);
      } else {
        this.#log('info', fields, `tun-lifecycle: ${this.name} ${from} → ${to}`);
      }
    }
    if (from !== to) {
      if (to === InterfaceState.Ready) this.#attachPackets();
      if (from === InterfaceState.Ready) this.#detachPackets();
      if (to === InterfaceState.Stopped) this.#finish();
      this.emit('state', to, from);
    }
    if (this.#watchers.size === 0) return;
    for (const watcher of [...this.#watchers]) {
      if (!watcher.everyStep && to === watcher.lastState) continue;
      watcher.lastState = to;
      if (watcher.check(to)) this.#watchers.delete(watcher);
    }
  }

  #packetListener: ((batch: Buffer[], queue: number) => void) | undefined;
  #drainListener: ((queue: number) => void) | undefined;

  #attachPackets(): void {
    const session = this.#session;
    if (!session || this.#packetListener) return;
    this.#packetListener = (batch, queue) => {
      for (const packet of batch) this.emit('packet', packet, queue);
    };
    this.#drainListener = (queue) => this.emit('drain', queue);
    session.on('packets', this.#packetListener);
    session.on('drain', this.#drainListener);
  }

  #detachPackets(): void {
    if (this.#packetListener) this.#session?.off('packets', this.#packetListener);
    if (this.#drainListener) this.#session?.off('drain', this.#drainListener);
    this.#packetListener = undefined;
    this.#drainListener = undefined;
  }

  #finish(): void {
    unregisterForExit(this.#exit);
    if (this.#onAbort) this.#options.signal?.removeEventListener('abort', this.#onAbort);
  }
}

interface Watcher {
  check(state: InterfaceState): boolean;
  everyStep: boolean;
  lastState: InterfaceState;
}

/** 'ready', 'initializing.backoff', 'error.recovering.attempt': the machine has no parallel states. */
function valueKey(value: StateValue): string {
  if (typeof value === 'string') return value;
  let key = '';
  for (const name in value) {
    const child = value[name];
    key += child === undefined ? name : `${name}.${valueKey(child)}`;
  }
  return key;
}

function abortError(name: string): Error {
  const error = new Error(`${name}: cleanup() was called before the interface became ready`);
  error.name = 'AbortError';
  (error as Error & { code: string }).code = 'ABORT_ERR';
  return error;
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
