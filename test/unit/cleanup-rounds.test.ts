// Cleanup rounds on a real adapter (simulated binding, real session and
// teardown): each round is a state the actor's snapshots show, and what
// happens past the cleanupTimeout deadline is decided — the pass in flight
// still finishes and releases everything, no new round starts once
// error.halted is entered, and cleanup() from error starts again with a fresh
// round count, joining (not racing) a pass that is still running.

import { expect } from 'chai';
import { CleanupFailedError, CleanupTimeoutError, TunAdapter } from '../../src/index.js';
import type { AdapterOptions } from '../../src/index.js';
import { SimulatedBinding } from '../../src/testing.js';

const NAME = 'rnd0';

function options(binding: SimulatedBinding, extra: AdapterOptions = {}): AdapterOptions {
  return { binding, retryAttempts: 2, retryDelay: 5, cleanupTimeout: 2000, addresses: ['10.66.0.1/24'], routes: ['10.67.0.0/16'], ...extra };
}

function leftIn(binding: SimulatedBinding): { links: string[]; fds: number } {
  return { links: binding.world.links().filter((l) => l.kind !== 'loopback').map((l) => l.name), fds: binding.world.openFds().length };
}

/** Every distinct state value the adapter's actor passes through. */
function recordValues(adapter: TunAdapter): string[] {
  const values: string[] = [];
  adapter.actor.subscribe((snapshot) => {
    const value = JSON.stringify(snapshot.value);
    if (values.at(-1) !== value) values.push(value);
  });
  return values;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('cleanup rounds as states (adapter, simulated binding)', () => {
  it('a pass that cannot verify once shows stopping.round → stopping.backoff → stopping.round → stopped', async () => {
    const binding = new SimulatedBinding();
    const adapter = new TunAdapter(NAME, options(binding));
    await adapter.start();
    const values = recordValues(adapter);
    // Verification's first look fails: the pass released everything but could not confirm it.
    binding.faults.fail('getLink', 'EBUSY', 1);
    await adapter.cleanup();
    expect(values).to.deep.equal(['{"stopping":"round"}', '{"stopping":"backoff"}', '{"stopping":"round"}', '"stopped"']);
    expect(adapter.actor.getSnapshot().context.counters).to.include({ cleanups: 1, cleanupRounds: 2, failures: 0 });
    expect(leftIn(binding)).to.deep.equal({ links: [], fds: 0 });
  });

  it('rounds limit = retryAttempts + 1, then CleanupFailedError naming what is left; a permanent failure stops after one round', async () => {
    for (const [code, rounds] of [['EBUSY', 3], ['EPERM', 1]] as const) {
      const binding = new SimulatedBinding();
      const adapter = new TunAdapter(NAME, options(binding, { persist: true }));
      await adapter.start();
      binding.faults.fail('deleteLink', code, Infinity);
      const error = await adapter.cleanup().then(() => undefined, (e: unknown) => e);
      expect(error, code).to.be.instanceOf(CleanupFailedError);
      expect((error as CleanupFailedError).leftovers.join(), code).to.include(NAME);
      expect((error as CleanupFailedError).transient, code).to.equal(code === 'EBUSY');
      expect(adapter.actor.getSnapshot().context.counters.cleanupRounds, code).to.equal(rounds);
      binding.faults.clear();
      await adapter.cleanup();
      expect(adapter.state).to.equal('stopped');
      expect(leftIn(binding)).to.deep.equal({ links: [], fds: 0 });
    }
  });

  it('past the deadline: the pass in flight finishes and releases everything; no new round; cleanup() joins it and counts afresh', async () => {
    const binding = new SimulatedBinding();
    const adapter = new TunAdapter(NAME, options(binding, { cleanupTimeout: 100 }));
    await adapter.start();
    const setUps = binding.faults.calls('setUp');
    const release = binding.faults.hang('setUp');
    const error = await adapter.cleanup().then(() => undefined, (e: unknown) => e);
    expect(error).to.be.instanceOf(CleanupTimeoutError);
    expect(adapter.actor.getSnapshot().value).to.deep.equal({ error: 'halted' });
    expect(leftIn(binding).links, 'the pass is still held: the link is there').to.deep.equal([NAME]);

    // cleanup() again while the late pass is held: its round waits behind it (session.serial), it does not race it.
    const again = adapter.cleanup();
    expect(adapter.actor.getSnapshot().value).to.deep.equal({ stopping: 'round' });
    expect(adapter.actor.getSnapshot().context.cleanupRound, 'a fresh round count').to.equal(1);
    await sleep(20);
    expect(binding.faults.calls('setUp'), 'the new pass has not started its steps').to.equal(setUps + 1);
    release();
    await again;
    expect(adapter.state).to.equal('stopped');
    expect(adapter.actor.getSnapshot().context.counters).to.include({ cleanups: 2, cleanupRounds: 2 });
    expect(leftIn(binding)).to.deep.equal({ links: [], fds: 0 });
  });

  it('past the deadline during a backoff: halted, and no round starts after it', async () => {
    const binding = new SimulatedBinding();
    const adapter = new TunAdapter(NAME, options(binding, { persist: true, retryDelay: 400, cleanupTimeout: 100 }));
    await adapter.start();
    binding.faults.fail('deleteLink', 'EBUSY', 1);
    const error = await adapter.cleanup().then(() => undefined, (e: unknown) => e);
    expect(error).to.be.instanceOf(CleanupTimeoutError);
    expect(adapter.actor.getSnapshot().context.counters.cleanupRounds).to.equal(1);
    const calls = binding.faults.calls('setUp');
    await sleep(500);
    expect(adapter.actor.getSnapshot().value).to.deep.equal({ error: 'halted' });
    expect(binding.faults.calls('setUp'), 'no pass ran after halted').to.equal(calls);
    expect(adapter.actor.getSnapshot().context.counters.cleanupRounds).to.equal(1);
    await adapter.cleanup();
    expect(leftIn(binding)).to.deep.equal({ links: [], fds: 0 });
  });
});
