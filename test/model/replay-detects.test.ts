// The replay can fail: a system that does not do what an executor asks (the
// outside deletion never happens; a failure is not injected) is caught at the
// step where it parts from the model, and reported with the path.

import { expect } from 'chai';
import { TunAdapter } from '../../src/index.js';
import {
  DEFAULT_REPLAY_CONFIG, LifecycleReplay, ModelReplayError, adapterOptionsFor, SimulatedBinding, simulatedSystem,
} from '../../src/testing.js';
import type { LifecyclePath, LifecycleSystem } from '../../src/testing.js';
import { shortestPaths } from './paths.js';
import { useFakeTimeouts } from './fake-time.js';

const eventTypes = (path: LifecyclePath) => path.steps.map((s) => s.event.type + ((s.event as { error?: { code: string } }).error ? `:${(s.event as { error: { code: string } }).error.code}` : ''));

describe('model: a replay that disagrees fails', () => {
  const clock = useFakeTimeouts();
  const config = { ...DEFAULT_REPLAY_CONFIG, stepTimeout: 300 };

  async function replayWith(path: LifecyclePath, doctor: (system: LifecycleSystem) => LifecycleSystem): Promise<unknown> {
    const binding = new SimulatedBinding();
    const adapter = new TunAdapter(config.name, { ...adapterOptionsFor(config), binding });
    const replay = new LifecycleReplay(adapter, doctor(simulatedSystem(binding, { advanceTime: clock.tick })), config);
    const error = await replay.run(path).then(() => undefined, (e: unknown) => e);
    await replay.dispose().catch(() => undefined);
    return error;
  }

  it('an outside deletion that never happens: the adapter stays ready, the model went to error', async () => {
    const path = shortestPaths().find((p) => eventTypes(p).includes('FAULT'))!;
    const error = await replayWith(path, (system) => ({ ...system, deleteLink: () => undefined }));
    expect(error).to.be.instanceOf(ModelReplayError);
    expect((error as ModelReplayError).message).to.match(/the adapter is at \["ready"/);
    expect((error as ModelReplayError).step).to.equal(eventTypes(path).indexOf('FAULT'));
  });

  it('an injected failure that does not arrive: the adapter becomes ready, the model is in error', async () => {
    const path = shortestPaths().find((p) => eventTypes(p)[2] === 'xstate.error.actor.create:EPERM')!;
    const error = await replayWith(path, (system) => {
      const faults = system.faults;
      const fake = Object.create(faults) as typeof faults;
      fake.fail = () => undefined;
      fake.hang = (op) => faults.hang(op);
      fake.calls = (op) => faults.calls(op);
      fake.clear = (op) => faults.clear(op);
      return { ...system, faults: fake };
    });
    expect(error).to.be.instanceOf(ModelReplayError);
    expect((error as ModelReplayError).step).to.equal(2);
  });
});
