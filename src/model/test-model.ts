// The lifecycle statechart as an xstate/graph TestModel. `createTestModel`
// refuses machines with invoke/after, so the model is built with `new
// TestModel` and the events an invoked actor or a timer would produce are
// listed explicitly: the done and error events of each actor (an error with a
// transient and one with a permanent errno, so both branches of the retry
// guard are taken; for the cleanup pass, a CleanupFailedError that says
// whether another round may help) and the delayed
// `xstate.after.<delay>.<state id>` events.
// Traversal only computes snapshots; no actor runs.

import type { AnyStateMachine, SnapshotFrom } from 'xstate';
import { TestModel } from 'xstate/graph';
import type { TestPath } from 'xstate/graph';
import { ActorId, tunLifecycleMachine } from '../../machines/tunLifecycle.js';
import { CleanupFailedError, RollbackFailedError } from '../errors.js';
import type { LifecyclePolicy } from '../../machines/types.js';
import { activeStateIds, machineStateIds, machineTransitions, transitionsTaken } from './machine-graph.js';

export type LifecycleSnapshot = SnapshotFrom<typeof tunLifecycleMachine>;

/** The events of the model: the API's, the link monitor's, and those actors and timers produce. */
export type LifecycleModelEvent =
  | { type: 'START' }
  | { type: 'CLEANUP' }
  | { type: 'RECOVER' }
  | { type: 'RECONFIGURE' }
  | { type: 'FAULT'; reason: string }
  | { type: `xstate.done.actor.${string}`; output?: unknown }
  | { type: `xstate.error.actor.${string}`; error: Error & { code: string; cause?: unknown } }
  | { type: `xstate.after.${string}` };

export type LifecyclePath = TestPath<LifecycleSnapshot, LifecycleModelEvent>;

/** An errno-coded error as a binding would reject with. */
export function errnoError(code: string, message = `${code} (model)`): Error & { code: string } {
  return Object.assign(new Error(message), { code });
}

/** Errnos the model uses for the two kinds of failure (see machines/retry-policy.ts). */
export const MODEL_ERRNO = { transient: 'EBUSY', permanent: 'EPERM' } as const;

/** What a cleanup pass rejects with when it left something: the errno of what it met, and whether a round may help. */
export function cleanupFailure(code: string): CleanupFailedError & { code: string } {
  return new CleanupFailedError(['model leftover'], {
    state: 'stopping', interfaceName: 'model0', cause: errnoError(code), transient: code === MODEL_ERRNO.transient,
  });
}

/** What the reconfigure actor rejects with when its undo failed: the step's errno permanent, the undo's transient. */
export function rollbackFailure(): RollbackFailedError & { code: string } {
  return new RollbackFailedError(errnoError(MODEL_ERRNO.transient), {
    state: 'reconfiguring', interfaceName: 'model0', cause: errnoError(MODEL_ERRNO.permanent),
  }) as RollbackFailedError & { code: string };
}

/** The errno a model error event stands for (a cleanup failure's is its cause's). */
export function modelErrno(event: LifecycleModelEvent): string | undefined {
  const error = (event as { error?: { code?: string; cause?: { code?: string } } }).error;
  return error?.cause?.code ?? error?.code;
}

/**
 * Every event the machine can receive, derived from its definition: for each
 * delayed transition its after-event; for each invoked actor its done event
 * and an error of each kind. FAULT carries `faultReason`.
 */
export function lifecycleModelEvents(machine: AnyStateMachine = tunLifecycleMachine, faultReason = 'deleted'): LifecycleModelEvent[] {
  const events: LifecycleModelEvent[] = [];
  const seen = new Set<string>();
  for (const transition of machineTransitions(machine)) {
    const type = transition.event;
    if (seen.has(type)) continue;
    seen.add(type);
    if (type.startsWith('xstate.error.actor.')) {
      const failure = type.endsWith(`.${ActorId.cleanup}`) ? cleanupFailure : errnoError;
      for (const code of [MODEL_ERRNO.transient, MODEL_ERRNO.permanent]) {
        events.push({ type: type as `xstate.error.actor.${string}`, error: failure(code) });
      }
      // A reconfiguration whose undo failed too (its step's errno the permanent one).
      if (type.endsWith(`.${ActorId.reconfigure}`)) {
        events.push({ type: type as `xstate.error.actor.${string}`, error: rollbackFailure() });
      }
    } else if (type.startsWith('xstate.done.actor.')) {
      const output = type.endsWith(`.${ActorId.cleanup}`) ? undefined : { name: 'model0', ifindex: 1 };
      events.push(output === undefined ? { type: type as `xstate.done.actor.${string}` } : { type: type as `xstate.done.actor.${string}`, output });
    } else if (type === 'FAULT') {
      events.push({ type: 'FAULT', reason: faultReason });
    } else {
      events.push({ type } as LifecycleModelEvent);
    }
  }
  return events;
}

/**
 * The part of a snapshot that decides what happens next: the state value and
 * the context the guards read, where they read it. Counters are left out
 * (they only grow, and would make the graph infinite); so is what a state
 * cannot read because entering the state that reads it resets it: the attempt
 * count and cleanupRequested outside an attempt episode (beginEpisode),
 * cleanupRound outside stopping (beginCleanup), errorFrom outside error (every
 * way into error.halted sets it). Otherwise each stopping round would be
 * repeated for every history that led to it.
 */
export function serializeLifecycleState(snapshot: LifecycleSnapshot): string {
  const { attempt, cleanupRound, cleanupRequested, errorFrom } = snapshot.context;
  const inEpisode = snapshot.matches('initializing') || snapshot.matches({ error: 'recovering' }) || snapshot.matches('reconfiguring');
  return JSON.stringify([
    snapshot.value,
    inEpisode ? attempt : null,
    inEpisode ? cleanupRequested : null,
    snapshot.matches('stopping') ? cleanupRound : null,
    snapshot.matches('error') ? errorFrom ?? null : null,
  ]);
}

/**
 * Ready after a reconfiguration applied, after one rolled back, or before
 * any: the same state to every guard, but three states of the graph, so the
 * paths take both ways back from reconfiguring (a way back into a state
 * already on the path is never on a simple or shortest path).
 */
function lastReconfiguration(snapshot: LifecycleSnapshot): 'none' | 'applied' | 'rolled-back' {
  const { reconfigureError, counters } = snapshot.context;
  if (reconfigureError) return 'rolled-back';
  return counters.reconfigurations > 0 ? 'applied' : 'none';
}

/**
 * Finer: the state value and every context field a guard reads, wherever the
 * snapshot is (only the cleanup round is left out outside stopping, which
 * resets it). States are told apart by the history that reached them, so
 * the shortest paths reach each of those contexts once; and the replay
 * compares the adapter with the model at this grain.
 */
export function serializeLifecycleContext(snapshot: LifecycleSnapshot): string {
  const { attempt, cleanupRound, cleanupRequested, errorFrom } = snapshot.context;
  // Stopping after a reconfiguration is told apart too (and by whether a failed attempt came before), so the
  // paths take each way cleanup() asked while reconfiguring gets there.
  const ready = snapshot.matches('ready') ? [lastReconfiguration(snapshot)]
    : snapshot.matches('stopping') && snapshot.context.counters.reconfigurations > 0 ? [true, snapshot.context.lastError !== undefined] : [];
  return JSON.stringify([snapshot.value, attempt, cleanupRequested, snapshot.matches('stopping') ? cleanupRound : null, errorFrom ?? null, ...ready]);
}

export function serializeModelEvent(event: LifecycleModelEvent): string {
  const code = modelErrno(event);
  const undo = (event as { error?: unknown }).error instanceof RollbackFailedError ? ':rollback-failed' : '';
  return code ? `${event.type}:${code}${undo}` : event.type;
}

export interface LifecycleTestModelOptions {
  /** Policy the model (and the system replaying it) uses; retryAttempts bounds the graph. Default retryAttempts 1. */
  policy?: Partial<LifecyclePolicy>;
  faultReason?: string;
  /** Which snapshots are one state of the graph. Default serializeLifecycleState. */
  serializeState?: (snapshot: LifecycleSnapshot) => string;
  /** Leave these event types out (the simple paths leave RECONFIGURE out: with it they are too many to enumerate). */
  without?: readonly string[];
}

/** A TestModel over the production machine (or a machine provided from it). */
export function createLifecycleTestModel(machine: AnyStateMachine = tunLifecycleMachine, options: LifecycleTestModelOptions = {}) {
  const policy = { retryAttempts: 1, ...options.policy };
  return new TestModel(machine as never, {
    events: lifecycleModelEvents(machine, options.faultReason).filter((event) => !options.without?.includes(event.type)) as never,
    input: { policy, interfaceName: 'model0' },
    serializeState: (options.serializeState ?? serializeLifecycleState) as never,
    serializeEvent: serializeModelEvent as never,
  }) as unknown as TestModel<LifecycleSnapshot, LifecycleModelEvent, unknown>;
}

export interface Coverage {
  states: { all: string[]; covered: string[]; missing: string[] };
  transitions: { all: string[]; covered: string[]; missing: string[] };
}

/** Which state nodes and which transitions of the machine a set of paths exercises. */
export function pathCoverage(paths: readonly LifecyclePath[], machine: AnyStateMachine = tunLifecycleMachine): Coverage {
  const states = new Set<string>();
  const transitions = new Set<string>();
  for (const path of paths) {
    path.steps.forEach((step, i) => {
      for (const id of activeStateIds(machine, step.state.value)) states.add(id);
      if (i === 0) return;
      for (const taken of transitionsTaken(machine, path.steps[i - 1]!.state, step.event)) transitions.add(taken.key);
    });
  }
  const allStates = machineStateIds(machine);
  const allTransitions = machineTransitions(machine).map((t) => t.key);
  return {
    states: { all: allStates, covered: allStates.filter((s) => states.has(s)), missing: allStates.filter((s) => !states.has(s)) },
    transitions: {
      all: allTransitions,
      covered: allTransitions.filter((t) => transitions.has(t)),
      missing: allTransitions.filter((t) => !transitions.has(t)),
    },
  };
}

/** A small subset of `paths` covering everything they cover together (greedy set cover). */
export function coveringPaths(paths: readonly LifecyclePath[], machine: AnyStateMachine = tunLifecycleMachine): LifecyclePath[] {
  const itemsOf = (path: LifecyclePath) => {
    const c = pathCoverage([path], machine);
    return new Set([...c.states.covered.map((s) => `s:${s}`), ...c.transitions.covered.map((t) => `t:${t}`)]);
  };
  const candidates = paths.map((path) => ({ path, items: itemsOf(path) }));
  const wanted = new Set(candidates.flatMap((c) => [...c.items]));
  const chosen: LifecyclePath[] = [];
  while (wanted.size > 0) {
    let best = candidates[0]!;
    let bestGain = -1;
    for (const candidate of candidates) {
      let gain = 0;
      for (const item of candidate.items) if (wanted.has(item)) gain++;
      // Prefer shorter paths on ties: cheaper to replay and easier to read when one fails.
      if (gain > bestGain || (gain === bestGain && candidate.path.steps.length < best.path.steps.length)) {
        best = candidate;
        bestGain = gain;
      }
    }
    if (bestGain <= 0) break;
    chosen.push(best.path);
    for (const item of best.items) wanted.delete(item);
  }
  return chosen;
}

/** One line per step: `START → {"initializing":"attempt"}`. */
export function describePath(path: LifecyclePath): string {
  return path.steps
    .map((step) => `${serializeModelEvent(step.event)} → ${JSON.stringify(step.state.value)}`)
    .join('  ·  ');
}
