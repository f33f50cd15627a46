// Types of the lifecycle statechart: what it remembers, what it reacts to, and
// what its named actors take and give. Kept apart so src/ can implement the
// actors against them without importing the machine.

/** The six lifecycle states (the reference design's names beside them). */
export const InterfaceState = {
  /** StateUninitialized — constructed, nothing touched yet. */
  Uninitialized: 'uninitialized',
  /** StateInitializing — creating and configuring (attempt / backoff). */
  Initializing: 'initializing',
  /** StateReady — configured and verified; packets flow. */
  Ready: 'ready',
  /** StateStopping — cleanup running under its deadline. */
  Stopping: 'stopping',
  /** StateStopped — everything released and verified gone (final). */
  Stopped: 'stopped',
  /** StateError — a failure; recovery may be running; cleanup() is allowed. */
  Error: 'error',
  /**
   * Extension (no reference name): ready, changing its addresses, routes or
   * MTU (attempt / backoff); packets keep flowing; back to ready when done.
   */
  Reconfiguring: 'reconfiguring',
} as const;
export type InterfaceState = (typeof InterfaceState)[keyof typeof InterfaceState];

/** Timing and retry policy the machine needs (the rest of the options live in src/). */
export interface LifecyclePolicy {
  /** Retries after the first failed attempt (so at most retryAttempts + 1 attempts). */
  retryAttempts: number;
  /** First backoff, ms; doubles per retry. */
  retryDelay: number;
  /** Cap on one backoff, ms. */
  retryDelayMax: number;
  /** 0..1, share of each backoff taken off at random (0 = exact delays). */
  retryJitter: number;
  /** Deadline for cleanup (every round of it together), ms. */
  cleanupTimeout: number;
  /** Every this many consecutive failures raises an 'alert'. */
  alertThreshold: number;
  /** Deadline for one reconfiguration (every attempt of it together), ms. */
  reconfigureTimeout: number;
}

export interface TunLifecycleInput {
  policy?: Partial<LifecyclePolicy>;
  /** For error messages. */
  interfaceName?: string;
}

/** Where the last failure happened. 'error' means during recovery. */
export type FailureOrigin = 'initializing' | 'ready' | 'stopping' | 'error' | 'reconfiguring';

export interface TunLifecycleContext {
  policy: LifecyclePolicy;
  interfaceName: string;
  /** Attempts made in the current create/recover episode (1 during the first). */
  attempt: number;
  /** Cleanup rounds made in the current stopping episode (1 during the first). */
  cleanupRound: number;
  /** cleanup() arrived while an attempt was in flight: clean up once it settles. */
  cleanupRequested: boolean;
  lastError: Error | undefined;
  /** The state the last failure happened in. */
  errorFrom: FailureOrigin | undefined;
  ifindex: number | undefined;
  consecutiveFailures: number;
  /** Why the last reconfiguration gave up and rolled back (undefined when it was applied). */
  reconfigureError: Error | undefined;
  counters: LifecycleCounters;
}

export interface LifecycleCounters {
  attempts: number;
  retries: number;
  failures: number;
  faults: number;
  recoveries: number;
  /** Cleanup episodes (entries of stopping). */
  cleanups: number;
  /** Cleanup passes (rounds) over all episodes: a retried cleanup counts each. */
  cleanupRounds: number;
  alerts: number;
  /** Reconfigurations begun (entries of reconfiguring). */
  reconfigurations: number;
}

export type FaultReason = 'deleted' | 'down' | 'address-removed' | 'queue-error' | string;

export type TunLifecycleEvent =
  | { type: 'START' }
  | { type: 'CLEANUP' }
  /** Sent by the link monitor: the interface changed under us. */
  | { type: 'FAULT'; reason: FaultReason; error?: Error }
  /** Try recovery again from error (not after a failed cleanup). */
  | { type: 'RECOVER' }
  /** Apply the desired configuration the session now holds (ready → reconfiguring). */
  | { type: 'RECONFIGURE' };

/** What the create and recover actors resolve with. */
export interface CreateOutput {
  name: string;
  ifindex: number;
}

export interface AttemptInput {
  /** 1-based attempt number within the episode. */
  attempt: number;
}

export interface CleanupInput {
  /** 1-based round within the stopping episode (only the first may use the batched teardown). */
  round: number;
}

export interface AlertEvent {
  type: 'alert';
  consecutiveFailures: number;
  error: Error | undefined;
  state: FailureOrigin | undefined;
}
