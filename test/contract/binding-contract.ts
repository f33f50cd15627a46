// THE contract suite: the same assertions against every TunBinding. Each test
// checks the binding's own answer AND an independent observer of the world
// (ip -j for the kernel, the simulation's ground truth for the simulated
// binding), so a binding that agrees only with itself fails.

import { expect } from 'chai';
import type { AddressInfo, LinkEvent, LinkPlan, PacketQueue, TunBinding, TunDevice } from '../../src/binding/contract/types.js';
import { TunSystemError } from '../../src/binding/contract/system-error.js';
import { isKernelNoise, isUdp, parsePacket, buildIPv4Udp, buildIPv6Udp } from '../helpers/packets.js';
import { eventually } from '../helpers/queue-wait.js';
import type { ContractHarness, ContractWorld, ObservedAddress, ObservedRoute } from './observer.js';

const IFF_UP = 0x1;
const IFF_LOWER_UP = 0x10000;
/** Far above anything a test namespace allocates, yet a valid ifindex. */
const ABSENT_IFINDEX = 0x7ffffff0;

let nameCounter = 0;
/** Names unlikely to meet anyone else's in a shared namespace. */
function freshName(): string {
  nameCounter += 1;
  return `ct${process.pid % 10000}x${nameCounter}`;
}

async function rejectionOf(promise: Promise<unknown>): Promise<TunSystemError> {
  try {
    await promise;
  } catch (err) {
    expect(err, String(err)).to.be.instanceOf(TunSystemError);
    return err as TunSystemError;
  }
  expect.fail('expected a rejection');
}

const key = (x: ObservedAddress | ObservedRoute | AddressInfo): string =>
  'address' in x ? `${x.family} ${x.address}/${x.prefixLength}` : `${x.family} ${x.destination} ${x.metric}`;
const keys = (xs: Array<ObservedAddress | ObservedRoute | AddressInfo>): string[] => xs.map(key).sort();
const withoutLinkLocal = (xs: AddressInfo[]): AddressInfo[] => xs.filter((a) => !(a.family === 6 && /^fe[89ab]/iu.test(a.address)));

export function bindingContract(label: string, harness: ContractHarness): void {
  describe(`TunBinding contract: ${label}`, function () {
    let world: ContractWorld;
    let binding: TunBinding;
    let devices: TunDevice[];
    let names: Set<string>;
    let monitors: Array<{ close(): void }>;

    beforeEach(async () => {
      world = await harness.setup();
      binding = world.binding;
      devices = [];
      names = new Set();
      monitors = [];
    });

    afterEach(async () => {
      for (const monitor of monitors) monitor.close();
      for (const device of devices) device.close();
      // persistent leftovers (or a failed test's): delete what this test made, never anything else
      for (const name of names) {
        const seen = world.observer.link(name);
        if (seen) await binding.deleteLink(seen.ifindex).catch(() => undefined);
      }
      await world.dispose?.();
    });

    async function open(options: Parameters<TunBinding['open']>[0] = {}): Promise<TunDevice> {
      const name = options.name ?? freshName();
      names.add(name);
      const device = await binding.open({ ...options, name });
      devices.push(device);
      names.add(device.name);
      return device;
    }

    function watch(ifindex: number): LinkEvent[] {
      const events: LinkEvent[] = [];
      monitors.push(binding.monitor(ifindex, (event) => events.push(event)));
      return events;
    }

    const seen = (events: LinkEvent[], match: (e: LinkEvent) => boolean) => eventually(() => events.some(match), 3000, 5);

    // ── devices ─────────────────────────────────────────────────────────

    describe('open', () => {
      it('creates an interface with the given name; the world sees it at the returned ifindex', async () => {
        const name = freshName();
        const device = await open({ name });
        expect(device.name).to.equal(name);
        expect(device.queues).to.have.length(1);
        expect(device.closed).to.equal(false);
        expect(device.persistent).to.equal(false);
        expect(device.mtu).to.equal(1500);
        const link = world.observer.link(name);
        expect(link, `${name} not in the world`).to.not.equal(undefined);
        expect(link!.ifindex).to.equal(device.ifindex);
        expect(link!.up, 'a new TUN is down').to.equal(false);
        expect(link!.mtu).to.equal(1500);
      });

      it("lets the kernel choose from a '%d' pattern and returns the real name", async () => {
        const device = await open({ name: 'ctp%d' });
        expect(device.name).to.match(/^ctp\d+$/u);
        expect(world.observer.link(device.name)?.ifindex).to.equal(device.ifindex);
        expect(world.observer.link('ctp%d')).to.equal(undefined);
      });

      it("defaults to 'tun%d'", async () => {
        const device = await binding.open();
        devices.push(device);
        names.add(device.name);
        expect(device.name).to.match(/^tun\d+$/u);
        expect(world.observer.link(device.name)?.ifindex).to.equal(device.ifindex);
      });

      it('refuses an existing name with EEXIST naming it, and leaves the existing interface alone', async () => {
        const first = await open();
        const err = await rejectionOf(binding.open({ name: first.name }));
        expect(err.code).to.equal('EEXIST');
        expect(err.message).to.include(first.name);
        expect(world.observer.link(first.name)?.ifindex).to.equal(first.ifindex);
        expect(first.closed).to.equal(false);
      });

      it('refuses to attach to a non-persistent TUN another fd holds (EBUSY)', async () => {
        const first = await open();
        const err = await rejectionOf(binding.open({ name: first.name, attachExisting: true }));
        expect(err.code).to.equal('EBUSY');
        expect(world.observer.link(first.name)?.ifindex).to.equal(first.ifindex);
      });

      it('a non-persistent interface vanishes when its last fd closes', async () => {
        const device = await open();
        device.close();
        expect(device.closed).to.equal(true);
        expect(await eventually(() => world.observer.link(device.name) === undefined)).to.equal(true);
        expect((await rejectionOf(binding.getLink(device.name))).code).to.equal('ENODEV');
      });

      it('persist: the interface outlives its fds, attachExisting re-attaches, deleteLink removes it', async () => {
        const device = await open({ persist: true });
        expect(device.persistent).to.equal(true);
        device.close();
        expect(device.closed).to.equal(true);
        const kept = world.observer.link(device.name);
        expect(kept?.ifindex, 'still there after close').to.equal(device.ifindex);
        expect(kept!.carrier, 'no fd, no carrier').to.equal(false);

        const again = await open({ name: device.name, attachExisting: true });
        expect(again.ifindex).to.equal(device.ifindex);
        again.close();
        expect(world.observer.link(device.name)?.ifindex).to.equal(device.ifindex);

        await binding.deleteLink(device.ifindex);
        expect(world.observer.link(device.name)).to.equal(undefined);
        expect((await rejectionOf(binding.getLink(device.ifindex))).code).to.equal('ENODEV');
      });

      it('setPersist(true) on an open device keeps it after close; setPersist(false) lets it go', async () => {
        const device = await open();
        await device.setPersist(true);
        expect(device.persistent).to.equal(true);
        device.close();
        expect(world.observer.link(device.name)?.ifindex).to.equal(device.ifindex);
        const again = await open({ name: device.name, attachExisting: true });
        await again.setPersist(false);
        again.close();
        expect(await eventually(() => world.observer.link(device.name) === undefined)).to.equal(true);
      });

      it('multi-queue: N queue fds on one interface, indexed 0..N-1', async () => {
        const before = binding.openFdCount();
        const device = await open({ queues: 3 });
        expect(device.queues.map((q) => q.index)).to.deep.equal([0, 1, 2]);
        expect(device.queues.every((q) => !q.closed)).to.equal(true);
        expect(binding.openFdCount() - before).to.equal(3);
        expect(world.observer.link(device.name)?.ifindex).to.equal(device.ifindex);
        device.queues[0]!.close();
        expect(world.observer.link(device.name), 'still held by two queues').to.not.equal(undefined);
        expect(device.closed).to.equal(false);
        device.close();
        expect(device.closed).to.equal(true);
        expect(await eventually(() => world.observer.link(device.name) === undefined)).to.equal(true);
      });
    });

    // ── links ───────────────────────────────────────────────────────────

    describe('links', () => {
      it('getLink by name and by index agree with each other and with the world', async () => {
        const device = await open();
        const byName = await binding.getLink(device.name);
        const byIndex = await binding.getLink(device.ifindex);
        const link = world.observer.link(device.name)!;
        for (const info of [byName, byIndex]) {
          expect(info.name).to.equal(device.name);
          expect(info.ifindex).to.equal(device.ifindex);
          expect(info.mtu).to.equal(link.mtu);
          expect(info.up).to.equal(link.up);
          expect(info.operstate).to.equal(link.operstate);
        }
      });

      it('ENODEV for an absent name or ifindex', async () => {
        expect((await rejectionOf(binding.getLink('ctabsent0'))).code).to.equal('ENODEV');
        expect((await rejectionOf(binding.getLink(ABSENT_IFINDEX))).code).to.equal('ENODEV');
        expect((await rejectionOf(binding.setMtu(ABSENT_IFINDEX, 1400))).code).to.equal('ENODEV');
        expect((await rejectionOf(binding.setUp(ABSENT_IFINDEX, true))).code).to.equal('ENODEV');
        expect((await rejectionOf(binding.deleteLink(ABSENT_IFINDEX))).code).to.equal('ENODEV');
      });

      it('stats: every counter is a bigint; writes show up as received packets', async () => {
        const device = await open();
        const { stats } = await binding.getLink(device.ifindex);
        for (const field of ['rxPackets', 'txPackets', 'rxBytes', 'txBytes', 'rxErrors', 'txErrors', 'rxDropped', 'txDropped'] as const) {
          expect(typeof stats[field], field).to.equal('bigint');
          expect(stats[field] >= 0n, field).to.equal(true);
        }
      });

      it('listLinks includes the new interface and lo', async () => {
        const device = await open();
        const links = await binding.listLinks();
        expect(links.find((l) => l.name === device.name)?.ifindex).to.equal(device.ifindex);
        expect(links.find((l) => l.name === 'lo')?.ifindex).to.equal(1);
      });

      it('setMtu: the world and the device agree', async () => {
        const device = await open();
        await binding.setMtu(device.ifindex, 1280);
        expect(world.observer.link(device.name)!.mtu).to.equal(1280);
        expect((await binding.getLink(device.ifindex)).mtu).to.equal(1280);
        expect(device.mtu).to.equal(1280);
        await binding.setMtu(device.ifindex, 9000);
        expect(world.observer.link(device.name)!.mtu).to.equal(9000);
        expect(device.mtu).to.equal(9000);
      });

      it('setUp: flags, carrier and operstate as the kernel reports them', async () => {
        const device = await open();
        let info = await binding.getLink(device.ifindex);
        expect(info.up).to.equal(false);
        expect(info.flags & IFF_UP).to.equal(0);
        expect(info.operstate).to.equal('down');

        await binding.setUp(device.ifindex, true);
        info = await binding.getLink(device.ifindex);
        const link = world.observer.link(device.name)!;
        expect(info.up).to.equal(true);
        expect(link.up).to.equal(true);
        expect(info.flags & IFF_UP).to.equal(IFF_UP);
        expect(info.carrier, 'an attached fd gives carrier').to.equal(true);
        expect(info.flags & IFF_LOWER_UP).to.equal(IFF_LOWER_UP);
        expect(link.carrier).to.equal(true);
        expect(info.operstate).to.equal(link.operstate);
        expect(['unknown', 'up']).to.include(info.operstate);

        await binding.setUp(device.ifindex, false);
        info = await binding.getLink(device.ifindex);
        expect(info.up).to.equal(false);
        expect(world.observer.link(device.name)!.up).to.equal(false);
        expect(info.operstate).to.equal('down');
      });

      it('setAlias and setGroup are visible to the world', async () => {
        const device = await open();
        await binding.setAlias(device.ifindex, 'made by the contract suite');
        await binding.setGroup(device.ifindex, 4711);
        const info = await binding.getLink(device.ifindex);
        expect(info.alias).to.equal('made by the contract suite');
        expect(info.group).to.equal(4711);
        const link = world.observer.link(device.name)!;
        expect(link.alias).to.equal('made by the contract suite');
        expect(link.group).to.equal(4711);
        await binding.setAlias(device.ifindex, '');
        expect((await binding.getLink(device.ifindex)).alias).to.equal('');
        expect(world.observer.link(device.name)!.alias).to.equal('');
      });

      it('deleteLinkGroup deletes every link of the group and nothing else', async () => {
        const group = 40000 + (process.pid % 20000);
        const members: TunDevice[] = [];
        for (let i = 0; i < 3; i++) {
          const device = await open({ persist: true });
          await binding.setGroup(device.ifindex, group);
          device.close();
          members.push(device);
        }
        const bystander = await open({ persist: true });
        bystander.close();
        for (const m of members) expect(world.observer.link(m.name)?.group).to.equal(group);
        await binding.deleteLinkGroup(group);
        for (const m of members) expect(world.observer.link(m.name), m.name).to.equal(undefined);
        expect(world.observer.link(bystander.name)?.ifindex).to.equal(bystander.ifindex);
        expect((await rejectionOf(binding.deleteLinkGroup(group))).code, 'an empty group').to.equal('ENODEV');
      });

      it('deleteLink under an open, reading queue: the queue gets EBADFD, then closes once', async () => {
        const device = await open();
        const queue = device.queues[0]!;
        const errors: Error[] = [];
        let closes = 0;
        queue.on('error', (err: Error) => errors.push(err));
        queue.on('close', () => { closes += 1; });
        queue.on('packets', () => {});
        await binding.deleteLink(device.ifindex);
        expect(world.observer.link(device.name)).to.equal(undefined);
        expect(await eventually(() => closes > 0)).to.equal(true);
        expect(errors).to.have.length(1);
        expect((errors[0] as TunSystemError).code).to.equal('EBADFD');
        expect(queue.closed).to.equal(true);
        await new Promise((r) => setTimeout(r, 20));
        expect(closes).to.equal(1);
      });

      it('a paused queue hears of the deletion only when it reads again: then EBADFD and close', async () => {
        const device = await open({ queues: 2 });
        const [paused, reading] = device.queues as [PacketQueue, PacketQueue];
        const log: string[] = [];
        paused.on('error', (err: TunSystemError) => log.push(`paused error ${err.code}`));
        paused.on('close', () => log.push('paused close'));
        reading.on('error', (err: TunSystemError) => log.push(`reading error ${err.code}`));
        reading.on('close', () => log.push('reading close'));
        reading.resume();
        await binding.deleteLink(device.ifindex);
        expect(await eventually(() => log.includes('reading close'))).to.equal(true);
        await new Promise((r) => setTimeout(r, 30));
        expect(log).to.deep.equal(['reading error EBADFD', 'reading close']);
        expect(paused.closed).to.equal(false);
        paused.resume();
        expect(await eventually(() => log.includes('paused close'))).to.equal(true);
        expect(log.slice(2)).to.deep.equal(['paused error EBADFD', 'paused close']);
        expect(device.closed).to.equal(true);
      });
    });

    // ── addresses ───────────────────────────────────────────────────────

    describe('addresses', () => {
      const v4 = ['10.61.0.1/24', '10.61.0.2/24', '10.62.0.1/16'];
      const v6 = ['fd61::1/64', 'fd61::2/64', 'fd62:1::1/48'];

      it('several IPv4 and IPv6 addresses per interface; the world agrees; delete works', async () => {
        const device = await open();
        await binding.setUp(device.ifindex, true);
        for (const cidr of [...v4, ...v6]) await binding.addAddress(device.ifindex, cidr);
        const expected = [...v4, ...v6].map((cidr) => {
          const [address, prefix] = cidr.split('/');
          return { family: (address!.includes(':') ? 6 : 4) as 4 | 6, address: address!, prefixLength: Number(prefix) };
        });
        const listed = await binding.listAddresses(device.ifindex);
        expect(keys(withoutLinkLocal(listed))).to.deep.equal(keys(expected));
        expect(keys(world.observer.addresses(device.name))).to.deep.equal(keys(expected));
        for (const a of listed) expect(a.cidr).to.equal(`${a.address}/${a.prefixLength}`);

        await binding.deleteAddress(device.ifindex, '10.61.0.2/24');
        await binding.deleteAddress(device.ifindex, 'fd61::2/64');
        const remaining = expected.filter((a) => a.address !== '10.61.0.2' && a.address !== 'fd61::2');
        expect(keys(withoutLinkLocal(await binding.listAddresses(device.ifindex)))).to.deep.equal(keys(remaining));
        expect(keys(world.observer.addresses(device.name))).to.deep.equal(keys(remaining));
      });

      it('link-up adds the kernel fe80:: link-local (listed); link-down drops every IPv6 address and keeps IPv4', async () => {
        const device = await open();
        await binding.addAddress(device.ifindex, '10.65.0.1/24');
        await binding.addAddress(device.ifindex, 'fd65::1/64');
        await binding.setUp(device.ifindex, true);
        const up = await binding.listAddresses(device.ifindex);
        expect(up.filter((a) => a.family === 6 && a.address.startsWith('fe80:') && a.prefixLength === 64)).to.have.length(1);
        expect(keys(world.observer.addresses(device.name))).to.deep.equal(['4 10.65.0.1/24', '6 fd65::1/64']);
        await binding.setUp(device.ifindex, false);
        expect((await binding.listAddresses(device.ifindex)).map((a) => a.cidr)).to.deep.equal(['10.65.0.1/24']);
        expect(keys(world.observer.addresses(device.name))).to.deep.equal(['4 10.65.0.1/24']);
      });

      it('adding an address twice is EEXIST; deleting an absent one is EADDRNOTAVAIL', async () => {
        const device = await open();
        await binding.addAddress(device.ifindex, '10.63.0.1/24');
        await binding.addAddress(device.ifindex, 'fd63::1/64');
        expect((await rejectionOf(binding.addAddress(device.ifindex, '10.63.0.1/24'))).code).to.equal('EEXIST');
        expect((await rejectionOf(binding.addAddress(device.ifindex, 'fd63::1/64'))).code).to.equal('EEXIST');
        expect((await rejectionOf(binding.deleteAddress(device.ifindex, '10.63.9.9/24'))).code).to.equal('EADDRNOTAVAIL');
        expect((await rejectionOf(binding.deleteAddress(device.ifindex, 'fd63::9/64'))).code).to.equal('EADDRNOTAVAIL');
        expect(world.observer.addresses(device.name)).to.have.length(2);
      });

      it('an address added by an admin from outside is listed by the binding', async () => {
        const device = await open();
        world.observer.addAddress(device.name, '10.64.0.1/24');
        expect(keys(await binding.listAddresses(device.ifindex))).to.include('4 10.64.0.1/24');
      });
    });

    // ── routes ──────────────────────────────────────────────────────────

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

    // ── configure(): a whole LinkPlan, and open() carrying one ──────────

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

    if (harness.injectsFaults) {
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

    // ── link monitor ────────────────────────────────────────────────────

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

    // ── packet queues ───────────────────────────────────────────────────

    describe('packet queues', () => {
      it('write accepts crafted IPv4 and IPv6 packets (returns true) and both sides count them', async () => {
        const device = await open();
        await binding.setUp(device.ifindex, true);
        await binding.addAddress(device.ifindex, '10.91.0.1/24');
        await binding.addAddress(device.ifindex, 'fd91::1/64');
        const queue = device.queues[0]!;
        const before = world.observer.stats(device.name);
        const payload = Buffer.from('contract');
        const packets = [
          buildIPv4Udp({ src: '10.91.0.2', dst: '10.91.0.1', srcPort: 5000, dstPort: 9, payload }),
          buildIPv4Udp({ src: '10.91.0.3', dst: '10.91.0.1', srcPort: 5001, dstPort: 9, payload }),
          buildIPv6Udp({ src: 'fd91::2', dst: 'fd91::1', srcPort: 5002, dstPort: 9, payload }),
        ];
        for (const packet of packets) expect(queue.write(packet)).to.equal(true);
        const bytes = packets.reduce((sum, p) => sum + p.length, 0);
        expect(queue.stats()).to.include({ txPackets: 3, txBytes: bytes, txErrors: 0 });
        expect(await eventually(() => world.observer.stats(device.name).rxPackets - before.rxPackets >= 3n)).to.equal(true);
        const after = world.observer.stats(device.name);
        expect(after.rxPackets - before.rxPackets).to.equal(3n);
        expect(after.rxBytes - before.rxBytes).to.equal(BigInt(bytes));
      });

      it('starts paused; a packets listener starts reading; a packet routed into the TUN arrives whole', async () => {
        const device = await open();
        await binding.setUp(device.ifindex, true);
        await binding.addAddress(device.ifindex, '10.92.0.1/24');
        const queue = device.queues[0]!;
        const received: Buffer[] = [];
        const payload = Buffer.from(`hello through ${label}`);
        await world.observer.sendUdpInto(device.name, '10.92.0.1', '10.92.0.2', 7777, payload);
        await new Promise((r) => setTimeout(r, 30));
        expect(queue.stats().rxPackets, 'paused: nothing read yet').to.equal(0);
        queue.on('packets', (batch: Buffer[]) => {
          expect(batch).to.be.an('array').that.is.not.empty;
          received.push(...batch);
        });
        const wanted = isUdp({ dst: '10.92.0.2', dstPort: 7777 });
        expect(await eventually(() => received.some(wanted))).to.equal(true);
        const packet = parsePacket(received.find(wanted)!);
        expect(packet.udp!.payload.toString()).to.equal(payload.toString());
        expect(received.filter((p) => !isKernelNoise(p) && !wanted(p)), 'nothing else arrived').to.deep.equal([]);
        expect(queue.stats().rxPackets).to.equal(received.length);
      });

      it('writing into a down TUN throws EIO at once; the queue stays open and works once the link is up', async () => {
        const device = await open();
        const queue = device.queues[0]!;
        const errors: Error[] = [];
        queue.on('error', (err: Error) => errors.push(err));
        const packet = buildIPv4Udp({ src: '10.94.0.2', dst: '10.94.0.1', srcPort: 1, dstPort: 9, payload: Buffer.alloc(8) });
        const dropsBefore = (await binding.getLink(device.ifindex)).stats.rxDropped;
        let caught: unknown;
        try {
          queue.write(packet);
        } catch (err) {
          caught = err;
        }
        expect(caught, 'write into a down link').to.be.instanceOf(TunSystemError);
        expect((caught as TunSystemError).code).to.equal('EIO');
        expect((await binding.getLink(device.ifindex)).stats.rxDropped - dropsBefore, 'the kernel counts the drop').to.equal(1n);
        await new Promise((r) => setTimeout(r, 20));
        expect(queue.closed, 'a down link is not a dead fd').to.equal(false);
        expect(errors).to.deep.equal([]);
        await binding.setUp(device.ifindex, true);
        expect(queue.write(packet)).to.equal(true);
      });

      it('the device follows setMtu: a packet over the new MTU is refused before the syscall', async () => {
        const device = await open();
        await binding.setUp(device.ifindex, true);
        const queue = device.queues[0]!;
        const packet = buildIPv4Udp({ src: '10.96.0.2', dst: '10.96.0.1', srcPort: 1, dstPort: 9, payload: Buffer.alloc(1372) });
        expect(packet.length).to.equal(1400);
        expect(queue.write(packet)).to.equal(true);
        await binding.setMtu(device.ifindex, 1280);
        expect(device.mtu).to.equal(1280);
        expect(() => queue.write(packet)).to.throw(RangeError, /packet\.length/u);
        expect(queue.stats().txPackets).to.equal(1);
      });

      it('close is idempotent, emits close once, and a closed queue refuses writes with EBADF', async () => {
        const device = await open({ queues: 2 });
        const queue: PacketQueue = device.queues[1]!;
        let closes = 0;
        queue.on('close', () => { closes += 1; });
        queue.close();
        queue.close();
        expect(queue.closed).to.equal(true);
        await new Promise((r) => setTimeout(r, 20));
        expect(closes).to.equal(1);
        const packet = buildIPv4Udp({ src: '10.93.0.2', dst: '10.93.0.1', srcPort: 1, dstPort: 2, payload: Buffer.alloc(4) });
        let caught: unknown;
        try {
          queue.write(packet);
        } catch (err) {
          caught = err;
        }
        expect(caught).to.be.instanceOf(TunSystemError);
        expect((caught as TunSystemError).code).to.equal('EBADF');
        device.close();
        device.close();
        expect(device.closed).to.equal(true);
      });
    });

    // ── bad input and leaks ─────────────────────────────────────────────

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
  });
}
