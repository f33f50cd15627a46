// Links: reading them, changing MTU, state, alias and group, deleting one or a group under open queues.

import { expect } from 'chai';
import type { PacketQueue, TunDevice } from '../../src/binding/contract/types.js';
import { TunSystemError } from '../../src/binding/contract/system-error.js';
import { eventually } from '../helpers/wait.js';
import { rejectionOf } from '../helpers/rejection.js';
import { world, binding, open, IFF_UP, IFF_LOWER_UP, ABSENT_IFINDEX } from './context.js';

export function linksContract(): void {
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
}
