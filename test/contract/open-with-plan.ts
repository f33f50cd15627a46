// open() carrying a plan: opened and configured in one call, rolled back whole when a step fails.

import { expect } from 'chai';
import { TunSystemError } from '../../src/binding/contract/system-error.js';
import { eventually } from '../helpers/wait.js';
import { rejectionOf } from '../helpers/rejection.js';
import { world, binding, devices, names, open, freshName, keys } from './context.js';

export function openWithPlanContract(): void {
  describe('open with a plan (configure option)', () => {
    it('opens and applies the plan in one call; the device starts at the plan’s MTU', async () => {
      const name = freshName();
      names.add(name);
      const device = await binding.open({ name, configure: {
        mtu: 1400, alias: 'opened configured', group: 4713, addresses: ['10.107.0.1/24'], up: true,
        routes: [{ destination: '10.108.0.0/16' }],
      } });
      devices.push(device);
      expect(device.name).to.equal(name);
      expect(device.mtu).to.equal(1400);
      const link = world.observer.link(name)!;
      expect(link).to.include({ ifindex: device.ifindex, mtu: 1400, up: true, alias: 'opened configured', group: 4713 });
      expect(keys(world.observer.addresses(name))).to.deep.equal(['4 10.107.0.1/24']);
      expect(keys(world.observer.routes(name))).to.deep.equal(['4 10.108.0.0/16 0']);
      // the queue works: a packet over the plan's MTU is refused before the syscall
      expect(() => device.queues[0]!.write(Buffer.alloc(1401, 0x45))).to.throw(RangeError);
    });

    it('readBack: the link, addresses and routes read after the plan equal what the binding answers when asked (native: always given)', async () => {
      const name = freshName();
      names.add(name);
      const device = await binding.open({ name, readBack: true, configure: {
        mtu: 1380, addresses: ['10.117.0.1/24', 'fd00:117::1/64'], up: true, routes: [{ destination: '10.118.0.0/16', metric: 7 }],
      } });
      devices.push(device);
      if (binding.kind === 'native') expect(device.readBack, 'the native binding reads back in the open').to.not.equal(undefined);
      if (device.readBack === undefined) return;
      const { link, addresses, routes } = device.readBack;
      expect(link).to.include({ ifindex: device.ifindex, name, mtu: 1380, up: true });
      expect(addresses.map((a) => a.cidr)).to.include.members(['10.117.0.1/24', 'fd00:117::1/64']);
      expect(routes).to.deep.include({ family: 4, destination: '10.118.0.0/16', metric: 7 });
      // Asked afterwards, the kernel says the same (nothing changed in between).
      expect(addresses).to.deep.equal(await binding.listAddresses(device.ifindex));
      expect(routes).to.deep.equal(await binding.listRoutes(device.ifindex));
      const asked = await binding.getLink(device.ifindex);
      // What is ours to set (carrier and counters move on their own).
      const ours = ({ name: n, ifindex, mtu, up, alias, group }: typeof link) => ({ name: n, ifindex, mtu, up, alias, group });
      expect(ours(link)).to.deep.equal(ours(asked));
    });

    it('without readBack nothing is read back', async () => {
      const name = freshName();
      names.add(name);
      const device = await binding.open({ name, configure: { mtu: 1400 } });
      devices.push(device);
      expect(device.readBack).to.equal(undefined);
    });

    it('a failing step rolls the device back: rejected with that step’s error and `step`, no interface, no fd', async () => {
      const fdsBefore = binding.openFdCount();
      const name = freshName();
      names.add(name);
      const err = await rejectionOf(binding.open({ name, configure: { mtu: 1400, addresses: ['10.109.0.1/24', '10.109.0.1/24'], up: true } }));
      expect(err.code).to.equal('EEXIST');
      expect(err.syscall).to.equal('RTM_NEWADDR');
      expect((err as TunSystemError & { step?: number }).step).to.equal(2);
      expect(world.observer.link(name), 'the half-made interface is gone').to.equal(undefined);
      expect(await eventually(() => binding.openFdCount() === fdsBefore)).to.equal(true);
    });

    it('persistent: a failing step deletes the interface this open created', async () => {
      const name = freshName();
      names.add(name);
      const err = await rejectionOf(binding.open({ name, persist: true, configure: { routes: [{ destination: '10.110.0.0/16' }] } }));
      expect(err.code).to.equal('ENETDOWN');
      expect((err as TunSystemError & { step?: number }).step).to.equal(0);
      expect(world.observer.link(name)).to.equal(undefined);
    });

    it('attachExisting: a failing step only lets go of the existing interface', async () => {
      const first = await open({ persist: true });
      first.close();
      const fdsBefore = binding.openFdCount();
      const err = await rejectionOf(binding.open({ name: first.name, attachExisting: true, configure: { routes: [{ destination: '10.111.0.0/16' }] } }));
      expect(err.code).to.equal('ENETDOWN');
      expect(world.observer.link(first.name)?.ifindex, 'still there: it was not this open’s to delete').to.equal(first.ifindex);
      expect(await eventually(() => binding.openFdCount() === fdsBefore)).to.equal(true);
    });

    it('a bad plan is refused before anything is made', async () => {
      const callsBefore = world.kernelCalls?.();
      const name = freshName();
      names.add(name);
      let caught: unknown;
      try {
        await binding.open({ name, configure: { addresses: ['10.112.0.1/33'] } });
      } catch (err) {
        caught = err;
      }
      expect(caught).to.be.instanceOf(Error);
      expect(caught).to.not.be.instanceOf(TunSystemError);
      expect((caught as { code?: string }).code).to.match(/^ERR_/u);
      expect(world.observer.link(name)).to.equal(undefined);
      if (callsBefore !== undefined) expect(world.kernelCalls!()).to.equal(callsBefore);
    });
  });
}
