// The lifecycle statechart: the single source of truth for what a TUN adapter
// may do when. It has no I/O of its own: the actors it invokes (create,
// recover, cleanup, linkMonitor) are placeholders here, and src/ provides the
// real ones with `.provide()`. Guards, delays and actions are pure.
//
// Edges: uninitialized→initializing→ready→stopping→stopped; initializing→error;
// ready→error; stopping→error; error→ready (recovery). Extension, so nothing
// leaks: error→stopping (cleanup of whatever a failure left), and
// initializing→stopping (cleanup() while initializing, after the attempt in
// flight settles).

import { assign, emit, enqueueActions, fromCallback, fromPromise, setup } from 'xstate';
import type { DoneActorEvent, ErrorActorEvent } from 'xstate';
import { CleanupFailedError, CleanupTimeoutError, ConfigurationFailedError, InterfaceFaultError, TunError } from '../src/errors.js';
import { backoffDelay, isTransientError } from './retry-policy.js';
import type {
  AlertEvent, AttemptInput, CreateOutput, FailureOrigin, LifecyclePolicy, TunLifecycleContext, TunLifecycleEvent, TunLifecycleInput,
} from './types.js';

export const DEFAULT_POLICY: Readonly<LifecyclePolicy> = Object.freeze({
  retryAttempts: 5,
  retryDelay: 200,
  retryDelayMax: 30_000,
  retryJitter: 0,
  cleanupTimeout: 10_000,
  alertThreshold: 3,
});

/** Invoked actor ids: they name the done/error events (xstate.done.actor.<id>). */
export const ActorId = {
  create: 'create',
  recover: 'recover',
  cleanup: 'cleanup',
  linkMonitor: 'linkMonitor',
} as const;

const notProvided = (name: string) => () => {
  throw new Error(`tunLifecycleMachine: actor "${name}" was not provided; use machine.provide({ actors: { ${name} } })`);
};

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

export const tunLifecycleMachine = setup({
  types: {
    context: {} as TunLifecycleContext,
    events: {} as TunLifecycleEvent,
    input: {} as TunLifecycleInput | undefined,
    emitted: {} as AlertEvent,
  },
  actors: {
    /** Open, configure, link up, verify; rolls back what it made before rejecting. */
    create: fromPromise<CreateOutput, AttemptInput>(notProvided('create')),
    /** Re-create or re-configure after a fault; same contract as create. */
    recover: fromPromise<CreateOutput, AttemptInput>(notProvided('recover')),
    /** Link down → addresses → routes → release → verify. */
    cleanup: fromPromise<void, LifecyclePolicy>(notProvided('cleanup')),
    /** Watches the kernel while ready; sends FAULT. */
    linkMonitor: fromCallback<TunLifecycleEvent, void>(() => undefined),
  },
  guards: {
    /** The failed attempt may be retried: transient errno and retries left. */
    canRetry: ({ context, event }) =>
      isTransientError(errorOf(event)) && context.attempt <= context.policy.retryAttempts,
    isTransient: ({ event }) => isTransientError(errorOf(event)),
    cleanupRequested: ({ context }) => context.cleanupRequested,
    /** Recovery makes sense unless the failure was in cleanup (then only cleanup is allowed). */
    canRecover: ({ context }) => context.errorFrom !== 'stopping',
  },
  delays: {
    retryBackoff: ({ context }) => backoffDelay(context.policy, context.attempt),
    cleanupTimeout: ({ context }) => context.policy.cleanupTimeout,
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
    /** A failed attempt that will be retried: keep the raw kernel error. */
    recordAttemptError: assign(({ event }) => ({ lastError: asError(errorOf(event)) })),
    countFailure,
    resetFailures: assign({ consecutiveFailures: 0 }),
    countRecovery: assign(({ context }) => ({ counters: { ...context.counters, recoveries: context.counters.recoveries + 1 } })),
    countCleanup: assign(({ context }) => ({ counters: { ...context.counters, cleanups: context.counters.cleanups + 1 } })),
    failInitialization: failure('initializing', (context, event) =>
      new ConfigurationFailedError(context.attempt, { state: 'initializing', interfaceName: context.interfaceName, cause: errorOf(event) })),
    failRecovery: failure('error', (context, event) =>
      new ConfigurationFailedError(context.attempt, { state: 'error', interfaceName: context.interfaceName, cause: errorOf(event) })),
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
    cleanupRequested: false,
    lastError: undefined,
    errorFrom: undefined,
    ifindex: undefined,
    consecutiveFailures: 0,
    counters: { attempts: 0, retries: 0, failures: 0, faults: 0, recoveries: 0, cleanups: 0, alerts: 0 },
  }),
  initial: 'uninitialized',
  states: {
    uninitialized: {
      on: { START: { target: 'initializing' } },
    },

    initializing: {
      initial: 'attempt',
      entry: 'beginEpisode',
      states: {
        attempt: {
          entry: 'countAttempt',
          invoke: {
            id: ActorId.create,
            src: 'create',
            input: ({ context }) => ({ attempt: context.attempt }),
            onDone: [
              // The interface is made, but cleanup() came meanwhile: tear it down.
              { guard: 'cleanupRequested', target: '#tunLifecycle.stopping', actions: 'rememberInterface' },
              { target: '#tunLifecycle.ready', actions: 'rememberInterface' },
            ],
            onError: [
              // The attempt rolled back; cleanup still runs to verify nothing is left.
              { guard: 'cleanupRequested', target: '#tunLifecycle.stopping', actions: 'recordAttemptError' },
              { guard: 'canRetry', target: 'backoff', actions: ['recordAttemptError', 'countFailure'] },
              { target: '#tunLifecycle.error.halted', actions: ['failInitialization', 'countFailure'] },
            ],
          },
          // Wait for the attempt in flight: leaving now would orphan what it is making.
          on: { CLEANUP: { actions: 'requestCleanup' } },
        },
        backoff: {
          after: { retryBackoff: { target: 'attempt' } },
          // Nothing in flight while waiting: stop retrying and clean up now.
          on: { CLEANUP: { target: '#tunLifecycle.stopping' } },
        },
      },
    },

    ready: {
      entry: 'resetFailures',
      invoke: { id: ActorId.linkMonitor, src: 'linkMonitor' },
      on: {
        FAULT: { target: 'error.recovering', actions: ['recordFault', 'countFailure'] },
        CLEANUP: { target: 'stopping' },
      },
    },

    stopping: {
      entry: 'countCleanup',
      invoke: {
        id: ActorId.cleanup,
        src: 'cleanup',
        input: ({ context }) => context.policy,
        onDone: { target: 'stopped' },
        onError: { target: 'error.halted', actions: ['recordCleanupFailure', 'countFailure'] },
      },
      // The cleanup actor keeps running past the deadline and still releases everything.
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
        recovering: {
          initial: 'attempt',
          entry: 'beginEpisode',
          states: {
            attempt: {
              entry: 'countAttempt',
              invoke: {
                id: ActorId.recover,
                src: 'recover',
                input: ({ context }) => ({ attempt: context.attempt }),
                onDone: [
                  { guard: 'cleanupRequested', target: '#tunLifecycle.stopping', actions: 'rememberInterface' },
                  { target: '#tunLifecycle.ready', actions: ['rememberInterface', 'countRecovery'] },
                ],
                onError: [
                  { guard: 'cleanupRequested', target: '#tunLifecycle.stopping', actions: 'recordAttemptError' },
                  { guard: 'canRetry', target: 'backoff', actions: ['recordAttemptError', 'countFailure'] },
                  { target: '#tunLifecycle.error.halted', actions: ['failRecovery', 'countFailure'] },
                ],
              },
              on: { CLEANUP: { actions: 'requestCleanup' } },
            },
            backoff: {
              after: { retryBackoff: { target: 'attempt' } },
            },
          },
        },
      },
    },
  },
});

export type TunLifecycleMachine = typeof tunLifecycleMachine;

/** The top-level state of a snapshot value ('initializing' for { initializing: 'backoff' }). */
export function topLevelState(value: unknown): import('./types.js').InterfaceState {
  return (typeof value === 'string' ? value : Object.keys(value as object)[0]) as import('./types.js').InterfaceState;
}
