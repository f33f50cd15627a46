// Every generated path (shortest and simple) replayed against a real adapter
// on the simulated binding, each outcome injected to match the model's event,
// for each kind of outside fault. Every step asserts the simulated namespace,
// adapter.state, counters, last error and 'state' events; every path ends
// with a cleanup after which nothing may be left.

import { expect } from 'chai';
import { describePath, replayOnSimulated } from '../../src/testing.js';
import type { LifecyclePath } from '../../src/testing.js';
import { FAULT_REASONS } from './model-config.js';
import { shortestPaths, simplePaths } from './paths.js';
import { useFakeTimeouts } from './fake-time.js';
import { recordResult } from '../reliability/results.js';

const shortest = shortestPaths();
const simple = simplePaths();
const hasFault = (path: LifecyclePath) => path.steps.some((step) => step.event.type === 'FAULT');

describe('model: paths replayed on the simulated binding', function () {
  this.timeout(120_000);
  const clock = useFakeTimeouts();
  let tried = 0;
  let held = 0;
  let leaks = 0;
  after(() => recordResult('model-simulated', {
    tried, held, leaks, notes: `${shortest.length} shortest paths × fault kinds + ${simple.length} simple paths; every step checked against the simulated namespace`,
  }));
  const replay = async (path: LifecyclePath, faultReason: (typeof FAULT_REASONS)[number]) => {
    tried++;
    const result = await replayOnSimulated(path, { faultReason }, { advanceTime: clock.tick });
    if (result.after.links.length > 0 || result.after.queueFds > 0) leaks++;
    expect(result.after.links, `left after: ${describePath(path)}`).to.deep.equal([]);
    expect(result.after.queueFds).to.equal(0);
    expect(result.replay.rejections.every((e) => e instanceof Error), 'every rejection is an Error').to.equal(true);
    held++;
  };

  describe('shortest paths', () => {
    for (const path of shortest) {
      const reasons = hasFault(path) ? FAULT_REASONS : (['deleted'] as const);
      for (const reason of reasons) {
        it(`${reason === 'deleted' && !hasFault(path) ? '' : `[fault: ${reason}] `}${describePath(path)}`, async () => {
          await replay(path, reason);
        });
      }
    }
  });

  describe('simple paths', () => {
    // Grouped, or the report would list two thousand lines; a failure names its path.
    const CHUNK = 250;
    for (let start = 0; start < simple.length; start += CHUNK) {
      const chunk = simple.slice(start, start + CHUNK);
      it(`simple paths ${start + 1}–${start + chunk.length} of ${simple.length} (fault kinds rotated)`, async () => {
        for (const [i, path] of chunk.entries()) await replay(path, FAULT_REASONS[(start + i) % FAULT_REASONS.length]!);
      });
    }
  });
});
