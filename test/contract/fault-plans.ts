// Plans through the fault injector: for worlds whose harness says `injectsFaults` (the simulated one).

import { expect } from 'chai';
import { TunSystemError } from '../../src/binding/contract/system-error.js';
import { eventually } from '../helpers/wait.js';
import { rejectionOf } from '../helpers/rejection.js';
import { world, binding, devices, names, open, freshName, keys } from './context.js';

export function faultPlansContract(): void {
  describe('plans through the fault injector', () => {
    it('configure runs the single operations: a fault on addAddress fails the plan there, with `step`', async () => {
      const device = await open();
      const faults = world.faults!;
      faults.resetCalls();
      faults.fail('addAddress', 'EBUSY', 1);
      const err = await rejectionOf(binding.configure(device.ifindex, { mtu: 1400, addresses: ['10.113.0.1/24'], up: true }));
      expect(err.code).to.equal('EBUSY');
      expect((err as TunSystemError & { step?: number }).step).to.equal(1);
      expect(faults.callCounts()).to.deep.equal({ configure: 1, setMtu: 1, addAddress: 1 });
      expect(world.observer.link(device.name)).to.include({ mtu: 1400, up: false });
      // the rule was used up: the same plan now goes through
      await binding.configure(device.ifindex, { addresses: ['10.113.0.1/24'], up: true });
      expect(faults.calls('configure')).to.equal(2);
      expect(world.observer.link(device.name)!.up).to.equal(true);
    });

    it('open with a plan: a fault on setUp rolls the device back, with `step`', async () => {
      const faults = world.faults!;
      const name = freshName();
      names.add(name);
      faults.fail('setUp', 'EAGAIN', 1);
      const err = await rejectionOf(binding.open({ name, persist: true, configure: { alias: 'a', addresses: ['10.114.0.1/24'], up: true } }));
      expect(err.code).to.equal('EAGAIN');
      expect((err as TunSystemError & { step?: number }).step).to.equal(2);
      expect(world.observer.link(name)).to.equal(undefined);
      expect(binding.openFdCount()).to.equal(0);
    });

    it('a hang on a step holds the open until released', async () => {
      const faults = world.faults!;
      const name = freshName();
      names.add(name);
      const release = faults.hang('addRoute');
      let settled = false;
      const opening = binding.open({ name, configure: { up: true, routes: [{ destination: '10.115.0.0/16' }] } })
        .finally(() => { settled = true; });
      expect(await eventually(() => faults.calls('addRoute') === 1)).to.equal(true);
      expect(settled).to.equal(false);
      release();
      const device = await opening;
      devices.push(device);
      expect(keys(world.observer.routes(name))).to.deep.equal(['4 10.115.0.0/16 0']);
    });
  });
}
