// The model and its paths, generated once per test process (simple paths take
// ~10 s to enumerate) and shared by the coverage and replay suites.

import { tunLifecycleMachine } from '../../src/index.js';
import { createLifecycleTestModel, serializeLifecycleContext } from '../../src/testing.js';
import type { LifecyclePath } from '../../src/testing.js';
import { MODEL_POLICY } from './model-config.js';

// Simple paths are enumerated over the graph of what each state can read
// (serializeLifecycleState); told apart by history as well, they would be
// more than twice as many and take fifteen times as long to enumerate.
// Shortest paths cost one per state, so they are taken
// over the finer graph (serializeLifecycleContext) and reach every context
// the guards can meet.
// The simple paths leave reconfiguration out (every path through ready would
// branch into it, too many to enumerate); the shortest paths take it.
export const model = createLifecycleTestModel(tunLifecycleMachine, { policy: MODEL_POLICY, without: ['RECONFIGURE'] });
const contextModel = createLifecycleTestModel(tunLifecycleMachine, { policy: MODEL_POLICY, serializeState: serializeLifecycleContext });

let shortest: LifecyclePath[] | undefined;
let simple: LifecyclePath[] | undefined;

export function shortestPaths(): LifecyclePath[] {
  shortest ??= contextModel.getShortestPaths();
  return shortest;
}

export function simplePaths(): LifecyclePath[] {
  simple ??= model.getSimplePaths();
  return simple;
}
