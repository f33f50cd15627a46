// The `tun-lifecycle/testing` entry: the simulated binding and its controls,
// so apps can test their own TUN handling without root or a kernel.

export {
  SimulatedBinding, SimKernel, SimulatedWorld, FaultInjector, SimulatedPacketQueue, SimulatedTunDevice, READ_BATCH,
} from './binding/simulated/binding.js';
export type {
  SimulatedBindingOptions, SimulatedLinkSnapshot, AddressScope, BindingOp, OpenFdInfo,
} from './binding/simulated/binding.js';
export { TunSystemError, isTunSystemError } from './binding/contract/system-error.js';
export type * from './binding/contract/types.js';
export * from './model/index.js';
