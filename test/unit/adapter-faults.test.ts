// The adapter under injected kernel faults (simulated binding): every
// operation failing once (the retry succeeds, nothing left), always (error,
// rollback complete), hanging (cleanup deadline), answering after the deadline
// (everything still released), and outside changes while ready (recovery).

import { expect } from 'chai';
import {
  CleanupTimeoutError, ConfigurationFailedError, InterfaceFaultError, TunAdapter, createAdapter,
} from '../../src/index.js';
import type { AdapterOptions } from '../../src/index.js';
import { SimulatedBinding } from '../../src/testing.js';
import type { BindingOp } from '../../src/testing.js';

import { expectNothingLeft, tunLinks } from '../helpers/leftovers.js';
import { sleep, until } from '../helpers/wait.js';

const config = (binding: SimulatedBinding, extra: AdapterOptions = {}): AdapterOptions => ({
  binding, retryDelay: 1, mtu: 1400, addresses: ['10.0.0.1/24', 'fd00::1/64'], routes: ['10.1.0.0/16', 'fd01::/64'], ...extra,
});

function expectConfigured(binding: SimulatedBinding, name: string): void {
  const link = binding.world.link(name)!;
  expect(link, `${name} exists`).to.not.equal(undefined);
  expect(link.up).to.equal(true);
  expect(link.mtu).to.equal(1400);
  expect(link.addresses.filter((a) => a.scope !== 'link').map((a) => a.cidr).sort()).to.deep.equal(['10.0.0.1/24', 'fd00::1/64']);
  expect(link.routes.map((r) => r.destination).sort()).to.deep.equal(['10.1.0.0/16', 'fd01::/64']);
}

// Every kernel conversation create makes (getLink: the leftover check and verification).
const CREATE_OPS: BindingOp[] = ['getLink', 'open', 'setAlias', 'setMtu', 'addAddress', 'setUp', 'addRoute', 'listAddresses', 'listRoutes'];
// Every kernel conversation cleanup makes (deleteLink only for a persistent interface).
const CLEANUP_OPS: BindingOp[] = ['setUp', 'deleteAddress', 'deleteRoute', 'getLink', 'deleteLink'];

describe('adapter under injected faults', () => {
  let binding: SimulatedBinding;
  beforeEach(() => {
    // create opens and configures in one call; the simulated binding runs that
    // plan's single requests through its fault injector, so each can be faulted.
    binding = new SimulatedBinding();
  });

  for (const persist of [false, true]) {
    const kind = persist ? 'persistent' : 'non-persistent';
    for (const op of CREATE_OPS) {
      it(`${kind}: ${op} failing once (EBUSY) during create → the retry succeeds, nothing left after cleanup`, async () => {
        binding.faults.fail(op, 'EBUSY', 1);
        const iface = await createAdapter('tun0', config(binding, { persist }));
        expect(iface.state).to.equal('ready');
        const stats = await iface.stats();
        expect(stats.retries, 'exactly one retry').to.equal(1);
        expect(binding.world.openFds(), 'the failed attempt closed its fd').to.have.length(1);
        expect(tunLinks(binding)).to.have.length(1);
        expectConfigured(binding, 'tun0');
        await iface.cleanup();
        expectNothingLeft(binding);
      });

      it(`${kind}: ${op} failing always (EAGAIN) → ConfigurationFailedError after retryAttempts + 1 attempts, rollback complete`, async () => {
        binding.faults.fail(op, 'EAGAIN', Infinity);
        const iface = new TunAdapter('tun0', config(binding, { persist, retryAttempts: 3 }));
        const error = await iface.start().then(() => undefined, (e: unknown) => e);
        expect(error).to.be.instanceOf(ConfigurationFailedError);
        expect((error as ConfigurationFailedError).attempts).to.equal(4);
        expect(((error as Error).cause as { code: string }).code).to.equal('EAGAIN');
        expect(iface.state).to.equal('error');
        expectNothingLeft(binding);
        binding.faults.clear();
        await iface.cleanup();
        expect(iface.state).to.equal('stopped');
      });
    }

    for (const op of CLEANUP_OPS) {
      if (op === 'deleteLink' && !persist) continue;
      it(`${kind}: ${op} failing once during cleanup → cleanup still ends stopped with nothing left`, async () => {
        const iface = await createAdapter('tun0', config(binding, { persist }));
        binding.faults.fail(op, 'EBUSY', 1);
        await iface.cleanup();
        expect(iface.state).to.equal('stopped');
        expectNothingLeft(binding);
      });
    }
  }

  it('validateState: a kernel that silently ignores a request fails verification (permanent), rolled back', async () => {
    binding.addAddress = async () => undefined;
    const error = await createAdapter('tun0', config(binding, { routes: [] })).then(() => undefined, (e: unknown) => e);
    expect(error).to.be.instanceOf(ConfigurationFailedError);
    const cause = (error as Error).cause as { code: string; differences: string[] };
    expect(cause.code).to.equal('ERR_STATE_MISMATCH');
    expect(cause.differences).to.deep.equal(['address 10.0.0.1/24 missing', 'address fd00::1/64 missing']);
    expect((error as ConfigurationFailedError).attempts).to.equal(1);
    expectNothingLeft(binding);
  });

  it('validateState: false skips reading the kernel back', async () => {
    const iface = await createAdapter('tun0', config(binding, { validateState: false }));
    expect(binding.faults.calls('listAddresses')).to.equal(0);
    expect(binding.faults.calls('listRoutes')).to.equal(0);
    await iface.cleanup();
    expectNothingLeft(binding);
  });

  it('a permanent errno (EPERM on open) fails at once: one attempt', async () => {
    binding.faults.fail('open', 'EPERM', Infinity);
    const error = await createAdapter('tun0', config(binding)).then(() => undefined, (e: unknown) => e);
    expect(error).to.be.instanceOf(ConfigurationFailedError);
    expect((error as ConfigurationFailedError).attempts).to.equal(1);
    expect(binding.faults.calls('open')).to.equal(1);
    expectNothingLeft(binding);
  });

  it('createAdapter rejects with ConfigurationFailedError and leaves nothing (verified by its own cleanup)', async () => {
    binding.faults.fail('addRoute', 'EINVAL', Infinity);
    const error = await createAdapter('tun0', config(binding)).then(() => undefined, (e: unknown) => e);
    expect(error).to.be.instanceOf(ConfigurationFailedError);
    expect((error as ConfigurationFailedError).code).to.equal('ERR_CONFIGURATION_FAILED');
    expect((error as ConfigurationFailedError).state).to.equal('initializing');
    expectNothingLeft(binding);
  });

  it('hang: cleanup times out at cleanupTimeout with CleanupTimeoutError; released later, everything is still freed', async () => {
    const iface = await createAdapter('tun0', config(binding, { cleanupTimeout: 80 }));
    const release = binding.faults.hang('deleteAddress');
    const started = Date.now();
    const error = await iface.cleanup().then(() => undefined, (e: unknown) => e);
    const elapsed = Date.now() - started;
    expect(error).to.be.instanceOf(CleanupTimeoutError);
    expect((error as CleanupTimeoutError).code).to.equal('ERR_CLEANUP_TIMEOUT');
    expect((error as CleanupTimeoutError).state).to.equal('stopping');
    expect(elapsed).to.be.within(75, 1000);
    expect(iface.state).to.equal('error');
    expect(binding.world.openFds(), 'still held while the step hangs').to.have.length(1);
    release();
    await until(() => binding.world.openFds().length === 0);
    expectNothingLeft(binding);
    // cleanup() from error tries again: verification passes, stopped.
    await iface.cleanup();
    expect(iface.state).to.equal('stopped');
  });

  it('a slow cleanup finishing after its deadline still releases everything (no orphaned fd)', async () => {
    const iface = await createAdapter('tunp', config(binding, { cleanupTimeout: 50, persist: true }));
    binding.faults.delay('deleteRoute', 150);
    const error = await iface.cleanup().then(() => undefined, (e: unknown) => e);
    expect(error).to.be.instanceOf(CleanupTimeoutError);
    expect(binding.world.link('tunp'), 'not yet released at the deadline').to.not.equal(undefined);
    await sleep(250);
    expectNothingLeft(binding);
  });

  it('cleanup() from error while the late run is still going joins it, then verifies', async () => {
    const iface = await createAdapter('tun0', config(binding, { cleanupTimeout: 40 }));
    const release = binding.faults.hang('setUp');
    await iface.cleanup().then(() => expect.fail('should time out'), (e: unknown) => expect(e).to.be.instanceOf(CleanupTimeoutError));
    const second = iface.cleanup();
    setTimeout(release, 10);
    await second;
    expect(iface.state).to.equal('stopped');
    expectNothingLeft(binding);
  });

  describe('outside changes while ready', () => {
    it('interface deleted from outside → error → recovery re-creates it → ready', async () => {
      const iface = await createAdapter('tun0', config(binding));
      const states: string[] = [];
      iface.on('state', (to) => states.push(to));
      const oldIndex = iface.ifindex;
      binding.world.deleteLink('tun0');
      await until(() => states.at(-1) === 'ready');
      expect(states).to.deep.equal(['error', 'ready']);
      expect(iface.lastError, 'named deleted, though the down notification came first').to.be.instanceOf(InterfaceFaultError)
        .and.include({ reason: 'deleted' });
      expect(iface.ifindex).to.not.equal(oldIndex);
      expectConfigured(binding, 'tun0');
      expect(binding.world.openFds()).to.have.length(1);
      const stats = await iface.stats();
      expect(stats.faults).to.equal(1);
      expect(stats.recoveries).to.equal(1);
      await iface.cleanup();
      expectNothingLeft(binding);
    });

    it('interface set down from outside → recovery brings it up and restores its routes', async () => {
      const iface = await createAdapter('tun0', config(binding));
      const index = iface.ifindex;
      binding.world.setUp('tun0', false);
      await until(() => iface.state === 'ready' && binding.world.link('tun0')!.up);
      expect(iface.lastError).to.be.instanceOf(InterfaceFaultError).and.include({ reason: 'down' });
      await until(() => binding.world.link('tun0')!.routes.length === 2);
      expect(iface.ifindex, 're-configured in place').to.equal(index);
      expectConfigured(binding, 'tun0');
      await iface.cleanup();
      expectNothingLeft(binding);
    });

    it('one of our addresses removed → recovery puts it back', async () => {
      const iface = await createAdapter('tun0', config(binding));
      const faulted = new Promise((resolve) => iface.once('state', resolve));
      binding.world.removeAddress('tun0', '10.0.0.1/24');
      expect(await faulted).to.equal('error');
      expect(iface.lastError).to.be.instanceOf(InterfaceFaultError);
      await until(() => iface.state === 'ready');
      expectConfigured(binding, 'tun0');
      await iface.cleanup();
    });

    it('the link monitor failing to start is a fault too, and recovery restarts it', async () => {
      binding.faults.fail('monitor', 'ENOBUFS', 1);
      const iface = await createAdapter('tun0', config(binding));
      await until(() => iface.actor.getSnapshot().context.counters.recoveries === 1 && iface.state === 'ready');
      expect(iface.actor.getSnapshot().context.counters.faults).to.equal(1);
      await iface.cleanup();
      expectNothingLeft(binding);
    });

    it('recovery exhausted → stays in error with ConfigurationFailedError; cleanup() then leaves nothing', async () => {
      const iface = await createAdapter('tun0', config(binding, { retryAttempts: 2 }));
      binding.faults.fail('open', 'EBUSY', Infinity);
      binding.world.deleteLink('tun0');
      await until(() => iface.actor.getSnapshot().matches({ error: 'halted' }));
      expect(iface.state).to.equal('error');
      expect(iface.lastError).to.be.instanceOf(ConfigurationFailedError);
      expect((iface.lastError as ConfigurationFailedError).attempts).to.equal(3);
      expect(iface.actor.getSnapshot().context.errorFrom).to.equal('error');
      binding.faults.clear();
      await iface.cleanup();
      expectNothingLeft(binding);
    });

    it('recover() on demand after exhaustion brings it back', async () => {
      const iface = await createAdapter('tun0', config(binding, { retryAttempts: 0 }));
      binding.faults.fail('open', 'EBUSY', 1);
      binding.world.deleteLink('tun0');
      await until(() => iface.actor.getSnapshot().matches({ error: 'halted' }));
      await iface.recover();
      expect(iface.state).to.equal('ready');
      expectConfigured(binding, 'tun0');
      await iface.cleanup();
      expectNothingLeft(binding);
    });
  });
});
