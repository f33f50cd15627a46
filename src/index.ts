// Public API of tun-lifecycle. The simulated binding for tests lives in the
// 'tun-lifecycle/testing' entry.

export { createAdapter, TunAdapter } from './adapter/index.js';
export type {
  AdapterStats, AlertInfo, PacketIteratorOptions, TunAdapterEvents, TunAdapterEventName, TunAdapterListener,
} from './adapter/index.js';
export { DEFAULT_OPTIONS } from './options.js';
export type { AdapterOptions } from './options.js';
export type { Logger } from './log.js';
export {
  TunError, InvalidStateTransitionError, InterfaceNotReadyError, CleanupTimeoutError, ConfigurationFailedError, ReconfigureTimeoutError, RollbackFailedError,
  InterfaceFaultError, CleanupFailedError, StateMismatchError, AbortError,
} from './errors.js';
export type { TunErrorOptions } from './errors.js';
export { TunSystemError, isTunSystemError } from './binding/contract/system-error.js';
export { attachQueue, reclaimQueue } from './binding/native/worker-queue.js';
export type { QueueHandle } from './binding/native/worker-queue.js';
// The binding createAdapter uses by default; loads the addon when called (e.g. for withFaults(binding) or raw use).
export { createNativeBinding } from './binding/native/binding.js';
export type * from './binding/contract/types.js';
export { tunLifecycleMachine, DEFAULT_POLICY, ActorId } from '../machines/tunLifecycle.js';
export type { TunLifecycleMachine } from '../machines/tunLifecycle.js';
export { InterfaceState } from '../machines/types.js';
export type {
  LifecyclePolicy, TunLifecycleContext, TunLifecycleEvent, TunLifecycleInput, LifecycleCounters, FailureOrigin, AlertEvent,
} from '../machines/types.js';
export { toMermaid } from '../machines/diagram.js';
export { TRANSIENT_ERRNOS, PERMANENT_ERRNOS, isTransientError, backoffDelay } from '../machines/retry-policy.js';
