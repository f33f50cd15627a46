// reconfigure() on the simulated binding: the API (validation as at creation,
// tun.config, the sugar, serialization in call order, states), the diff it
// reports, and the kernel holding exactly the desired configuration after.

import { expect } from 'chai';
import { ConfigurationFailedError, InvalidStateTransitionError, TunAdapter, createAdapter } from '../../src/index.js';
import type { AdapterOptions } from '../../src/index.js';
import { SimulatedBinding } from '../../src/testing.js';
import { expectNothingLeft } from '../helpers/leftovers.js';
import { kernelOf } from '../helpers/simulated-config.js';

const base = (binding: SimulatedBinding, extra: AdapterOptions = {}): AdapterOptions => ({
  binding, retryDelay: 1, mtu: 1400, addresses: ['10.0.0.1/24'], routes: ['10.1.0.0/16'], ...extra,
});

describe('reconfigure() (simulated)', () => {
  let binding: SimulatedBinding;
  let tun: TunAdapter;
  beforeEach(async () => {
    binding = new SimulatedBinding();
    tun = await createAdapter('tun0', base(binding));
  });
  afterEach(async () => {
    if (tun.state !== 'stopped') await tun.cleanup();
    expectNothingLeft(binding);
  });

  it('tun.config is the desired configuration, frozen and canonical', () => {
    expect(tun.config).to.deep.equal({ mtu: 1400, addresses: ['10.0.0.1/24'], routes: [{ destination: '10.1.0.0/16', metric: 0 }] });
    expect(Object.isFrozen(tun.config)).to.equal(true);
    expect(Object.isFrozen(tun.config.addresses)).to.equal(true);
    expect(Object.isFrozen(tun.config.routes[0])).to.equal(true);
  });

  it('a given key replaces that key; the others stay; the diff says what changed', async () => {
    const diff = await tun.reconfigure({ routes: ['10.1.0.0/16', { destination: '10.2.0.0/16', metric: 50 }] });
    expect(diff.routes.added).to.deep.equal([{ destination: '10.2.0.0/16', metric: 50 }]);
    expect(diff.routes.removed).to.deep.equal([]);
    expect(diff.mtu).to.equal(undefined);
    expect(kernelOf(binding, 'tun0')).to.deep.equal({ mtu: 1400, addresses: ['10.0.0.1/24'], routes: ['10.1.0.0/16@0', '10.2.0.0/16@50'] });
    expect(tun.state).to.equal('ready');
  });

  it('MTU up and IPv6 added in one call; then IPv6 gone and MTU under 1280', async () => {
    const events: unknown[] = [];
    tun.on('reconfigured', (diff) => events.push(diff));
    const up = await tun.reconfigure({ mtu: 1500, addresses: ['10.0.0.2/24', 'fd00::2/64'], routes: ['fd01::/64'] });
    expect(up.mtu).to.deep.equal({ from: 1400, to: 1500 });
    expect(up.addresses).to.deep.equal({ added: ['10.0.0.2/24', 'fd00::2/64'], removed: ['10.0.0.1/24'] });
    expect(kernelOf(binding, 'tun0')).to.deep.equal({ mtu: 1500, addresses: ['10.0.0.2/24', 'fd00::2/64'], routes: ['fd01::/64@1024'] });
    const down = await tun.reconfigure({ mtu: 1200, addresses: ['10.0.0.2/24'], routes: [] });
    expect(down.mtu).to.deep.equal({ from: 1500, to: 1200 });
    expect(kernelOf(binding, 'tun0')).to.deep.equal({ mtu: 1200, addresses: ['10.0.0.2/24'], routes: [] });
    expect(events).to.deep.equal([up, down]);
  });

  it('validation as at creation, before any kernel call', async () => {
    const calls = binding.faults.calls('addRoute') + binding.faults.calls('setMtu');
    await expectRejects(tun.reconfigure({ routes: ['10.1.0.1/16'] }), TypeError, /options\.routes\[0\]/);
    await expectRejects(tun.reconfigure({ mtu: 1200, addresses: ['fd00::1/64'] }), RangeError, /options\.mtu/);
    await expectRejects(tun.reconfigure({ addresses: ['10.0.0.1/24', '10.0.0.1/24'] }), TypeError, /repeats/);
    await expectRejects(tun.reconfigure({ routes: ['fd01::/64', { destination: 'fd01::/64', metric: 1024 }] }), TypeError, /options\.routes\[1\].*repeats/);
    await expectRejects(tun.reconfigure({ queues: 2 } as never), TypeError, /options\.queues/);
    await expectRejects(tun.addAddress('fd00::1/64').then(() => tun.reconfigure({ mtu: 1000 })), RangeError, /options\.mtu/);
    expect(binding.faults.calls('addRoute') + binding.faults.calls('setMtu')).to.equal(calls);
  });

  it('the sugar: addRoute/removeRoute/addAddress/removeAddress over the desired lists', async () => {
    await tun.addRoute('10.3.0.0/16');
    await tun.removeRoute('10.1.0.0/16');
    await tun.addAddress('fd00::3/64');
    await tun.removeAddress('10.0.0.1/24');
    expect(tun.config.routes).to.deep.equal([{ destination: '10.3.0.0/16', metric: 0 }]);
    expect(kernelOf(binding, 'tun0')).to.deep.equal({ mtu: 1400, addresses: ['fd00::3/64'], routes: ['10.3.0.0/16@0'] });
  });

  it('10 calls at once are applied in call order; each promise settles for its own configuration', async () => {
    const calls = Array.from({ length: 10 }, (_, i) => tun.reconfigure({ routes: [`10.${i + 10}.0.0/16`] }));
    const diffs = await Promise.all(calls);
    diffs.forEach((diff, i) => expect(diff.routes.added).to.deep.equal([{ destination: `10.${i + 10}.0.0/16`, metric: 0 }]));
    expect(kernelOf(binding, 'tun0').routes).to.deep.equal(['10.19.0.0/16@0']);
  });

  it('a sugar call queued behind another sees what the earlier one made desired', async () => {
    await Promise.all([tun.addRoute('10.5.0.0/16'), tun.addRoute('10.6.0.0/16'), tun.removeRoute('10.1.0.0/16')]);
    expect(kernelOf(binding, 'tun0').routes).to.deep.equal(['10.5.0.0/16@0', '10.6.0.0/16@0']);
  });

  it('a route the kernel refuses (EEXIST: someone else added it) → ConfigurationFailedError in ready, kernel as before', async () => {
    await binding.addRoute(tun.ifindex!, { destination: '10.9.0.0/16', metric: 0 });
    const before = kernelOf(binding, 'tun0');
    const error = await tun.reconfigure({ mtu: 1450, addresses: ['10.0.0.7/24'], routes: ['10.9.0.0/16'] }).then(() => undefined, (e: unknown) => e);
    expect(error).to.be.instanceOf(ConfigurationFailedError);
    expect((error as ConfigurationFailedError).state).to.equal('ready');
    expect(((error as Error).cause as { code: string }).code).to.equal('EEXIST');
    expect(tun.state).to.equal('ready');
    expect(kernelOf(binding, 'tun0')).to.deep.equal(before);
    expect(tun.config.routes).to.deep.equal([{ destination: '10.1.0.0/16', metric: 0 }]);
  });

  it('outside ready and error: InvalidStateTransitionError', async () => {
    const fresh = new TunAdapter('tun1', base(binding));
    await expectRejects(fresh.reconfigure({ mtu: 1300 }), InvalidStateTransitionError, /reconfigure/);
    await tun.cleanup();
    await expectRejects(tun.reconfigure({ mtu: 1300 }), InvalidStateTransitionError, /stopped/);
  });

  it('packets keep flowing while reconfiguring: write() is allowed and packets are relayed', async () => {
    const states: string[] = [];
    let written: unknown = 'not tried';
    tun.on('state', (to) => {
      states.push(to);
      if (to !== 'reconfiguring') return;
      try { written = tun.write(Buffer.from('4500001400000000401100000a0000010a000002', 'hex')); } catch (error) { written = error; }
    });
    await tun.addRoute('10.4.0.0/16');
    expect(states).to.deep.equal(['reconfiguring', 'ready']);
    expect(written).to.equal(true);
  });
});

async function expectRejects(promise: Promise<unknown>, type: new (...args: never[]) => Error, message: RegExp): Promise<void> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error, 'rejected').to.be.instanceOf(type);
  expect((error as Error).message).to.match(message);
}
