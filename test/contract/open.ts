// Devices: open() and its options (names, persistence, attach, queues), and what close() lets go.

import { expect } from 'chai';
import { eventually } from '../helpers/wait.js';
import { rejectionOf } from '../helpers/rejection.js';
import { world, binding, devices, names, open, freshName } from './context.js';

export function openContract(): void {
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
}
