// Fake setTimeout for replays (node:test's MockTimers): the model decides when
// a backoff or the cleanup deadline fires, not the wall clock. Mocha keeps its
// own references to the real timers, so its timeouts still work; setImmediate
// stays real, so the simulated kernel and the teardown batcher still run.

import { mock } from 'node:test';

export function useFakeTimeouts(): { tick: (ms: number) => void } {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout'] }));
  afterEach(() => mock.timers.reset());
  return { tick: (ms: number) => mock.timers.tick(ms) };
}
