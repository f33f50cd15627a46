// configure(): a whole LinkPlan in one call, stopping at the first failing step.

import { expect } from 'chai';
import type { LinkPlan, TunDevice } from '../../src/binding/contract/types.js';
import { TunSystemError } from '../../src/binding/contract/system-error.js';
import type { ObservedAddress, ObservedRoute } from './observer.js';
import { rejectionOf } from '../helpers/rejection.js';
import { world, binding, open, keys, ABSENT_IFINDEX } from './context.js';

export function configureContract(): void {
  describe('configure', () => {
    const fullPlan = (group: number): LinkPlan => ({
      mtu: 1400,
      alias: 'configured by the contract suite',
      group,
      addresses: ['10.101.0.1/24', 'fd01:101::1/64'],
      up: true,
      routes: [{ destination: '10.102.0.0/16', metric: 7 }, { destination: 'fd01:102::/48' }],
    });
    const fullRoutes: ObservedRoute[] = [
      { family: 4, destination: '10.102.0.0/16', metric: 7 },
      { family: 6, destination: 'fd01:102::/48', metric: 1024 },
    ];
    const fullAddresses: ObservedAddress[] = [
      { family: 4, address: '10.101.0.1', prefixLength: 24 },
      { family: 6, address: 'fd01:101::1', prefixLength: 64 },
    ];

    function expectFullPlan(device: TunDevice, group: number): void {
      const link = world.observer.link(device.name)!;
      expect(link).to.include({ mtu: 1400, up: true, alias: 'configured by the contract suite', group });
      expect(keys(world.observer.addresses(device.name))).to.deep.equal(keys(fullAddresses));
      // the routes could only be added after the link was up (ENETDOWN otherwise)
      expect(keys(world.observer.routes(device.name))).to.deep.equal(keys(fullRoutes));
    }

    it('applies the whole plan, routes after up; the world and the device agree', async () => {
      const device = await open();
      await binding.configure(device.ifindex, fullPlan(4712));
      expectFullPlan(device, 4712);
      expect(device.mtu, 'the device follows the plan’s MTU').to.equal(1400);
      expect(keys(await binding.listRoutes(device.ifindex))).to.deep.equal(keys(fullRoutes));
    });

    it('readBack: the native binding answers with the kernel after the plan (what separate reads say), the simulated one with undefined', async () => {
      const device = await open();
      const view = await binding.configure(device.ifindex, fullPlan(4713), { readBack: true });
      expectFullPlan(device, 4713);
      if (binding.kind === 'simulated') {
        expect(view).to.equal(undefined);
      } else {
        expect(view, 'a reading').to.not.equal(undefined);
        expect(view!.link).to.include({ ifindex: device.ifindex, mtu: 1400, up: true });
        expect(keys(view!.routes)).to.deep.equal(keys(fullRoutes));
        expect(keys(view!.addresses.filter((a) => !a.address.startsWith('fe80:')))).to.deep.equal(keys(fullAddresses));
        expect(keys(view!.routes)).to.deep.equal(keys(await binding.listRoutes(device.ifindex)));
      }
      // Nothing to apply: the reading alone (the kernel unchanged).
      const again = await binding.configure(device.ifindex, {}, { readBack: true });
      if (again) expect(keys(again.routes)).to.deep.equal(keys(fullRoutes));
      const bad: unknown = await binding.configure(device.ifindex, {}, { readBack: 'yes' as never }).then(() => undefined, (error: unknown) => error);
      expect(bad).to.be.instanceOf(TypeError);
      expect((bad as Error).message).to.match(/options\.readBack/);
    });

    it('stops at the first failing step: that request’s error, with `step` its index; earlier steps stay', async () => {
      const device = await open();
      // steps: 0 link (mtu), 1 address, 2 the same address again (EEXIST), 3 up
      const err = await rejectionOf(binding.configure(device.ifindex, {
        mtu: 1300, addresses: ['10.103.0.1/24', '10.103.0.1/24'], up: true,
      }));
      expect(err.code).to.equal('EEXIST');
      expect(err.syscall).to.equal('RTM_NEWADDR');
      expect((err as TunSystemError & { step?: number }).step).to.equal(2);
      const link = world.observer.link(device.name)!;
      expect(link.mtu, 'step 0 ran').to.equal(1300);
      expect(link.up, 'step 3 never ran').to.equal(false);
      expect(keys(world.observer.addresses(device.name))).to.deep.equal(['4 10.103.0.1/24']);
    });

    it('removal lists: routes, then addresses, are removed before the link step and the additions', async () => {
      const device = await open();
      await binding.configure(device.ifindex, { addresses: ['10.104.0.1/24', 'fd01:104::1/64'], up: true, routes: [{ destination: '10.105.0.0/16' }, { destination: 'fd01:105::/64' }] });
      await binding.configure(device.ifindex, {
        removeRoutes: [{ destination: '10.105.0.0/16' }, { destination: 'fd01:105::/64' }], removeAddresses: ['10.104.0.1/24'], mtu: 1420,
        addresses: ['10.104.0.2/24'], routes: [{ destination: '10.106.0.0/16', metric: 3 }],
      });
      expect(world.observer.link(device.name)!.mtu).to.equal(1420);
      expect(keys(world.observer.addresses(device.name))).to.deep.equal(['4 10.104.0.2/24', '6 fd01:104::1/64']);
      expect(keys(world.observer.routes(device.name))).to.deep.equal(['4 10.106.0.0/16 3']);
    });

    it('300 routes, one refused in the middle (EEXIST): rejected at its step; those before stay, none after', async () => {
      const device = await open();
      await binding.configure(device.ifindex, { up: true, routes: [{ destination: '10.107.0.150/32' }] });
      const routes = Array.from({ length: 300 }, (_, i) => `10.107.${i >> 8}.${i & 255}/32`);
      const err = await rejectionOf(binding.configure(device.ifindex, { routes: routes.map((destination) => ({ destination })) }));
      expect(err.code).to.equal('EEXIST');
      expect((err as TunSystemError & { step?: number }).step).to.equal(150);
      const held = world.observer.routes(device.name).map((r) => r.destination);
      expect(held.sort()).to.deep.equal([...routes.slice(0, 151)].sort());
    });

    it('a route in a plan that leaves the link down is ENETDOWN at that step', async () => {
      const device = await open();
      const err = await rejectionOf(binding.configure(device.ifindex, { addresses: ['10.104.0.1/24'], routes: [{ destination: '10.105.0.0/16' }] }));
      expect(err.code).to.equal('ENETDOWN');
      expect((err as TunSystemError & { step?: number }).step).to.equal(1);
      expect(world.observer.routes(device.name)).to.deep.equal([]);
    });

    it('a bad plan is refused whole before any kernel call; nothing changes', async () => {
      const device = await open();
      const callsBefore = world.kernelCalls?.();
      const bad: unknown[] = [
        null,
        'mtu 1400',
        { mtu: 67 },
        { mtu: 1400, addresses: ['10.106.0.1/24', '10.106.0.300/24'] },
        { up: true, routes: [{ destination: '10.106.1.1/24' }] },
        { up: 'yes' },
        { addresses: '10.106.0.1/24' },
        { alias: 'x'.repeat(256) },
        { group: -1 },
      ];
      for (const plan of bad) {
        let caught: unknown;
        try {
          await binding.configure(device.ifindex, plan as LinkPlan);
        } catch (err) {
          caught = err;
        }
        expect(caught, JSON.stringify(plan)).to.be.instanceOf(Error);
        expect(caught).to.not.be.instanceOf(TunSystemError);
        expect((caught as { code?: string }).code, JSON.stringify(plan)).to.match(/^ERR_/u);
      }
      const link = world.observer.link(device.name)!;
      expect(link).to.include({ mtu: 1500, up: false, alias: '' });
      expect(world.observer.addresses(device.name)).to.deep.equal([]);
      if (callsBefore !== undefined) expect(world.kernelCalls!()).to.equal(callsBefore);
    });

    it('ENODEV for an absent ifindex, at step 0', async () => {
      const err = await rejectionOf(binding.configure(ABSENT_IFINDEX, { mtu: 1400 }));
      expect(err.code).to.equal('ENODEV');
      expect((err as TunSystemError & { step?: number }).step).to.equal(0);
    });
  });
}
