// Bad input and leaks: refused before any kernel call; fds return to where they started.

import { expect } from 'chai';
import { TunSystemError } from '../../src/binding/contract/system-error.js';
import { eventually } from '../helpers/wait.js';
import { world, binding, open, freshName } from './context.js';

export function badInputContract(): void {
  describe('bad input and leaks', () => {
    it('bad input is refused before any kernel call and nothing is made', async () => {
      const device = await open();
      const callsBefore = world.kernelCalls?.();
      const bad = freshName();
      const attempts: Array<() => Promise<unknown>> = [
        () => binding.open({ name: bad, queues: 0 }),
        () => binding.open({ name: bad, persist: 'yes' as never }),
        () => binding.open({ name: `${bad}/x` }),
        () => binding.addAddress(device.ifindex, '10.95.0.1'),
        () => binding.addAddress(device.ifindex, 'fd95::1/129'),
        () => binding.addRoute(device.ifindex, { destination: '10.95.1.1/24' }),
        () => binding.setMtu(device.ifindex, 67),
        () => binding.setMtu(device.ifindex, 65536),
      ];
      for (const attempt of attempts) {
        let caught: unknown;
        try {
          await attempt();
        } catch (err) {
          caught = err;
        }
        expect(caught, String(attempt)).to.be.instanceOf(Error);
        expect(caught).to.not.be.instanceOf(TunSystemError);
        expect((caught as { code?: string }).code).to.match(/^ERR_/u);
      }
      expect(world.observer.link(bad)).to.equal(undefined);
      expect(world.observer.addresses(device.name)).to.deep.equal([]);
      expect(world.observer.routes(device.name)).to.deep.equal([]);
      expect(world.observer.link(device.name)!.mtu).to.equal(1500);
      if (callsBefore !== undefined) expect(world.kernelCalls!()).to.equal(callsBefore);
    });

    it('openFdCount returns to where it started once devices and monitors are closed', async () => {
      const start = binding.openFdCount();
      const a = await open({ queues: 2 });
      const b = await open();
      const monitor = binding.monitor(a.ifindex, () => {});
      expect(binding.openFdCount()).to.be.above(start + 2);
      a.close();
      b.close();
      monitor.close();
      expect(await eventually(() => binding.openFdCount() === start)).to.equal(true);
    });
  });
}
