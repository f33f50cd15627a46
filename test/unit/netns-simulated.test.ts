// The netns option on the simulated binding: one simulated kernel per
// namespace name, shared by every binding namespace() returns for it, apart
// from the binding's own; the adapter with `netns` works through it, and its
// interface is never in the caller's namespace.

import { expect } from 'chai';
import { SimulatedBinding } from '../../src/binding/simulated/binding.js';
import { TunAdapter } from '../../src/adapter/index.js';
import { TunSystemError } from '../../src/binding/contract/system-error.js';

describe('netns on the simulated binding', function () {
  it('a namespace is a world of its own, the same one for the same name', async function () {
    const root = new SimulatedBinding();
    const blue = await root.namespace('blue');
    const device = await blue.open({ name: 'sim0' });
    expect((await blue.listLinks()).map((l) => l.name)).to.include('sim0');
    expect((await root.listLinks()).map((l) => l.name)).not.to.include('sim0');
    const again = await root.namespace('/var/run/netns/blue');
    expect((await again.getLink('sim0')).ifindex).to.equal(device.ifindex);
    const red = await root.namespace('red');
    await red.getLink('sim0').then(() => expect.fail('sim0 is not in red'), (e: TunSystemError) => expect(e.code).to.equal('ENODEV'));
    device.close();
  });

  it('open({ netns }) and the adapter option reach the namespace; a bad netns is refused before anything', async function () {
    const root = new SimulatedBinding();
    const adapter = new TunAdapter('simns0', { binding: root, netns: 'green', addresses: ['10.5.0.1/24'] });
    await adapter.start();
    const green = await root.namespace('green');
    const addresses = await green.listAddresses(adapter.ifindex!);
    expect(addresses.map((a) => a.cidr)).to.include('10.5.0.1/24');
    expect((await root.listLinks()).map((l) => l.name)).not.to.include('simns0');
    await adapter.cleanup();
    expect((await green.listLinks()).map((l) => l.name)).not.to.include('simns0');
    expect(() => new TunAdapter('simns1', { binding: root, netns: '' as string })).to.throw(TypeError, /options\.netns/);
    await root.open({ netns: -2 }).then(() => expect.fail('accepted'), (e: Error) => expect(e).to.be.instanceOf(RangeError));
  });
});
