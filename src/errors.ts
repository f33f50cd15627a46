// The errors the lifecycle raises. Each has a stable `code` to branch on, says
// the lifecycle state it happened in, and carries the kernel's error (a
// TunSystemError with code/errno/syscall) as `cause` when there is one.
//
// Reference names (the design this package replaces) beside ours:
//   ErrInvalidStateTransition → InvalidStateTransitionError  ERR_INVALID_STATE_TRANSITION
//   ErrInterfaceNotReady      → InterfaceNotReadyError       ERR_INTERFACE_NOT_READY
//   ErrCleanupTimeout         → CleanupTimeoutError          ERR_CLEANUP_TIMEOUT
//   ErrConfigurationFailed    → ConfigurationFailedError     ERR_CONFIGURATION_FAILED
// Extensions (no reference name): InterfaceFaultError ERR_INTERFACE_FAULT,
// CleanupFailedError ERR_CLEANUP_FAILED, StateMismatchError ERR_STATE_MISMATCH,
// AbortError ABORT_ERR (Node's own name and code for an aborted operation),
// ReconfigureTimeoutError ERR_RECONFIGURE_TIMEOUT, RollbackFailedError ERR_ROLLBACK_FAILED.
//
// Every constructor works without its options (users build these in their own
// tests): the state is then 'unknown' and the message does not claim one.

export interface TunErrorOptions {
  /** The lifecycle state the error happened in ('initializing', 'ready', …). Default 'unknown'. */
  state?: string | undefined;
  /** The interface the error is about. */
  interfaceName?: string | undefined;
  /** The underlying (kernel) error. */
  cause?: unknown;
}

const UNKNOWN_STATE = 'unknown';

export class TunError extends Error {
  readonly code: string;
  /** The lifecycle state it happened in, or 'unknown' when not given. */
  readonly state: string;
  readonly interfaceName: string | undefined;

  constructor(code: string, message: string, options: TunErrorOptions = {}) {
    const where = options.interfaceName ? `${options.interfaceName}: ` : '';
    const when = options.state === undefined ? '' : ` (in state ${options.state})`;
    super(`${where}${message}${when}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.state = options.state ?? UNKNOWN_STATE;
    this.interfaceName = options.interfaceName;
  }
}

/** An operation that the current state does not allow (e.g. cleanup() once stopped). */
export class InvalidStateTransitionError extends TunError {
  /** What was asked for ('cleanup', 'start', …). */
  readonly operation: string;
  constructor(operation: string, options: TunErrorOptions = {}) {
    super('ERR_INVALID_STATE_TRANSITION', `${operation}() is not allowed in state ${options.state ?? UNKNOWN_STATE}`, options);
    this.operation = operation;
  }
}

/** Packet I/O attempted outside `ready`. */
export class InterfaceNotReadyError extends TunError {
  constructor(operation: string, options: TunErrorOptions = {}) {
    super('ERR_INTERFACE_NOT_READY', `${operation}() needs state ready`, options);
  }
}

/** Cleanup did not finish within `cleanupTimeout`; it keeps running and still releases everything. */
export class CleanupTimeoutError extends TunError {
  readonly timeout: number;
  constructor(timeout: number, options: TunErrorOptions = {}) {
    super('ERR_CLEANUP_TIMEOUT', `cleanup did not finish within ${timeout} ms`, options);
    this.timeout = timeout;
  }
}

/**
 * A reconfiguration did not finish within `reconfigureTimeout`: the adapter
 * goes to error; the step in flight, once it settles, undoes what the attempt
 * changed, and recovery converges to the desired configuration.
 */
export class ReconfigureTimeoutError extends TunError {
  readonly timeout: number;
  constructor(timeout: number, options: TunErrorOptions = {}) {
    super('ERR_RECONFIGURE_TIMEOUT', `reconfiguration did not finish within ${timeout} ms`, options);
    this.timeout = timeout;
  }
}

/**
 * A reconfiguration step failed and so did undoing it: the kernel holds
 * neither configuration. The adapter goes to error and recovery converges to
 * the previous one. `cause` is the step's error, `rollbackError` the undo's.
 */
export class RollbackFailedError extends TunError {
  readonly rollbackError: unknown;
  constructor(rollbackError: unknown, options: TunErrorOptions = {}) {
    super('ERR_ROLLBACK_FAILED', 'a reconfiguration step failed and rolling it back failed too', options);
    this.rollbackError = rollbackError;
  }
}

/** Creating or re-configuring the interface failed: a permanent errno, or retries exhausted. */
export class ConfigurationFailedError extends TunError {
  /** How many attempts were made. */
  readonly attempts: number;
  constructor(attempts: number, options: TunErrorOptions = {}) {
    const cause = options.cause as { message?: string } | undefined;
    const why = cause?.message ? `: ${cause.message}` : '';
    super('ERR_CONFIGURATION_FAILED', `configuration failed after ${attempts} attempt${attempts === 1 ? '' : 's'}${why}`, options);
    this.attempts = attempts;
  }
}

/** The interface changed under us while ready (deleted, set down, an address removed, a queue failed). */
export class InterfaceFaultError extends TunError {
  readonly reason: string;
  constructor(reason: string, options: TunErrorOptions = {}) {
    super('ERR_INTERFACE_FAULT', `interface fault: ${reason}`, options);
    this.reason = reason;
  }
}

/** Cleanup finished but verification found something left (or a step failed permanently). */
export class CleanupFailedError extends TunError {
  /** What verification found still present. */
  readonly leftovers: string[];
  /** Another cleanup round may help (an error it met was transient, or none was met). */
  readonly transient: boolean;
  constructor(leftovers: string[], options: TunErrorOptions & { transient?: boolean } = {}) {
    super('ERR_CLEANUP_FAILED', `cleanup left ${leftovers.length ? leftovers.join(', ') : 'an error'}`, options);
    this.leftovers = leftovers;
    this.transient = options.transient ?? false;
  }
}

/** The kernel disagrees with what was configured (permanent: retrying re-applies the same request). */
export class StateMismatchError extends TunError {
  /** What the read-back found different, one entry each ('link is down', 'address … missing'). */
  readonly differences: string[];
  constructor(differences: string[], options: TunErrorOptions = {}) {
    super('ERR_STATE_MISMATCH', `the kernel does not hold the configuration asked for: ${differences.join('; ')}`, options);
    this.differences = differences;
  }
}

/** What gave up the start: a cleanup() call, or the AbortSignal passed as `options.signal`. */
export type AbortOrigin = 'cleanup' | 'signal';

export interface AbortErrorOptions extends TunErrorOptions {
  /** Default 'cleanup'. With 'signal', `cause` is the signal's reason. */
  by?: AbortOrigin | undefined;
}

const ABORT_MESSAGES: Record<AbortOrigin, string> = {
  cleanup: 'cleanup() was called before the interface became ready',
  signal: 'options.signal was aborted before the interface became ready',
};

/**
 * start() or recover() given up because cleanup() was called first or the
 * AbortSignal fired. Named and coded as Node's own AbortError (name
 * 'AbortError', code 'ABORT_ERR'), so code that already tells an abort apart
 * keeps doing so. `state` is where the start was when it was given up
 * ('uninitialized' for a signal aborted before the call).
 */
export class AbortError extends TunError {
  readonly by: AbortOrigin;
  constructor(options: AbortErrorOptions = {}) {
    const by = options.by ?? 'cleanup';
    super('ABORT_ERR', ABORT_MESSAGES[by], options);
    this.by = by;
  }
}
