// Which kernel errors are worth another attempt, and how long to wait before it.
// Pure functions: the statechart's guards and delays call them (src/ re-exports them).

import { CleanupFailedError } from '../src/errors.js';

/** errnos that describe a passing condition: a retry after a pause can succeed. */
export const TRANSIENT_ERRNOS: ReadonlySet<string> = new Set([
  'EBUSY', 'EAGAIN', 'EWOULDBLOCK', 'ENOBUFS', 'EINTR', 'ETIMEDOUT', 'ENOMEM', 'ENFILE', 'EMFILE', 'EIO',
]);

/** errnos that will fail the same way every time: retrying only delays the report. */
export const PERMANENT_ERRNOS: ReadonlySet<string> = new Set([
  'EPERM', 'EACCES', 'EINVAL', 'EEXIST', 'ENODEV', 'ENOENT', 'EOPNOTSUPP', 'ENOTSUP', 'EAFNOSUPPORT',
  'EADDRNOTAVAIL', 'ERANGE', 'ENOSPC', 'EBADF', 'EBADFD', 'ENETUNREACH',
]);

/**
 * True only for an error carrying a transient errno name as `code`. Anything
 * else (a permanent errno, an argument error, an unknown failure) is permanent:
 * an unknown error retried blindly is how loops hide bugs.
 */
export function isTransientError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' && TRANSIENT_ERRNOS.has(code);
}

/**
 * Another cleanup round may help unless every error the pass met was
 * permanent. A pass that met no error but still left something (the kernel
 * not yet done) is worth another look.
 */
export function roundMayHelp(errors: readonly unknown[]): boolean {
  return errors.length === 0 || errors.some(isTransientError);
}

/**
 * A failed cleanup pass may be repeated only when it says so: a
 * CleanupFailedError whose `transient` roundMayHelp() set. Anything else it
 * rejects with is reported as it is.
 */
export function isTransientCleanupFailure(error: unknown): boolean {
  return error instanceof CleanupFailedError && error.transient;
}

export interface BackoffPolicy {
  retryDelay: number;
  retryDelayMax: number;
  /** 0..1: the share of the delay that may be randomly taken off (0 = exact). */
  retryJitter: number;
}

/**
 * Wait before retry number `retry` (1-based): retryDelay·2^(retry-1), capped at
 * retryDelayMax, minus up to retryJitter of it at random.
 */
export function backoffDelay(policy: BackoffPolicy, retry: number, random: () => number = Math.random): number {
  const exponent = Math.max(0, retry - 1);
  const raw = Math.min(policy.retryDelay * 2 ** exponent, policy.retryDelayMax);
  if (policy.retryJitter <= 0) return raw;
  return Math.round(raw * (1 - policy.retryJitter * random()));
}
