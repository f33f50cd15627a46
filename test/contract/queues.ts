// Packet queues: writes both sides count, reads starting on a listener, EIO on a down link, MTU, close.

import { expect } from 'chai';
import type { PacketQueue } from '../../src/binding/contract/types.js';
import { TunSystemError } from '../../src/binding/contract/system-error.js';
import { isKernelNoise, isUdp, parsePacket, buildIPv4Udp, buildIPv6Udp } from '../helpers/packets.js';
import { eventually } from '../helpers/wait.js';
import { label, world, binding, open } from './context.js';

export function queuesContract(): void {
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
}
