// Turns the actor's snapshots into what the adapter reports: the top-level
// state, one log line per change of the state value, a call for each
// top-level transition, and the settling of pending start()/cleanup()/
// recover() promises. One actor subscription serves them all: each extra
// observer is work XState does on every snapshot of every adapter.

import type { StateValue } from 'xstate';
import { topLevelState } from '../../machines/tunLifecycle.js';
import { InterfaceState } from '../../machines/types.js';
import type { Log } from '../log.js';
import type { LifecycleSnapshot } from './actors.js';

/** How a pending promise settles: with a value, or rejected with an error. */
export type Verdict<T> = { value: T } | { error: unknown };

interface Watcher {
  /** Called on a change; a verdict settles (and removes) the watcher. */
  decide(state: InterfaceState): boolean;
  everyStep: boolean;
  lastState: InterfaceState;
}

export interface SnapshotWatchHooks {
  /** The interface's name as logs should give it now. */
  name(): string;
  /** A top-level transition, before pending promises hear of it. */
  transition(to: InterfaceState, from: InterfaceState): void;
}

export class SnapshotWatch {
  #state: InterfaceState;
  /** The last snapshot's state value and its key (compared on every snapshot). */
  #value: StateValue;
  #valueKey: string;
  readonly #watchers = new Set<Watcher>();
  readonly #log: Log;
  readonly #hooks: SnapshotWatchHooks;

  constructor(initial: StateValue, log: Log, hooks: SnapshotWatchHooks) {
    this.#state = topLevelState(initial);
    this.#value = initial;
    this.#valueKey = valueKey(initial);
    this.#log = log;
    this.#hooks = hooks;
  }

  get state(): InterfaceState {
    return this.#state;
  }

  /**
   * A promise settled by the first verdict decide(state) gives, asked on
   * every top-level change (or, with everyStep, every change of the state
   * value). A promise made inside a change first hears the next one.
   */
  until<T>(decide: (state: InterfaceState) => Verdict<T> | undefined, everyStep = false): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#watchers.add({
        decide: (state) => {
          const verdict = decide(state);
          if (verdict === undefined) return false;
          if ('error' in verdict) reject(verdict.error);
          else resolve(verdict.value);
          return true;
        },
        everyStep,
        lastState: this.#state,
      });
    });
  }

  observe(snapshot: LifecycleSnapshot): void {
    const key = valueKey(snapshot.value);
    if (key === this.#valueKey) return;
    const fromValue = this.#value;
    this.#value = snapshot.value;
    this.#valueKey = key;
    const from = this.#state;
    const to = topLevelState(snapshot.value);
    this.#state = to;
    this.#logChange(snapshot, fromValue, from, to);
    if (from !== to) this.#hooks.transition(to, from);
    if (this.#watchers.size === 0) return;
    for (const watcher of [...this.#watchers]) {
      if (!watcher.everyStep && to === watcher.lastState) continue;
      watcher.lastState = to;
      if (watcher.decide(to)) this.#watchers.delete(watcher);
    }
  }

  #logChange(snapshot: LifecycleSnapshot, fromValue: StateValue, from: InterfaceState, to: InterfaceState): void {
    const level = from === to ? 'debug' : to === InterfaceState.Error ? 'warn' : 'info';
    // Built only when something listens: this runs on every transition of every adapter.
    if (!this.#log.enabled(level)) return;
    const name = this.#hooks.name();
    const fields = { interface: name, from: fromValue, to: snapshot.value, attempt: snapshot.context.attempt };
    if (from === to) {
      this.#log('debug', fields, `tun-lifecycle: ${name} ${JSON.stringify(fromValue)} → ${JSON.stringify(snapshot.value)}`);
    } else if (to === InterfaceState.Error) {
      this.#log('warn', { ...fields, error: snapshot.context.lastError }, `tun-lifecycle: ${name} ${from} → error: ${snapshot.context.lastError?.message}`);
    } else {
      this.#log('info', fields, `tun-lifecycle: ${name} ${from} → ${to}`);
    }
  }
}

/** 'ready', 'initializing.backoff', 'error.recovering.attempt': the machine has no parallel states. */
export function valueKey(value: StateValue): string {
  if (typeof value === 'string') return value;
  let key = '';
  for (const name in value) {
    const child = value[name];
    key += child === undefined ? name : `${name}.${valueKey(child)}`;
  }
  return key;
}
