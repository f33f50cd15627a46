// The retry policy is part of the statechart (machines/retry-policy.ts): its
// guards and delays read it. Re-exported here for the lifecycle actors.

export { TRANSIENT_ERRNOS, PERMANENT_ERRNOS, isTransientError, backoffDelay, roundMayHelp } from '../../machines/retry-policy.js';
export type { BackoffPolicy } from '../../machines/retry-policy.js';
