// Model-based testing of the lifecycle: the statechart as an xstate/graph
// TestModel, its paths, their coverage of the machine, and executors that
// replay a path against a real adapter (simulated binding out of the box; any
// binding through `withFaults` and a LifecycleSystem of your own).

export {
  createLifecycleTestModel, lifecycleModelEvents, serializeLifecycleState, serializeLifecycleContext, serializeModelEvent, pathCoverage,
  coveringPaths, describePath, errnoError, cleanupFailure, modelErrno, MODEL_ERRNO,
} from './test-model.js';
export type { LifecycleModelEvent, LifecyclePath, LifecycleSnapshot, LifecycleTestModelOptions, Coverage } from './test-model.js';
export { machineStateIds, machineTransitions, transitionsTaken, activeStateIds } from './machine-graph.js';
export type { MachineTransition } from './machine-graph.js';
export { LifecycleReplay, ModelReplayError, errorKind } from './replay.js';
export type { LifecycleSystem, ReplayConfig, SystemObservation, FaultReason } from './replay.js';
export { simulatedSystem, replayOnSimulated, adapterOptionsFor, DEFAULT_REPLAY_CONFIG } from './simulated-system.js';
export type { SimulatedSystemOptions, ReplayResult } from './simulated-system.js';
export { withFaults } from './faulty-binding.js';
export type { FaultyBinding } from './faulty-binding.js';
