// Replaying a model path against a real adapter. Each model event has an
// executor that makes the real system produce it: API events call the API;
// FAULT acts from outside (delete the link, set it down, remove an address);
// an actor's outcome is injected into the binding it calls; a timer event
// advances time. To let the model — not the race — decide an actor's outcome,
// every invoked actor is held at a gate (faults.hang) from the moment its
// state is entered until the outcome event's executor lets it go, having
// first armed the matching failure (or none).
//
// Where each actor is held, and where its failure is injected:
//   create (and recover by re-creating):  held at open, fails at listAddresses
//     (verification, after open handed the device over, so the rollback and
//     cleanup have a real device to handle; a failure inside open's plan would
//     be rolled back by open itself)
//   recover in place (link still there):  held and failed at its first getLink
//   reconfigure (a no-op change):          held and failed at its first getLink
//     (its read-back); a rollback failure instead asks for a real change (one
//     route out, one in) whose add and whose undo (an add) both fail
//   cleanup (each round's pass):          held at its first step (link down). A
//     permanent failure: link down fails with EPERM and verification cannot
//     read the kernel (getLink), so the pass reports at once, no backoff. A
//     transient one: only verification's first look fails (EBUSY), so the
//     pass released everything but could not confirm it; the next round does.
//
// Time is the replay's (fake timers): a backoff advances exactly its delay,
// the cleanup deadline exactly what is left of it since stopping was entered.
// A deadline that the model lets fire during a cleanup backoff must come
// before that backoff ends, so the round that failed is held until the
// deadline is 1 ms away (the only look ahead at the path).
//
// After every step the adapter's snapshot must equal the model's (value and
// the context the guards read), its counters the model's, its last error the
// model's kind, the 'state' events the model's top-level path; and the system
// itself (simulated world or kernel) must hold what that state promises.

import type { TunAdapter } from '../adapter/index.js';
import type { FaultInjector } from '../binding/simulated/faults.js';
import { CleanupTimeoutError, ConfigurationFailedError, RollbackFailedError, TunError } from '../errors.js';

/** A route only a reconfiguration that is to fail asks for. */
const EXTRA_ROUTE = '10.79.0.0/16';
import { backoffDelay } from '../../machines/retry-policy.js';
import { initialTransition, transition } from 'xstate';
import { topLevelState, tunLifecycleMachine } from '../../machines/tunLifecycle.js';
import type { LifecycleModelEvent, LifecyclePath, LifecycleSnapshot } from './test-model.js';
import { MODEL_ERRNO, describePath, modelErrno, serializeLifecycleContext, serializeLifecycleState } from './test-model.js';

/** What the system holds, read independently of the adapter. */
export interface SystemObservation {
  /** Non-loopback links in the namespace. */
  links: string[];
  /** TUN queue fds open (in this process / on this simulated namespace). */
  queueFds: number;
  /** The adapter's link, when present. */
  link?: { up: boolean; mtu: number; addresses: string[]; routes: string[] } | undefined;
}

export type FaultReason = 'deleted' | 'down' | 'address-removed';

/** The system under test, as the executors need it. */
export interface LifecycleSystem {
  /** Faults in front of the binding the adapter uses. */
  readonly faults: FaultInjector;
  /** Outside changes, like an admin with `ip`. */
  deleteLink(name: string): void | Promise<void>;
  setDown(name: string): void | Promise<void>;
  removeAddress(name: string, cidr: string): void | Promise<void>;
  observe(name: string): SystemObservation | Promise<SystemObservation>;
  /** Fire the timers due within `ms` (fake timers), or wait that long (real ones). */
  advanceTime(ms: number): void | Promise<void>;
}

export interface ReplayConfig {
  name: string;
  mtu: number;
  addresses: string[];
  routes: string[];
  retryAttempts: number;
  retryDelay: number;
  cleanupTimeout: number;
  /** The reconfiguration deadline the model uses (default the chart's). */
  reconfigureTimeout?: number;
  faultReason: FaultReason;
  /** How long to wait for the adapter to reach a state. Default 5000 ms. */
  stepTimeout?: number;
}

export class ModelReplayError extends Error {
  constructor(message: string, readonly path: string, readonly step: number) {
    super(`${message}\n  at step ${step} of: ${path}`);
    this.name = 'ModelReplayError';
  }
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

async function settle(turns = 8): Promise<void> {
  for (let i = 0; i < turns; i++) await nextTurn();
}

function matches(snapshot: LifecycleSnapshot, value: unknown): boolean {
  return snapshot.matches(value as never);
}

/** The kind of an error, for comparing the model's lastError with the adapter's. */
export function errorKind(error: unknown): string {
  if (error === undefined) return 'none';
  if (error instanceof ConfigurationFailedError) return `${error.name}(${(error.cause as { code?: string } | undefined)?.code})`;
  if (error instanceof TunError) return error.name;
  return `errno(${(error as { code?: string }).code})`;
}

function sameMembers(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && [...a].sort().every((x, i) => x === [...b].sort()[i]);
}

export class LifecycleReplay {
  /** Top-level states the adapter emitted ('state' events). */
  readonly emitted: string[] = [];
  alerts = 0;
  /** Rejections of API calls (kept, so none is unhandled). */
  readonly rejections: unknown[] = [];
  #route: 'create' | 'reconfigure' | 'reconfiguration' = 'create';
  #prearmed = false;
  #disposing = false;
  #holds: Array<{ op: 'open' | 'getLink' | 'setUp'; callsAtArm: number; release: () => void }> = [];
  #lastValue: string;
  /** Fake time advanced since stopping was entered (its deadline counts from there). */
  #spentStopping = 0;
  /** The path's next event (the one look ahead, see above). */
  #next: LifecycleModelEvent | undefined;
  #path = '';
  #step = 0;
  readonly #unsubscribe: () => void;

  constructor(readonly adapter: TunAdapter, readonly system: LifecycleSystem, readonly config: ReplayConfig) {
    adapter.on('state', (to: string) => this.emitted.push(to));
    adapter.on('alert', () => { this.alerts++; });
    this.#lastValue = JSON.stringify(adapter.actor.getSnapshot().value);
    // Runs synchronously inside the actor's update: the cleanup actor's first
    // binding call (link down) comes after an await, so its gate can go up here.
    const sub = adapter.actor.subscribe((snapshot) => this.#onSnapshot(snapshot as LifecycleSnapshot));
    this.#unsubscribe = () => sub.unsubscribe();
  }

  #hold(op: 'open' | 'getLink' | 'setUp'): void {
    const callsAtArm = this.system.faults.calls(op);
    this.#holds.push({ op, callsAtArm, release: this.system.faults.hang(op) });
  }

  #releaseHolds(): void {
    for (const hold of this.#holds.splice(0)) hold.release();
  }

  /** The actor of the current state has reached its gate (so what it did before is done). */
  async #untilHeld(): Promise<void> {
    // The oldest: a cleanup after a timed-out one waits behind the late run, still held at its gate.
    const hold = this.#holds[0];
    if (!hold) return;
    const deadline = Date.now() + (this.config.stepTimeout ?? 5000);
    while (this.system.faults.calls(hold.op) <= hold.callsAtArm) {
      if (Date.now() > deadline) this.#fail(`the invoked actor never reached its ${hold.op} gate`);
      await nextTurn();
    }
  }

  #onSnapshot(snapshot: LifecycleSnapshot): void {
    const value = JSON.stringify(snapshot.value);
    if (value === this.#lastValue) return;
    const wasStopping = this.#lastValue.includes('"stopping"');
    this.#lastValue = value;
    if (matches(snapshot, 'stopping') && !wasStopping) this.#spentStopping = 0;
    if (!this.#disposing && matches(snapshot, { stopping: 'round' })) this.#hold('setUp');
  }

  /**
   * Put up the gate a create or recover attempt will stop at, before the event
   * that enters the attempt: the create actor opens the device inside its own
   * start, before any snapshot observer could arm a gate. Only on entry (the
   * state value changes): an event that leaves the value as it is starts nothing.
   * (Not for stopping: the attempt being left may still be making plan calls
   * that a setUp gate would catch.)
   */
  #armFor(target: LifecycleSnapshot): void {
    if (JSON.stringify(target.value) === this.#lastValue) return;
    if (matches(target, { initializing: 'attempt' })) {
      this.#route = 'create';
      this.#hold('open');
    } else if (matches(target, { reconfiguring: 'attempt' })) {
      // The reconfigure actor reads the kernel back first (getLink).
      this.#route = 'reconfiguration';
      this.#hold('getLink');
    } else if (matches(target, { error: { recovering: 'attempt' } })) {
      if (this.#prearmed) this.#prearmed = false;
      else {
        this.#route = 'create';
        this.#hold('open');
      }
    }
  }

  /** The next recovery attempt will find the link in place: it starts with getLink, synchronously, so hold it now. */
  async #prearmRecovery(): Promise<void> {
    const observation = await this.system.observe(this.config.name);
    if (observation.links.includes(this.config.name)) {
      this.#route = 'reconfigure';
      this.#prearmed = true;
      this.#hold('getLink');
    }
  }

  #keep(promise: Promise<unknown>): void {
    promise.catch((error: unknown) => { this.rejections.push(error); });
  }

  #backoff(retry: number): number {
    return backoffDelay({ retryDelay: this.config.retryDelay, retryDelayMax: 30_000, retryJitter: 0 }, retry);
  }

  async #advance(ms: number): Promise<void> {
    if (this.#lastValue.includes('"stopping"')) this.#spentStopping += ms;
    await this.system.advanceTime(ms);
  }

  /** Make the real system produce `event`; `target` is the model's state after it. */
  async execute(event: LifecycleModelEvent, target: LifecycleSnapshot): Promise<void> {
    const { faults } = this.system;
    const type = event.type;
    if (type === 'START') {
      this.#armFor(target);
      this.#keep(this.adapter.start());
    } else if (type === 'CLEANUP') {
      this.#armFor(target);
      this.#keep(this.adapter.cleanup());
    } else if (type === 'RECOVER') {
      await this.#prearmRecovery();
      this.#armFor(target);
      this.#keep(this.adapter.recover());
    } else if (type === 'RECONFIGURE') {
      this.#armFor(target);
      // The configuration the replay checks stays the desired one: the kernel must hold it after.
      // Before a rollback failure the change has steps to undo: one route out, one in (see the error executor).
      const undoFails = this.#next !== undefined && (this.#next as { error?: unknown }).error instanceof RollbackFailedError;
      this.#keep(this.adapter.reconfigure({ routes: undoFails ? [this.config.routes[0]!, EXTRA_ROUTE] : this.config.routes }));
    } else if (type === 'FAULT') {
      await this.#fault(target);
    } else if (type.startsWith('xstate.done.actor.')) {
      if (type.endsWith('.cleanup')) {
        // A cleanup that failed before may have left its failure rules armed.
        faults.clear('setUp');
        faults.clear('getLink');
      }
      // The held call goes on asynchronously: the next gate is up before it can get there.
      this.#releaseHolds();
      this.#armFor(target);
    } else if (type.startsWith('xstate.error.actor.')) {
      const code = modelErrno(event)!;
      if (type.endsWith('.cleanup')) {
        if (code === MODEL_ERRNO.transient) await this.#failCleanupTransiently();
        else this.#failCleanup();
      } else if (this.#route === 'reconfiguration' && (event as { error?: unknown }).error instanceof RollbackFailedError) {
        // Removing routes[1] succeeds, adding EXTRA_ROUTE fails, and so does undoing the removal (an add):
        // recovery, held at its first getLink from here, puts routes[1] back.
        faults.fail('addRoute', MODEL_ERRNO.permanent, 2);
        const held = this.#holds.splice(0);
        await this.#prearmRecovery();
        for (const hold of held) hold.release();
      } else {
        this.#releaseHolds();
        this.#armFor(target);
        if (this.#route === 'create') faults.fail('listAddresses', code);
        else faults.fail('getLink', code);
      }
    } else if (type.startsWith('xstate.after.cleanupTimeout.')) {
      await this.#advance(this.config.cleanupTimeout - this.#spentStopping);
    } else if (type.startsWith('xstate.after.cleanupBackoff.')) {
      // After round n's backoff, round n + 1 (the target) is the one counted.
      await this.#advance(this.#backoff(target.context.cleanupRound - 1));
    } else if (type.startsWith('xstate.after.reconfigureTimeout.')) {
      // The attempt that hung past the deadline settles once it passed (it finds so and changes nothing);
      // a cleanup the deadline starts keeps its own gate.
      const hung = this.#holds.splice(0);
      await this.#advance(this.config.reconfigureTimeout ?? 10_000);
      for (const hold of hung) hold.release();
    } else if (type.startsWith('xstate.after.retryBackoff.')) {
      if (matches(target, { error: { recovering: 'attempt' } })) await this.#prearmRecovery();
      this.#armFor(target);
      await this.#advance(this.#backoff(this.config.retryAttempts + 1));
    } else {
      throw new Error(`no executor for model event ${type}`);
    }
  }

  async #fault(target: LifecycleSnapshot): Promise<void> {
    const { name } = this.config;
    switch (this.config.faultReason) {
      case 'deleted':
        this.#route = 'create';
        this.#armFor(target);
        await this.system.deleteLink(name);
        break;
      case 'down':
        await this.#prearmRecovery();
        this.#armFor(target);
        await this.system.setDown(name);
        break;
      case 'address-removed':
        await this.#prearmRecovery();
        this.#armFor(target);
        await this.system.removeAddress(name, this.config.addresses[0]!);
        break;
    }
  }

  /**
   * Link down fails with a permanent errno and verification cannot read the
   * kernel: the round leaves "unverified" after a permanent error, so cleanup
   * reports CleanupFailedError at once (no backoff to wait through).
   */
  async #failCleanupTransiently(): Promise<void> {
    const { faults } = this.system;
    faults.clear('setUp');
    faults.clear('getLink');
    if (this.#next?.type.startsWith('xstate.after.cleanupTimeout.')) {
      await this.#advance(this.config.cleanupTimeout - this.#spentStopping - 1);
    }
    // A pass that outlived an earlier deadline runs first (session.serial) and
    // looks once too: one failure for each pass held, so the current one gets its own.
    const passes = Math.max(1, this.#holds.length);
    this.#releaseHolds();
    faults.fail('getLink', MODEL_ERRNO.transient, passes);
  }

  #failCleanup(): void {
    const { faults } = this.system;
    faults.clear('setUp');
    faults.clear('getLink');
    this.#releaseHolds();
    faults.fail('setUp', MODEL_ERRNO.permanent, Infinity);
    faults.fail('getLink', MODEL_ERRNO.permanent, Infinity);
  }

  async #waitFor(target: LifecycleSnapshot): Promise<void> {
    const wanted = serializeLifecycleContext(target);
    const deadline = Date.now() + (this.config.stepTimeout ?? 5000);
    for (;;) {
      const now = serializeLifecycleContext(this.adapter.actor.getSnapshot() as LifecycleSnapshot);
      if (now === wanted) return;
      if (Date.now() > deadline) this.#fail(`the adapter is at ${now}, the model at ${wanted}`);
      await nextTurn();
    }
  }

  #fail(message: string): never {
    throw new ModelReplayError(message, this.#path, this.#step);
  }

  #expect(condition: boolean, message: string): void {
    if (!condition) this.#fail(message);
  }

  /** The real system agrees with the model at `target`. */
  async check(target: LifecycleSnapshot, event: LifecycleModelEvent): Promise<void> {
    const snapshot = this.adapter.actor.getSnapshot() as LifecycleSnapshot;
    const top = topLevelState(target.value);
    this.#expect(this.adapter.state === top, `adapter.state ${this.adapter.state}, model ${top}`);
    const counters = JSON.stringify(snapshot.context.counters);
    const modelCounters = JSON.stringify(target.context.counters);
    this.#expect(counters === modelCounters, `counters ${counters}, model ${modelCounters}`);
    this.#expect(this.alerts === target.context.counters.alerts, `'alert' emitted ${this.alerts}×, model ${target.context.counters.alerts}`);
    const kind = errorKind(snapshot.context.lastError);
    const modelKind = errorKind(target.context.lastError);
    this.#expect(kind === modelKind, `lastError ${kind}, model ${modelKind}`);

    if (matches(target, { initializing: 'attempt' }) || matches(target, { error: { recovering: 'attempt' } }) || matches(target, { reconfiguring: 'attempt' }) || matches(target, 'stopping')) {
      await this.#untilHeld();
    }
    await settle();
    const { name } = this.config;
    const seen = await this.system.observe(name);
    const nothing = () => {
      this.#expect(seen.links.length === 0, `links left: ${seen.links.join(', ')}`);
      this.#expect(seen.queueFds === 0, `${seen.queueFds} queue fds open`);
    };
    if (matches(target, 'uninitialized') || matches(target, 'initializing') || matches(target, 'stopped')) {
      nothing();
    } else if (matches(target, 'ready') || matches(target, 'reconfiguring')) {
      this.#expect(sameMembers(seen.links, [name]), `links ${seen.links.join(', ')}, expected ${name}`);
      this.#expect(seen.queueFds === 1, `${seen.queueFds} queue fds, expected 1`);
      const link = seen.link!;
      this.#expect(link.up, `${name} is down`);
      this.#expect(link.mtu === this.config.mtu, `mtu ${link.mtu}`);
      this.#expect(sameMembers(link.addresses, this.config.addresses), `addresses ${link.addresses.join(', ')}`);
      this.#expect(sameMembers(link.routes, this.config.routes), `routes ${link.routes.join(', ')}`);
    } else if (matches(target, 'error')) {
      const from = target.context.errorFrom;
      if (from === 'stopping') {
        // Cleanup failed or timed out: what is left depends on where it stopped; the error kind was compared above.
        if (event.type.startsWith('xstate.after.')) {
          this.#expect(snapshot.context.lastError instanceof CleanupTimeoutError, `lastError ${kind}, expected CleanupTimeoutError`);
        }
      } else if (from === 'initializing' || this.#route === 'create') {
        // Every failed attempt rolled back what it made.
        nothing();
      } else {
        this.#expect(seen.links.includes(name), `${name} should still be there (recovery in place)`);
      }
    }

    const modelTops = this.#modelTops;
    this.#expect(sameSequence(this.emitted, modelTops), `'state' events ${this.emitted.join(' → ')}, model ${modelTops.join(' → ')}`);
  }

  #modelTops: string[] = [];

  /** Replay the whole path; throws ModelReplayError naming the step that disagreed. */
  async run(path: LifecyclePath): Promise<void> {
    this.#path = describePath(path);
    // The graph keeps one snapshot per serialized state (with whatever history
    // reached it first), so the model's own snapshots along this path are
    // recomputed here, purely: counters and errors then belong to this path.
    const { retryAttempts, retryDelay, cleanupTimeout, name } = this.config;
    let [model] = initialTransition(tunLifecycleMachine, { policy: { retryAttempts, retryDelay, cleanupTimeout }, interfaceName: name });
    let previous = topLevelState(model.value) as string;
    for (const [i, step] of path.steps.entries()) {
      this.#step = i;
      this.#next = path.steps[i + 1]?.event;
      if (i > 0) {
        [model] = transition(tunLifecycleMachine, model, step.event as never);
        if (serializeLifecycleState(model as LifecycleSnapshot) !== serializeLifecycleState(step.state)) {
          this.#fail(`the path does not follow the machine under this policy (${serializeLifecycleState(model as LifecycleSnapshot)})`);
        }
        await this.execute(step.event, model as LifecycleSnapshot);
        const top = topLevelState(model.value);
        if (top !== previous) this.#modelTops.push(top);
        previous = top;
      }
      await this.#waitFor(model as LifecycleSnapshot);
      await this.check(model as LifecycleSnapshot, step.event);
    }
  }

  /**
   * Let everything go and clean up whatever state the path ended in; then
   * nothing may be left. Returns what was observed after.
   */
  async dispose(): Promise<SystemObservation> {
    this.#disposing = true;
    this.#releaseHolds();
    this.system.faults.clear();
    const state = this.adapter.state;
    if (state !== 'stopped' && state !== 'uninitialized') {
      const done = this.adapter.cleanup().then(() => undefined, (error: unknown) => error);
      let outcome: unknown = 'pending';
      void done.then((value) => { outcome = value; });
      const deadline = Date.now() + (this.config.stepTimeout ?? 5000);
      let lastTick = Date.now();
      while (outcome === 'pending' && Date.now() < deadline) {
        await settle();
        // Fake time moves only when real progress stalls (a backoff between cleanup rounds), never ahead of it.
        if (outcome === 'pending' && Date.now() - lastTick > 250) {
          lastTick = Date.now();
          await this.system.advanceTime(this.config.retryDelay);
        }
      }
      if (outcome !== undefined) this.#fail(`final cleanup from ${state} failed: ${String(outcome)}`);
    }
    this.#unsubscribe();
    await settle();
    return this.system.observe(this.config.name);
  }
}

function sameSequence(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
