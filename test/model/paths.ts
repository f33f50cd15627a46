// The model and its paths, generated once per test process (simple paths take
// ~10 s to enumerate) and shared by the coverage and replay suites.

import { tunLifecycleMachine } from '../../src/index.js';
import { createLifecycleTestModel } from '../../src/testing.js';
import type { LifecyclePath } from '../../src/testing.js';
import { MODEL_POLICY } from './model-config.js';

export const model = createLifecycleTestModel(tunLifecycleMachine, { policy: MODEL_POLICY });

let shortest: LifecyclePath[] | undefined;
let simple: LifecyclePath[] | undefined;

export function shortestPaths(): LifecyclePath[] {
  shortest ??= model.getShortestPaths();
  return shortest;
}

export function simplePaths(): LifecyclePath[] {
  simple ??= model.getSimplePaths();
  return simple;
}
