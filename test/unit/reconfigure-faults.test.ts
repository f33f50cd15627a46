// reconfigure() under injected faults (simulated binding): each step failing
// once (retried, applied), always (rolled back, ready, rejected), hanging past
// reconfigureTimeout (error with ReconfigureTimeoutError), the undo failing
// too (error, then recovery converges to the previous desired configuration);
// and the link monitor judging outside changes against the desired configuration.

import { expect } from 'chai';
import { ConfigurationFailedError, ReconfigureTimeoutError, RollbackFailedError, createAdapter } from '../../src/index.js';
import type { TunAdapter } from '../../src/index.js';
import { SimulatedBinding } from '../../src/testing.js';
import type { BindingOp } from '../../src/testing.js';
import { expectNothingLeft } from '../helpers/leftovers.js';
import { until } from '../helpers/wait.js';
import { kernelOf } from '../helpers/simulated-config.js';

const START = { mtu: 1400, addresses: ['10.0.0.1/24'], routes: ['10.1.0.0/16'] };
// Removes a route and an address, changes the MTU, adds an address and a route: every kind of step.
const CHANGE = { mtu: 1500, addresses: ['10.0.0.2/24'], routes: ['10.2.0.0/16'] };
const STEPS: BindingOp[] = ['deleteRoute', 'deleteAddress', 'setMtu', 'addAddress', 'addRoute'];
const BEFORE = { mtu: 1400, addresses: ['10.0.0.1/24'], routes: ['10.1.0.0/16@0'] };
const AFTER = { mtu: 1500, addresses: ['10.0.0.2/24'], routes: ['10.2.0.0/16@0'] };

describe('reconfigure() under injected faults (simulated)', () => {
  let binding: SimulatedBinding;
  let tun: TunAdapter;
  beforeEach(async () => {
    binding = new SimulatedBinding();
    tun = await createAdapter('tun0', { binding, retryDelay: 1, reconfigureTimeout: 200, ...START });
  });
  afterEach(async () => {
    binding.faults.clear();
    if (tun.state !== 'stopped') await tun.cleanup();
    expectNothingLeft(binding);
  });

  for (const op of STEPS) {
    it(`${op} failing once (EBUSY) → rolled back, retried, applied`, async () => {
      binding.faults.fail(op, 'EBUSY', 1);
      const states: string[] = [];
      tun.actor.subscribe((s) => states.push(JSON.stringify(s.value)));
      await tun.reconfigure(CHANGE);
      expect(kernelOf(binding, 'tun0')).to.deep.equal(AFTER);
      expect(states, 'the backoff is a state').to.include(JSON.stringify({ reconfiguring: 'backoff' }));
      expect((await tun.stats()).retries).to.be.greaterThan(0);
      expect(tun.state).to.equal('ready');
    });

    it(`${op} failing (EPERM, permanent: no retry) → ConfigurationFailedError, kernel and desired as before`, async () => {
      binding.faults.fail(op, 'EPERM', 1);
      const error = await tun.reconfigure(CHANGE).then(() => undefined, (e: unknown) => e);
      binding.faults.clear();
      expect(error).to.be.instanceOf(ConfigurationFailedError);
      expect((error as ConfigurationFailedError).state).to.equal('ready');
      expect(((error as Error).cause as { code: string }).code).to.equal('EPERM');
      expect(tun.state).to.equal('ready');
      expect(kernelOf(binding, 'tun0')).to.deep.equal(BEFORE);
      expect(tun.config.mtu).to.equal(1400);
    });

    it(`${op} hanging past reconfigureTimeout → error with ReconfigureTimeoutError; once it settles nothing is half-applied`, async () => {
      const release = binding.faults.hang(op);
      const error = await tun.reconfigure(CHANGE).then(() => undefined, (e: unknown) => e);
      expect(error).to.be.instanceOf(ReconfigureTimeoutError);
      expect(tun.state).to.equal('error');
      release();
      // The late attempt sees its deadline passed and undoes what it did.
      await until(() => JSON.stringify(kernelOf(binding, 'tun0')) === JSON.stringify(BEFORE), 2000);
      await tun.recover();
      expect(kernelOf(binding, 'tun0')).to.deep.equal(BEFORE);
    });
  }

  it('the undo failing too → error (RollbackFailedError), recovery converges to the previous desired configuration', async () => {
    binding.faults.fail('addRoute', 'EPERM', 1);
    // Undoing the address add is deleting it: fail that once.
    binding.faults.fail('deleteAddress', 'EPERM', 1);
    const error = await tun.reconfigure({ ...CHANGE, addresses: ['10.0.0.1/24', '10.0.0.2/24'] }).then(() => undefined, (e: unknown) => e);
    expect(error).to.be.instanceOf(RollbackFailedError);
    await until(() => tun.state === 'ready', 2000);
    expect(tun.config.mtu).to.equal(1400);
    const kernel = kernelOf(binding, 'tun0');
    expect(kernel.mtu).to.equal(1400);
    expect(kernel.addresses).to.include('10.0.0.1/24');
    expect(kernel.routes).to.include('10.1.0.0/16@0');
    expect(kernel, 'the address the failed change added (its undo failed) is removed by recovery').to.deep.equal(BEFORE);
  });

  it('recovery removes what a failed undo left of ours, and never what someone else made', async () => {
    await binding.addRoute(tun.ifindex!, { destination: '10.7.0.0/16', metric: 0 }); // someone else's
    await binding.addAddress(tun.ifindex!, '10.0.7.1/24'); // someone else's
    // Applied: the MTU, address 10.0.0.5, route 10.3; then 10.7 is refused (EEXIST: someone else's),
    // and undoing route 10.3 (a delete) fails: the undo stops there.
    binding.faults.fail('deleteRoute', 'EPERM', 1);
    const error = await tun.reconfigure({ mtu: 1450, addresses: ['10.0.0.1/24', '10.0.0.5/24'], routes: ['10.1.0.0/16', '10.3.0.0/16', '10.7.0.0/16'] })
      .then(() => undefined, (e: unknown) => e);
    expect(error).to.be.instanceOf(RollbackFailedError);
    await until(() => tun.state === 'ready', 2000);
    expect(kernelOf(binding, 'tun0')).to.deep.equal({
      mtu: 1400, addresses: ['10.0.0.1/24', '10.0.7.1/24'], routes: ['10.1.0.0/16@0', '10.7.0.0/16@0'],
    });
    expect((await tun.stats()).drift).to.deep.equal({ addresses: ['10.0.7.1/24'], routes: [{ destination: '10.7.0.0/16', metric: 0 }] });
  });

  it('in error, reconfigure() makes the configuration desired and resolves once recovery converged to it', async () => {
    binding.faults.fail('getLink', 'EPERM', Infinity);
    await binding.setUp(tun.ifindex!, false);
    await until(() => tun.state === 'error' && tun.actor.getSnapshot().matches({ error: 'halted' }), 2000);
    binding.faults.clear();
    await tun.reconfigure(CHANGE);
    expect(tun.state).to.equal('ready');
    expect(kernelOf(binding, 'tun0')).to.deep.equal(AFTER);
  });

  it('an address reconfigure() removed is no fault; one of ours removed from outside is (recovered); someone else\'s is drift', async () => {
    await tun.reconfigure({ addresses: ['10.0.0.1/24', '10.0.0.3/24'] });
    await tun.reconfigure({ addresses: ['10.0.0.3/24'] });
    expect((await tun.stats()).faults).to.equal(0);
    await binding.addAddress(tun.ifindex!, '10.0.0.9/24');
    const stats = await tun.stats();
    expect(stats.drift?.addresses).to.deep.equal(['10.0.0.9/24']);
    await binding.deleteAddress(tun.ifindex!, '10.0.0.3/24');
    await until(() => tun.actor.getSnapshot().context.counters.recoveries === 1 && tun.state === 'ready', 2000);
    expect(kernelOf(binding, 'tun0').addresses).to.deep.equal(['10.0.0.3/24', '10.0.0.9/24']);
  });

  it('a route reconfigure() removed is no fault; one of ours removed from outside is (recovered); someone else\'s is drift', async () => {
    await tun.reconfigure({ routes: ['10.1.0.0/16', { destination: 'fd01::/64', metric: 5 }, '10.3.0.0/16'] });
    await tun.removeRoute('10.3.0.0/16');
    expect((await tun.stats()).faults).to.equal(0);
    await binding.addRoute(tun.ifindex!, { destination: '10.9.0.0/16', metric: 2 });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect((await tun.stats()).faults, 'someone else\'s route is no fault').to.equal(0);
    expect((await tun.stats()).drift?.routes).to.deep.equal([{ destination: '10.9.0.0/16', metric: 2 }]);
    await binding.deleteRoute(tun.ifindex!, { destination: 'fd01::/64', metric: 5 });
    await until(() => tun.actor.getSnapshot().context.counters.recoveries === 1 && tun.state === 'ready', 2000);
    expect(kernelOf(binding, 'tun0').routes).to.deep.equal(['10.1.0.0/16@0', '10.9.0.0/16@2', 'fd01::/64@5']);
  });

  it('the MTU changed from outside is a fault: recovery puts the desired MTU back', async () => {
    await tun.reconfigure({ mtu: 1420 });
    await binding.setMtu(tun.ifindex!, 1300);
    await until(() => tun.actor.getSnapshot().context.counters.recoveries === 1 && tun.state === 'ready', 2000);
    expect(kernelOf(binding, 'tun0').mtu).to.equal(1420);
  });
});
