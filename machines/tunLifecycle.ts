// The lifecycle statechart: the single source of truth for what a TUN adapter
// may do when. It has no I/O of its own: the actors it invokes (create,
// recover, cleanup, linkMonitor) are placeholders here, given their real
// implementations either with `.provide()` or, for one running actor system,
// through `systemActors` (what src/adapter does). Guards, delays and actions
// are pure.
//
// Edges: uninitialized→initializing→ready→stopping→stopped; initializing→error;
// ready→error; stopping→error; error→ready (recovery). Extension, so nothing
// leaks: error→stopping (cleanup of whatever a failure left), and
// initializing→stopping (cleanup() while initializing, after the attempt in
// flight settles). Live reconfiguration: ready→reconfiguring→ready (applied,
// or given up and rolled back), reconfiguring→error (the rollback failed:
// recovering; the reconfigureTimeout deadline: halted), reconfiguring→stopping
// (cleanup() asked meanwhile, after the attempt in flight settles).
//
// Every retry is a state: create and recovery attempts (attempt / backoff,
// built by one helper) and cleanup rounds (stopping.round / stopping.backoff,
// all under the one cleanupTimeout deadline) back off with `after`, never in
// a loop inside an actor.

import { assign, emit, enqueueActions, fromCallback, fromPromise, setup } from 'xstate';
import type { ActorSystem, DoneActorEvent, ErrorActorEvent } from 'xstate';
import {
  CleanupFailedError, CleanupTimeoutError, ConfigurationFailedError, InterfaceFaultError, ReconfigureTimeoutError, RollbackFailedError, TunError,
} from '../src/errors.js';
import { backoffDelay, isTransientCleanupFailure, isTransientError } from './retry-policy.js';
import type {
  AlertEvent, AttemptInput, CleanupInput, CreateOutput, FailureOrigin, LifecyclePolicy, TunLifecycleContext, TunLifecycleEvent, TunLifecycleInput,
} from './types.js';

export const DEFAULT_POLICY: Readonly<LifecyclePolicy> = Object.freeze({
  retryAttempts: 5,
  retryDelay: 200,
  retryDelayMax: 30_000,
  retryJitter: 0,
  cleanupTimeout: 10_000,
  alertThreshold: 3,
  reconfigureTimeout: 10_000,
});

/** Invoked actor ids: they name the done/error events (xstate.done.actor.<id>). */
export const ActorId = {
  create: 'create',
  recover: 'recover',
  cleanup: 'cleanup',
  linkMonitor: 'linkMonitor',
  reconfigure: 'reconfigure',
} as const;

type PromiseCreator<Output, Input> = Parameters<typeof fromPromise<Output, Input>>[0];
type CallbackFunction = Parameters<typeof fromCallback<TunLifecycleEvent, void>>[0];

/** What runs each invoked actor (the same contracts as the `actors` of setup() below). */
export interface LifecycleActorImplementations {
  create: PromiseCreator<CreateOutput, AttemptInput>;
  recover: PromiseCreator<CreateOutput, AttemptInput>;
  cleanup: PromiseCreator<void, CleanupInput>;
  reconfigure: PromiseCreator<void, AttemptInput>;
  linkMonitor: CallbackFunction;
}

/**
 * The implementations for one running actor system: an embedder that runs
 * this very machine (src/adapter, one actor per interface) registers them for
 * its actor's system instead of calling `.provide()`, which would build the
 * whole state-node tree a second time (about 1 ms of every cold start).
 * Without an entry (and without `.provide()`) an actor is "not provided".
 */
export const systemActors = new WeakMap<ActorSystem<any>, LifecycleActorImplementations>();

const notProvided = (name: string): never => {
  throw new Error(`tunLifecycleMachine: actor "${name}" was not provided; use machine.provide({ actors: { ${name} } })`);
};

/** A placeholder: the system's registered implementation, else "not provided". */
function promiseSlot<Name extends 'create' | 'recover' | 'cleanup' | 'reconfigure'>(name: Name) {
  type Creator = LifecycleActorImplementations[Name];
  return ((args: Parameters<Creator>[0]) => {
    const run = systemActors.get(args.system)?.[name] as ((a: typeof args) => ReturnType<Creator>) | undefined;
    return run ? run(args) : notProvided(name);
  }) as Creator;
}

function errorOf(event: TunLifecycleEvent | ErrorActorEvent | DoneActorEvent): unknown {
  return (event as { error?: unknown }).error;
}

function asError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}

/** A failure counts toward the alert threshold; every threshold-th in a row raises 'alert'. */
const countFailure = enqueueActions<TunLifecycleContext, any, undefined, TunLifecycleEvent, any, any, any, any, AlertEvent>(
  ({ context, enqueue }) => {
    const consecutiveFailures = context.consecutiveFailures + 1;
    enqueue.assign({
      consecutiveFailures,
      counters: { ...context.counters, failures: context.counters.failures + 1 },
    });
    const threshold = context.policy.alertThreshold;
    if (threshold > 0 && consecutiveFailures % threshold === 0) {
      enqueue.assign(({ context: c }) => ({ counters: { ...c.counters, alerts: c.counters.alerts + 1 } }));
      enqueue.emit(({ context: c }) => ({
        type: 'alert' as const,
        consecutiveFailures,
        error: c.lastError,
        state: c.errorFrom,
      }));
    }
  },
);

function failure(origin: FailureOrigin, make: (context: TunLifecycleContext, event: any) => Error) {
  return assign<TunLifecycleContext, any, undefined, TunLifecycleEvent, any>(({ context, event }) => ({
    lastError: make(context, event),
    errorFrom: origin,
  }));
}

/** How one attempt episode (create, recover or reconfigure) differs from the others. */
export interface AttemptStatesOptions {
  /** The actor each attempt invokes (its id and src). */
  actor: typeof ActorId.create | typeof ActorId.recover | typeof ActorId.reconfigure;
  /** Actions when an attempt succeeds (and no cleanup was asked meanwhile). */
  succeeded: Array<'rememberInterface' | 'countRecovery'>;
  /** Action when the episode gives up (a permanent error, or the retries used up). */
  failed: 'failInitialization' | 'failRecovery' | 'failReconfigure';
  /** Where giving up leads. Default error.halted. */
  failedTarget?: string;
  /** A failure that ends the episode before any other rule (a rollback that failed). */
  fatal?: { guard: 'rollbackFailed'; target: string; actions: Array<'recordRollbackFailure' | 'countFailure'> };
  /** cleanup() during the backoff goes to stopping at once (else it waits for the next attempt). */
  cleanupInBackoff: boolean;
}

/**
 * The attempt / backoff sub-states of an episode that makes the interface
 * (initializing, error.recovering): each attempt invokes the actor; a
 * transient failure with retries left backs off (`after: retryBackoff`) and
 * tries again. Written once, so both episodes follow the same retry policy.
 */
export function attemptStates(options: AttemptStatesOptions) {
  return {
    initial: 'attempt' as const,
    entry: 'beginEpisode' as const,
    states: {
      attempt: {
        entry: 'countAttempt' as const,
        invoke: {
          id: options.actor,
          src: options.actor,
          input: ({ context }: { context: TunLifecycleContext }): AttemptInput => ({ attempt: context.attempt }),
          onDone: [
            // The interface is made, but cleanup() came meanwhile: tear it down.
            { guard: 'cleanupRequested' as const, target: '#tunLifecycle.stopping', actions: 'rememberInterface' as const },
            { target: '#tunLifecycle.ready', actions: options.succeeded },
          ],
          onError: [
            ...(options.fatal ? [options.fatal] : []),
            // The attempt rolled back; cleanup still runs to verify nothing is left.
            { guard: 'cleanupRequested' as const, target: '#tunLifecycle.stopping', actions: 'recordAttemptError' as const },
            { guard: 'canRetry' as const, target: 'backoff', actions: ['recordAttemptError' as const, 'countFailure' as const] },
            { target: options.failedTarget ?? '#tunLifecycle.error.halted', actions: [options.failed, 'countFailure' as const] },
          ],
        },
        // Wait for the attempt in flight: leaving now would orphan what it is making.
        on: { CLEANUP: { actions: 'requestCleanup' as const } },
      },
      backoff: {
        after: { retryBackoff: { target: 'attempt' } },
        ...(options.cleanupInBackoff ? { on: { CLEANUP: { target: '#tunLifecycle.stopping' } } } : {}),
      },
    },
  };
}

export const tunLifecycleMachine = setup({
  types: {
    context: {} as TunLifecycleContext,
    events: {} as TunLifecycleEvent,
    input: {} as TunLifecycleInput | undefined,
    emitted: {} as AlertEvent,
  },
  actors: {
    /** Open, configure, link up, verify; rolls back what it made before rejecting. */
    create: fromPromise<CreateOutput, AttemptInput>(promiseSlot('create')),
    /** Re-create or re-configure after a fault; same contract as create. */
    recover: fromPromise<CreateOutput, AttemptInput>(promiseSlot('recover')),
    /**
     * One cleanup pass: link down → addresses → routes → release → verify.
     * Resolves when nothing is left; rejects with what is (a CleanupFailedError
     * whose `transient` says whether another round may help).
     */
    cleanup: fromPromise<void, CleanupInput>(promiseSlot('cleanup')),
    /**
     * Converge the kernel to the desired configuration the session holds:
     * diff against the kernel's read-back, apply, verify. A failed step is
     * rolled back before it rejects with the step's error; a rollback that
     * failed too rejects with RollbackFailedError.
     */
    reconfigure: fromPromise<void, AttemptInput>(promiseSlot('reconfigure')),
    /** Watches the kernel while ready; sends FAULT. Not provided: watches nothing. */
    linkMonitor: fromCallback<TunLifecycleEvent, void>((args) => systemActors.get(args.system)?.linkMonitor(args)),
  },
  guards: {
    /** The failed attempt may be retried: transient errno and retries left. */
    canRetry: ({ context, event }) =>
      isTransientError(errorOf(event)) && context.attempt <= context.policy.retryAttempts,
    /** The failed cleanup round may be repeated: another round may help and rounds are left. */
    canRetryCleanup: ({ context, event }) =>
      isTransientCleanupFailure(errorOf(event)) && context.cleanupRound <= context.policy.retryAttempts,
    cleanupRequested: ({ context }) => context.cleanupRequested,
    /** Recovery makes sense unless the failure was in cleanup (then only cleanup is allowed). */
    canRecover: ({ context }) => context.errorFrom !== 'stopping',
    /** The reconfiguration could not undo its failed step: the kernel holds neither configuration. */
    rollbackFailed: ({ event }) => errorOf(event) instanceof RollbackFailedError,
  },
  delays: {
    retryBackoff: ({ context }) => backoffDelay(context.policy, context.attempt),
    cleanupBackoff: ({ context }) => backoffDelay(context.policy, context.cleanupRound),
    cleanupTimeout: ({ context }) => context.policy.cleanupTimeout,
    reconfigureTimeout: ({ context }) => context.policy.reconfigureTimeout,
  },
  actions: {
    beginEpisode: assign({ attempt: 0, cleanupRequested: false }),
    countAttempt: assign(({ context }) => ({
      attempt: context.attempt + 1,
      counters: {
        ...context.counters,
        attempts: context.counters.attempts + 1,
        retries: context.counters.retries + (context.attempt > 0 ? 1 : 0),
      },
    })),
    requestCleanup: assign({ cleanupRequested: true }),
    rememberInterface: assign(({ context, event }) => {
      const output = (event as unknown as { output?: Partial<CreateOutput> }).output;
      return {
        ifindex: output?.ifindex ?? context.ifindex,
        interfaceName: output?.name ?? context.interfaceName,
      };
    }),
    /** A failed attempt or cleanup round that will be retried: keep its error (the raw kernel error of an attempt). */
    recordAttemptError: assign(({ event }) => ({ lastError: asError(errorOf(event)) })),
    countFailure,
    resetFailures: assign({ consecutiveFailures: 0 }),
    countRecovery: assign(({ context }) => ({ counters: { ...context.counters, recoveries: context.counters.recoveries + 1 } })),
    /** A cleanup episode begins: a fresh round count. */
    beginCleanup: assign(({ context }) => ({
      cleanupRound: 0,
      counters: { ...context.counters, cleanups: context.counters.cleanups + 1 },
    })),
    countCleanupRound: assign(({ context }) => ({
      cleanupRound: context.cleanupRound + 1,
      counters: { ...context.counters, cleanupRounds: context.counters.cleanupRounds + 1 },
    })),
    failInitialization: failure('initializing', (context, event) =>
      new ConfigurationFailedError(context.attempt, { state: 'initializing', interfaceName: context.interfaceName, cause: errorOf(event) })),
    failRecovery: failure('error', (context, event) =>
      new ConfigurationFailedError(context.attempt, { state: 'error', interfaceName: context.interfaceName, cause: errorOf(event) })),
    beginReconfigure: assign(({ context }) => ({
      reconfigureError: undefined,
      counters: { ...context.counters, reconfigurations: context.counters.reconfigurations + 1 },
    })),
    /** Given up and rolled back: the call is rejected, the adapter stays ready. */
    failReconfigure: assign(({ context, event }) => ({
      reconfigureError: new ConfigurationFailedError(context.attempt, { state: 'ready', interfaceName: context.interfaceName, cause: errorOf(event) }),
    })),
    recordRollbackFailure: failure('reconfiguring', (context, event) => {
      const error = asError(errorOf(event));
      return error instanceof TunError ? error : new ConfigurationFailedError(context.attempt, { state: 'reconfiguring', interfaceName: context.interfaceName, cause: error });
    }),
    recordReconfigureTimeout: failure('reconfiguring', (context) =>
      new ReconfigureTimeoutError(context.policy.reconfigureTimeout, { state: 'reconfiguring', interfaceName: context.interfaceName })),
    recordFault: enqueueActions(({ context, event, enqueue }) => {
      const fault = event as Extract<TunLifecycleEvent, { type: 'FAULT' }>;
      enqueue.assign({
        lastError: new InterfaceFaultError(fault.reason, { state: 'ready', interfaceName: context.interfaceName, cause: fault.error }),
        errorFrom: 'ready',
        counters: { ...context.counters, faults: context.counters.faults + 1 },
      });
    }),
    recordCleanupTimeout: failure('stopping', (context) =>
      new CleanupTimeoutError(context.policy.cleanupTimeout, { state: 'stopping', interfaceName: context.interfaceName })),
    recordCleanupFailure: failure('stopping', (context, event) => {
      const error = errorOf(event);
      if (error instanceof TunError) return error;
      return new CleanupFailedError([], { state: 'stopping', interfaceName: context.interfaceName, cause: error });
    }),
  },
}).createMachine({
  id: 'tunLifecycle',
  context: ({ input }) => ({
    policy: { ...DEFAULT_POLICY, ...input?.policy },
    interfaceName: input?.interfaceName ?? 'tun',
    attempt: 0,
    cleanupRound: 0,
    cleanupRequested: false,
    lastError: undefined,
    errorFrom: undefined,
    ifindex: undefined,
    consecutiveFailures: 0,
    reconfigureError: undefined,
    counters: { attempts: 0, retries: 0, failures: 0, faults: 0, recoveries: 0, cleanups: 0, cleanupRounds: 0, alerts: 0, reconfigurations: 0 },
  }),
  initial: 'uninitialized',
  states: {
    uninitialized: {
      on: { START: { target: 'initializing' } },
    },

    initializing: attemptStates({
      actor: ActorId.create,
      succeeded: ['rememberInterface'],
      failed: 'failInitialization',
      // Nothing in flight while waiting: stop retrying and clean up now.
      cleanupInBackoff: true,
    }),

    ready: {
      entry: 'resetFailures',
      invoke: { id: ActorId.linkMonitor, src: 'linkMonitor' },
      on: {
        FAULT: { target: 'error.recovering', actions: ['recordFault', 'countFailure'] },
        CLEANUP: { target: 'stopping' },
        RECONFIGURE: { target: 'reconfiguring' },
      },
    },

    /**
     * Extension: the desired configuration changed while ready. The queues
     * stay open (packets flow); the link monitor rests, and on ready again it
     * reads the kernel afresh. Giving up (a permanent errno, or the retries
     * used up) rolled the kernel back: ready, the call rejected.
     */
    reconfiguring: {
      ...attemptStates({
        actor: ActorId.reconfigure,
        succeeded: [],
        failed: 'failReconfigure',
        failedTarget: '#tunLifecycle.ready',
        fatal: { guard: 'rollbackFailed', target: '#tunLifecycle.error.recovering', actions: ['recordRollbackFailure', 'countFailure'] },
        cleanupInBackoff: true,
      }),
      entry: ['beginEpisode', 'beginReconfigure'],
      // One deadline for every attempt; the attempt in flight undoes its changes once it settles.
      after: {
        reconfigureTimeout: [
          // cleanup() was asked meanwhile: past the deadline it need not wait any more.
          { guard: 'cleanupRequested', target: 'stopping', actions: ['recordReconfigureTimeout', 'countFailure'] },
          { target: 'error.halted', actions: ['recordReconfigureTimeout', 'countFailure'] },
        ],
      },
    },

    stopping: {
      initial: 'round',
      entry: 'beginCleanup',
      states: {
        /** One cleanup pass. */
        round: {
          entry: 'countCleanupRound',
          invoke: {
            id: ActorId.cleanup,
            src: 'cleanup',
            input: ({ context }) => ({ round: context.cleanupRound }),
            onDone: { target: '#tunLifecycle.stopped' },
            onError: [
              { guard: 'canRetryCleanup', target: 'backoff', actions: 'recordAttemptError' },
              // Every error permanent, or the rounds used up.
              { target: '#tunLifecycle.error.halted', actions: ['recordCleanupFailure', 'countFailure'] },
            ],
          },
        },
        backoff: {
          after: { cleanupBackoff: { target: 'round' } },
        },
      },
      // One deadline for every round. A pass in flight keeps running past it
      // and still releases everything (the next cleanup joins it); no new
      // round starts, since leaving stopping cancels the backoff.
      after: { cleanupTimeout: { target: 'error.halted', actions: ['recordCleanupTimeout', 'countFailure'] } },
    },

    stopped: { type: 'final' },

    error: {
      initial: 'halted',
      on: { CLEANUP: { target: 'stopping' } },
      states: {
        /** Waiting: cleanup() (or RECOVER unless cleanup was what failed). */
        halted: {
          on: { RECOVER: { guard: 'canRecover', target: 'recovering' } },
        },
        /** Re-create or re-configure with the same retry policy as initializing. */
        recovering: attemptStates({
          actor: ActorId.recover,
          succeeded: ['rememberInterface', 'countRecovery'],
          failed: 'failRecovery',
          cleanupInBackoff: false,
        }),
      },
    },
  },
});

export type TunLifecycleMachine = typeof tunLifecycleMachine;

/** The top-level state of a snapshot value ('initializing' for { initializing: 'backoff' }). */
export function topLevelState(value: unknown): import('./types.js').InterfaceState {
  return (typeof value === 'string' ? value : Object.keys(value as object)[0]) as import('./types.js').InterfaceState;
}
