// Routes: IPv4 and IPv6 with metrics, duplicates, absent ones, and a down link taking them along.

import { expect } from 'chai';
import type { ObservedRoute } from './observer.js';
import { rejectionOf } from '../helpers/rejection.js';
import { world, binding, open, keys } from './context.js';

export function routesContract(): void {
  describe('routes', () => {
    it('IPv4 and IPv6 routes with metric; IPv6 metric 0 becomes 1024; the world agrees; delete works', async () => {
      const device = await open();
      await binding.setUp(device.ifindex, true);
      await binding.addRoute(device.ifindex, { destination: '10.71.0.0/16' });
      await binding.addRoute(device.ifindex, { destination: '10.72.0.0/24', metric: 20 });
      await binding.addRoute(device.ifindex, { destination: '10.73.0.5/32', metric: 7 });
      await binding.addRoute(device.ifindex, { destination: 'fd71::/64' });
      await binding.addRoute(device.ifindex, { destination: 'fd72::/48', metric: 300 });
      const expected: ObservedRoute[] = [
        { family: 4, destination: '10.71.0.0/16', metric: 0 },
        { family: 4, destination: '10.72.0.0/24', metric: 20 },
        { family: 4, destination: '10.73.0.5/32', metric: 7 },
        { family: 6, destination: 'fd71::/64', metric: 1024 },
        { family: 6, destination: 'fd72::/48', metric: 300 },
      ];
      expect(keys(await binding.listRoutes(device.ifindex))).to.deep.equal(keys(expected));
      expect(keys(world.observer.routes(device.name))).to.deep.equal(keys(expected));

      await binding.deleteRoute(device.ifindex, { destination: '10.72.0.0/24', metric: 20 });
      await binding.deleteRoute(device.ifindex, { destination: 'fd71::/64', metric: 1024 });
      const remaining = expected.filter((r) => r.destination !== '10.72.0.0/24' && r.destination !== 'fd71::/64');
      expect(keys(await binding.listRoutes(device.ifindex))).to.deep.equal(keys(remaining));
      expect(keys(world.observer.routes(device.name))).to.deep.equal(keys(remaining));
    });

    it('a route twice is EEXIST; an absent route is ESRCH; through a down link is ENETDOWN', async () => {
      const device = await open();
      expect((await rejectionOf(binding.addRoute(device.ifindex, { destination: '10.74.0.0/16' }))).code).to.equal('ENETDOWN');
      await binding.setUp(device.ifindex, true);
      await binding.addRoute(device.ifindex, { destination: '10.74.0.0/16', metric: 5 });
      await binding.addRoute(device.ifindex, { destination: 'fd74::/64', metric: 5 });
      expect((await rejectionOf(binding.addRoute(device.ifindex, { destination: '10.74.0.0/16', metric: 5 }))).code).to.equal('EEXIST');
      expect((await rejectionOf(binding.addRoute(device.ifindex, { destination: 'fd74::/64', metric: 5 }))).code).to.equal('EEXIST');
      expect((await rejectionOf(binding.deleteRoute(device.ifindex, { destination: '10.75.0.0/16', metric: 5 }))).code).to.equal('ESRCH');
      expect((await rejectionOf(binding.deleteRoute(device.ifindex, { destination: 'fd74::/64', metric: 6 }))).code).to.equal('ESRCH');
      expect(world.observer.routes(device.name)).to.have.length(2);
    });

    it('taking the link down takes its routes with it', async () => {
      const device = await open();
      await binding.setUp(device.ifindex, true);
      await binding.addRoute(device.ifindex, { destination: '10.76.0.0/16' });
      await binding.addRoute(device.ifindex, { destination: 'fd76::/64' });
      await binding.setUp(device.ifindex, false);
      expect(await binding.listRoutes(device.ifindex)).to.deep.equal([]);
      expect(world.observer.routes(device.name)).to.deep.equal([]);
    });
  });
}
