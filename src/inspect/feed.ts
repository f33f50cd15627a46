// The live record the offline inspector page shows: every snapshot (state
// value, active diagram nodes, context, pending timers), every event the
// lifecycle actor received (with timestamps), alerts, and the adapter's
// stats, as JSON-safe messages. It attaches to a running actor from outside
// (actor.subscribe + actor.system.inspect), so no option is needed when the
// adapter is made; whatever happened before attaching shows as the current state.

import { EventEmitter } from 'node:events';
import type { AnyActorRef, AnyStateMachine, InspectionEvent, Subscription } from 'xstate';
import { toMermaid } from '../../machines/diagram.js';
import { toJsonSafe } from './json-safe.js';
import { activePaths, mermaidStateIds } from './state-ids.js';

/** A TunAdapter, or anything with a lifecycle actor (and optionally stats()). */
export interface InspectableAdapter {
  readonly actor: AnyActorRef;
  stats?(): Promise<unknown>;
}
export type InspectTarget = InspectableAdapter | AnyActorRef;

export interface PendingTimer {
  /** 'cleanup deadline', 'next retry', or the delay's name. */
  label: string;
  event: string;
  /** Epoch ms when it fires. */
  dueAt: number;
  delay: number;
}

export interface SnapshotMessage {
  kind: 'snapshot';
  seq: number;
  at: number;
  value: unknown;
  /** Top-level state ('initializing' for { initializing: 'backoff' }). */
  state: string;
  status: string;
  /** Active state paths, outermost first ('initializing', 'initializing.backoff'). */
  paths: string[];
  /** Mermaid ids of the active states, same order. */
  active: string[];
  context: unknown;
  timers: PendingTimer[];
  /** The event that led here. */
  event: string | undefined;
}

export interface EventMessage {
  kind: 'event';
  seq: number;
  at: number;
  type: string;
  /** The event without its type, JSON-safe. */
  detail: unknown;
  /** The sending actor's id, when another actor sent it (an invoked actor, a timer). */
  source: string | undefined;
}

export interface AlertMessage {
  kind: 'alert';
  seq: number;
  at: number;
  detail: unknown;
}

/** A reconfiguration's diff: about to be applied ('applying'), or applied. */
export interface ReconfigureMessage {
  kind: 'reconfigure';
  seq: number;
  at: number;
  phase: 'applying' | 'applied';
  diff: unknown;
}

export interface StatsMessage {
  kind: 'stats';
  seq: number;
  at: number;
  stats: unknown;
}

export type FeedMessage = SnapshotMessage | EventMessage | AlertMessage | ReconfigureMessage | StatsMessage;

export interface WelcomeMessage {
  kind: 'welcome';
  title: string;
  diagram: string;
  stateIds: Record<string, string>;
  details: unknown;
  startedAt: number;
  snapshot: SnapshotMessage;
  stats: StatsMessage | undefined;
  log: Array<EventMessage | AlertMessage | ReconfigureMessage>;
}

export interface FeedOptions {
  /** Shown on the page (e.g. the interface's addresses, MTU, routes). */
  details?: Record<string, unknown>;
  title?: string;
  /** How often stats() is polled while the actor runs. Default 1000 ms. */
  statsIntervalMs?: number;
  /** Events kept for a page that connects late. Default 500. */
  historyLimit?: number;
}

/** Events: 'message' (FeedMessage). */
export class InspectorFeed extends EventEmitter {
  readonly actor: AnyActorRef;
  readonly diagram: string;
  readonly stateIds: Record<string, string>;
  readonly startedAt = Date.now();
  readonly #adapter: InspectableAdapter | undefined;
  readonly #options: FeedOptions;
  readonly #log: Array<EventMessage | AlertMessage | ReconfigureMessage> = [];
  readonly #subscriptions: Subscription[] = [];
  #seq = 0;
  #snapshot: SnapshotMessage;
  #stats: StatsMessage | undefined;
  #statsJson = '';
  #statsTimer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(target: InspectTarget, options: FeedOptions = {}) {
    super();
    const adapter = 'actor' in target && typeof (target as InspectableAdapter).actor?.getSnapshot === 'function'
      ? target as InspectableAdapter : undefined;
    this.actor = adapter ? adapter.actor : target as AnyActorRef;
    this.#adapter = adapter;
    this.#options = options;
    const machine = (this.actor as { logic?: unknown }).logic as AnyStateMachine;
    if (!machine || typeof machine !== 'object' || !('root' in machine)) {
      throw new TypeError('serveInspector: the target must be a TunAdapter or a state machine actor');
    }
    this.diagram = toMermaid(machine);
    this.stateIds = mermaidStateIds(machine);
    this.#snapshot = this.#snapshotMessage(this.actor.getSnapshot(), undefined);

    this.#subscriptions.push(this.actor.subscribe({
      next: (snapshot) => this.#onSnapshot(snapshot),
      error: () => undefined,
      complete: () => { void this.#pollStats().finally(() => this.#stopPolling()); },
    }));
    this.#subscriptions.push(this.actor.system.inspect((event: InspectionEvent) => this.#onInspection(event)));
    const onAlert = (this.actor as { on?: AnyActorRef['on'] }).on;
    if (typeof onAlert === 'function') {
      this.#subscriptions.push(this.actor.on('alert', (event: unknown) => {
        this.#push(this.#remember({ kind: 'alert', seq: 0, at: Date.now(), detail: toJsonSafe(event) }));
      }));
    }
    // A TunAdapter says which diff a reconfiguration applies (the actor's events do not carry it).
    type Emitter = { on?: (e: string, l: (diff: unknown) => void) => unknown; off?: (e: string, l: (diff: unknown) => void) => unknown };
    const emitter = this.#adapter as Emitter | undefined;
    if (emitter && typeof emitter.on === 'function' && typeof emitter.off === 'function') {
      for (const phase of ['applying', 'applied'] as const) {
        const name = phase === 'applying' ? 'reconfiguring' : 'reconfigured';
        const listener = (diff: unknown) => this.#push(this.#remember({ kind: 'reconfigure', seq: 0, at: Date.now(), phase, diff: toJsonSafe(diff) }));
        emitter.on(name, listener);
        this.#subscriptions.push({ unsubscribe: () => { emitter.off!(name, listener); } });
      }
    }
    if (this.#adapter?.stats) {
      void this.#pollStats();
      this.#statsTimer = setInterval(() => void this.#pollStats(), options.statsIntervalMs ?? 1000);
      this.#statsTimer.unref();
    }
  }

  /** Everything a page needs when it (re)connects. */
  welcome(): WelcomeMessage {
    return {
      kind: 'welcome',
      title: this.#options.title ?? 'tun-lifecycle',
      diagram: this.diagram,
      stateIds: this.stateIds,
      details: toJsonSafe(this.#options.details ?? {}),
      startedAt: this.startedAt,
      snapshot: this.#snapshot,
      stats: this.#stats,
      log: [...this.#log],
    };
  }

  get snapshot(): SnapshotMessage {
    return this.#snapshot;
  }

  get log(): ReadonlyArray<EventMessage | AlertMessage | ReconfigureMessage> {
    return this.#log;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#stopPolling();
    for (const subscription of this.#subscriptions.splice(0)) subscription.unsubscribe();
  }

  #push<T extends FeedMessage>(message: T): T {
    message.seq = ++this.#seq;
    if (!this.#closed) this.emit('message', message);
    return message;
  }

  #remember<T extends EventMessage | AlertMessage | ReconfigureMessage>(message: T): T {
    this.#log.push(message);
    const limit = this.#options.historyLimit ?? 500;
    if (this.#log.length > limit) this.#log.splice(0, this.#log.length - limit);
    return message;
  }

  #onSnapshot(snapshot: any): void {
    const previous = this.#snapshot;
    const message = this.#snapshotMessage(snapshot, undefined);
    message.event = this.#lastEventType;
    if (JSON.stringify([message.value, message.context, message.timers, message.status])
      === JSON.stringify([previous.value, previous.context, previous.timers, previous.status])) return;
    this.#snapshot = this.#push(message);
    if (message.state !== previous.state) void this.#pollStats();
  }

  #lastEventType: string | undefined;

  #onInspection(event: InspectionEvent): void {
    if (event.type !== '@xstate.event' || event.actorRef !== this.actor) return;
    const { type, ...rest } = event.event;
    this.#lastEventType = type;
    const sourceRef = event.sourceRef as AnyActorRef | undefined;
    this.#push(this.#remember({
      kind: 'event', seq: 0, at: Date.now(), type,
      detail: toJsonSafe(rest),
      source: sourceRef && sourceRef !== this.actor ? sourceRef.id : undefined,
    }));
  }

  #snapshotMessage(snapshot: any, event: string | undefined): SnapshotMessage {
    const paths = activePaths(snapshot.value);
    return {
      kind: 'snapshot',
      seq: this.#seq,
      at: Date.now(),
      value: toJsonSafe(snapshot.value),
      state: paths[0] ?? String(snapshot.value),
      status: snapshot.status,
      paths,
      active: paths.map((path) => this.stateIds[path] ?? path),
      context: toJsonSafe(snapshot.context),
      timers: this.#timers(),
      event,
    };
  }

  /** The actor system's own pending delayed events (what `after` scheduled). */
  #timers(): PendingTimer[] {
    const scheduled = (this.actor.system as { getSnapshot?(): { _scheduledEvents?: Record<string, any> } })
      .getSnapshot?.()._scheduledEvents ?? {};
    return Object.values(scheduled)
      .filter((s) => s.source === this.actor)
      .map((s) => {
        const type: string = s.event?.type ?? '';
        const name = /^xstate\.after\.([^.]+)\./u.exec(type)?.[1] ?? type;
        const label = name === 'cleanupTimeout' ? 'cleanup deadline' : name === 'retryBackoff' ? 'next retry' : name;
        return { label, event: type, dueAt: s.startedAt + s.delay, delay: s.delay };
      })
      .sort((a, b) => a.dueAt - b.dueAt);
  }

  async #pollStats(): Promise<void> {
    const stats = this.#adapter?.stats;
    if (!stats || this.#closed) return;
    let value: unknown;
    try {
      value = toJsonSafe(await stats.call(this.#adapter));
    } catch (error) {
      value = { error: toJsonSafe(error) };
    }
    const json = JSON.stringify(value);
    if (json === this.#statsJson) return;
    this.#statsJson = json;
    this.#stats = this.#push({ kind: 'stats', seq: 0, at: Date.now(), stats: value });
  }

  #stopPolling(): void {
    if (this.#statsTimer) clearInterval(this.#statsTimer);
    this.#statsTimer = undefined;
  }
}
