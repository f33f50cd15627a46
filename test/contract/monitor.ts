// The link monitor: changes made through the binding and from outside, and monitors opened and closed.

import { expect } from 'chai';
import type { AddressInfo, LinkEvent, MonitorBaseline, RouteInfo } from '../../src/binding/contract/types.js';
import { eventually } from '../helpers/wait.js';
import { world, binding, monitors, open, watch, seen } from './context.js';

export function monitorContract(): void {
  describe('monitor', () => {
    it('reports admin up/down, MTU and addresses changed through the binding', async () => {
      const device = await open();
      const events = watch(device.ifindex);
      await binding.setUp(device.ifindex, true);
      expect(await seen(events, (e) => e.type === 'admin' && e.up)).to.equal(true);
      await binding.setMtu(device.ifindex, 1400);
      expect(await seen(events, (e) => e.type === 'mtu' && e.mtu === 1400)).to.equal(true);
      await binding.addAddress(device.ifindex, '10.81.0.1/24');
      expect(await seen(events, (e) => e.type === 'address-added' && e.address.cidr === '10.81.0.1/24')).to.equal(true);
      await binding.deleteAddress(device.ifindex, '10.81.0.1/24');
      expect(await seen(events, (e) => e.type === 'address-removed' && e.address.cidr === '10.81.0.1/24')).to.equal(true);
      await binding.setUp(device.ifindex, false);
      expect(await seen(events, (e) => e.type === 'admin' && !e.up)).to.equal(true);
      for (const e of events) {
        expect(e.ifindex, 'only events of the watched link').to.equal(device.ifindex);
        expect(e.name).to.equal(device.name);
      }
    });

    it('onSynced: called once, after subscribing, with the link state and what listAddresses and listRoutes list', async () => {
      const device = await open();
      await binding.setUp(device.ifindex, true);
      await binding.setMtu(device.ifindex, 1420);
      await binding.addAddress(device.ifindex, '10.86.0.1/24');
      await binding.addRoute(device.ifindex, { destination: '10.87.0.0/16', metric: 3 });
      const baselines: MonitorBaseline[] = [];
      const events: LinkEvent[] = [];
      monitors.push(binding.monitor(device.ifindex, (event) => events.push(event), undefined, (baseline) => baselines.push(baseline)));
      expect(await eventually(() => baselines.length > 0, 3000, 5)).to.equal(true);
      const [baseline] = baselines;
      expect(baseline).to.include({ up: true, mtu: 1420 });
      const cidrs = (list: AddressInfo[]) => list.map((a) => a.cidr).sort();
      expect(cidrs(baseline!.addresses)).to.deep.equal(cidrs(await binding.listAddresses(device.ifindex)));
      expect(cidrs(baseline!.addresses)).to.include('10.86.0.1/24');
      const routes = (list: RouteInfo[]) => list.map((r) => `${r.destination}@${r.metric}`).sort();
      expect(routes(baseline!.routes)).to.deep.equal(routes(await binding.listRoutes(device.ifindex)));
      expect(routes(baseline!.routes)).to.include('10.87.0.0/16@3');
      // Later changes are events, never a second baseline.
      await binding.addAddress(device.ifindex, '10.86.0.2/24');
      expect(await seen(events, (e) => e.type === 'address-added' && e.address.cidr === '10.86.0.2/24')).to.equal(true);
      expect(baselines).to.have.length(1);
      expect(() => binding.monitor(device.ifindex, () => {}, undefined, 'no' as never)).to.throw(TypeError, /onSynced/u);
    });

    it('reports changes an admin makes from outside: down, MTU, address, delete', async () => {
      const device = await open();
      await binding.setUp(device.ifindex, true);
      const events = watch(device.ifindex);
      world.observer.setUp(device.name, false);
      expect(await seen(events, (e) => e.type === 'admin' && !e.up)).to.equal(true);
      world.observer.setMtu(device.name, 1300);
      expect(await seen(events, (e) => e.type === 'mtu' && e.mtu === 1300)).to.equal(true);
      world.observer.addAddress(device.name, '10.82.0.1/24');
      expect(await seen(events, (e) => e.type === 'address-added' && e.address.cidr === '10.82.0.1/24')).to.equal(true);
      world.observer.removeAddress(device.name, '10.82.0.1/24');
      expect(await seen(events, (e) => e.type === 'address-removed' && e.address.cidr === '10.82.0.1/24')).to.equal(true);
      device.queues[0]!.on('error', () => {});
      world.observer.deleteLink(device.name);
      expect(await seen(events, (e) => e.type === 'deleted')).to.equal(true);
    });

    it('reports routes out of the link added and removed, through the binding and from outside; not the prefix route of an address', async () => {
      const device = await open();
      await binding.setUp(device.ifindex, true);
      await binding.addRoute(device.ifindex, { destination: '10.83.0.0/16', metric: 0 });
      const events = watch(device.ifindex);
      await binding.addAddress(device.ifindex, '10.84.0.1/24');
      await binding.addRoute(device.ifindex, { destination: 'fd83::/64', metric: 0 });
      expect(await seen(events, (e) => e.type === 'route-added' && e.route.destination === 'fd83::/64')).to.equal(true);
      world.observer.addRoute(device.name, '10.85.0.0/16', 7);
      expect(await seen(events, (e) => e.type === 'route-added' && e.route.destination === '10.85.0.0/16')).to.equal(true);
      world.observer.removeRoute(device.name, '10.83.0.0/16', 0);
      expect(await seen(events, (e) => e.type === 'route-removed' && e.route.destination === '10.83.0.0/16')).to.equal(true);
      await binding.deleteRoute(device.ifindex, { destination: 'fd83::/64', metric: 0 });
      expect(await seen(events, (e) => e.type === 'route-removed' && e.route.destination === 'fd83::/64')).to.equal(true);
      const routes = events.flatMap((e) => (e.type === 'route-added' || e.type === 'route-removed' ? [`${e.type} ${e.route.destination}@${e.route.metric}`] : []));
      expect(routes, 'the baseline route is no news; the prefix route 10.84.0.0/24 is the kernel\'s').to.deep.equal([
        'route-added fd83::/64@1024', 'route-added 10.85.0.0/16@7', 'route-removed 10.83.0.0/16@0', 'route-removed fd83::/64@1024',
      ]);
    });

    it('reports the deletion when the last fd of a non-persistent interface closes', async () => {
      const device = await open();
      const events = watch(device.ifindex);
      device.close();
      expect(await seen(events, (e) => e.type === 'deleted' && e.ifindex === device.ifindex)).to.equal(true);
    });

    it('reports carrier loss when the last fd of a persistent interface closes, and its return on re-attach', async () => {
      const device = await open({ persist: true });
      await binding.setUp(device.ifindex, true);
      const events = watch(device.ifindex);
      device.close();
      expect(await seen(events, (e) => e.type === 'carrier' && !e.carrier)).to.equal(true);
      expect(world.observer.link(device.name)).to.include({ up: true, carrier: false });
      // operstate follows through linkwatch, which the kernel runs a moment later
      expect(await eventually(() => world.observer.link(device.name)!.operstate === 'down')).to.equal(true);
      expect((await binding.getLink(device.ifindex)).operstate).to.equal('down');
      const again = await open({ name: device.name, attachExisting: true });
      expect(await seen(events, (e) => e.type === 'carrier' && e.carrier)).to.equal(true);
      expect(world.observer.link(device.name)).to.include({ up: true, carrier: true });
      again.close();
    });

    it('a monitor made while earlier changes are still unread reports none of them, only later ones', async () => {
      const bystander = await open();
      const device = await open();
      watch(bystander.ifindex); // another live monitor: any shared notification stream is already running
      // From outside, back to back, with nothing read in between (ip runs synchronously)
      world.observer.setUp(device.name, true);
      world.observer.setMtu(device.name, 1400);
      world.observer.addAddress(device.name, '10.116.0.1/24');
      const events = watch(device.ifindex);
      world.observer.setMtu(device.name, 1300);
      expect(await seen(events, (e) => e.type === 'mtu' && e.mtu === 1300)).to.equal(true);
      world.observer.removeAddress(device.name, '10.116.0.1/24');
      expect(await seen(events, (e) => e.type === 'address-removed')).to.equal(true);
      expect(events.map((e) => e.type)).to.deep.equal(['mtu', 'address-removed']);
    });

    it('two monitors of one interface both hear each change; closing one leaves the other working', async () => {
      const device = await open();
      const first = watch(device.ifindex);
      const secondEvents: LinkEvent[] = [];
      const second = binding.monitor(device.ifindex, (e) => secondEvents.push(e));
      monitors.push(second);
      await binding.setMtu(device.ifindex, 1400);
      expect(await seen(first, (e) => e.type === 'mtu' && e.mtu === 1400)).to.equal(true);
      expect(await seen(secondEvents, (e) => e.type === 'mtu' && e.mtu === 1400)).to.equal(true);
      second.close();
      await binding.setMtu(device.ifindex, 1300);
      expect(await seen(first, (e) => e.type === 'mtu' && e.mtu === 1300)).to.equal(true);
      expect(secondEvents.map((e) => e.type)).to.deep.equal(['mtu']);
    });

    it('a closed monitor reports nothing more; close is idempotent', async () => {
      const device = await open();
      const events: LinkEvent[] = [];
      const monitor = binding.monitor(device.ifindex, (e) => events.push(e));
      expect(monitor.closed).to.equal(false);
      monitor.close();
      monitor.close();
      expect(monitor.closed).to.equal(true);
      await binding.setUp(device.ifindex, true);
      await binding.setMtu(device.ifindex, 1400);
      // a live monitor alongside proves events were sent and would have arrived
      const control = watch(device.ifindex);
      await binding.setMtu(device.ifindex, 1300);
      expect(await seen(control, (e) => e.type === 'mtu' && e.mtu === 1300)).to.equal(true);
      expect(events).to.deep.equal([]);
    });
  });
}
