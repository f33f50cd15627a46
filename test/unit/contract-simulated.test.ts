// The shared contract against the simulated binding, then what only the
// simulation offers: the world controls tests drive it with, and the kernel
// behaviours it reproduces that the contract does not reach (each measured
// on a real TUN; see src/binding/simulated/kernel.ts).

import { expect } from 'chai';
import { SimulatedBinding, TunSystemError, type LinkEvent } from '../../src/testing.js';
import { bindingContract } from '../contract/binding-contract.js';
import { simulatedHarness } from '../contract/simulated-world.js';
import { buildIPv4Udp, parsePacket } from '../helpers/packets.js';
import { eventually, nextTurn } from '../helpers/wait.js';

bindingContract('simulated', simulatedHarness());

const udp = (n: number) => buildIPv4Udp({ src: '10.0.0.2', dst: '10.0.0.1', srcPort: 1000 + n, dstPort: 53, payload: Buffer.from(`p${n}`) });

describe('SimulatedBinding beyond the contract', () => {
  let binding: SimulatedBinding;
  beforeEach(() => {
    binding = new SimulatedBinding();
  });

  it('world.inject reaches readers in order and in batches; tx counters count reads, like the kernel', async () => {
    const device = await binding.open();
    await binding.setUp(device.ifindex, true);
    for (let i = 0; i < 150; i++) expect(binding.world.inject(device.name, udp(i))).to.equal(true);
    expect(binding.world.link(device.name)!.stats.txPackets, 'not read yet').to.equal(0n);
    const batches: Buffer[][] = [];
    device.queues[0]!.on('packets', (batch: Buffer[]) => batches.push(batch));
    expect(await eventually(() => batches.flat().length === 150)).to.equal(true);
    expect(batches.length, 'more than one batch for 150 packets').to.be.above(1);
    expect(Math.max(...batches.map((b) => b.length))).to.be.at.most(64);
    expect(batches.flat().map((p) => parsePacket(p).udp!.srcPort)).to.deep.equal([...Array(150).keys()].map((i) => 1000 + i));
    expect(binding.world.link(device.name)!.stats.txPackets).to.equal(150n);
    device.close();
  });

  it('a full ring drops and counts txDropped; pause() stops delivery until resume()', async () => {
    const device = await binding.open();
    await binding.setUp(device.ifindex, true);
    binding.world.setRingLimit(device.name, 10);
    const results = Array.from({ length: 15 }, (_, i) => binding.world.inject(device.name, udp(i)));
    expect(results.filter(Boolean)).to.have.length(10);
    expect(binding.world.link(device.name)!.stats.txDropped).to.equal(5n);
    const queue = device.queues[0]!;
    const got: Buffer[] = [];
    queue.on('packets', (batch: Buffer[]) => got.push(...batch));
    queue.pause();
    for (let i = 0; i < 5; i++) await nextTurn();
    expect(got).to.have.length(0);
    queue.resume();
    expect(await eventually(() => got.length === 10)).to.equal(true);
    device.close();
  });

  it('inject picks a queue by flow: one flow stays on one queue; several flows spread', async () => {
    const device = await binding.open({ queues: 4 });
    await binding.setUp(device.ifindex, true);
    const perQueue = device.queues.map(() => [] as number[]);
    device.queues.forEach((q, i) => q.on('packets', (batch: Buffer[]) => perQueue[i]!.push(...batch.map((p) => parsePacket(p).udp!.srcPort))));
    for (let flow = 0; flow < 32; flow++) for (let k = 0; k < 3; k++) binding.world.inject(device.name, udp(flow));
    expect(await eventually(() => perQueue.flat().length === 96)).to.equal(true);
    for (let flow = 0; flow < 32; flow++) {
      expect(perQueue.filter((ports) => ports.includes(1000 + flow)), `flow ${flow}`).to.have.length(1);
    }
    expect(perQueue.filter((ports) => ports.length > 0).length).to.be.above(1);
    expect(binding.world.inject(device.name, udp(0), 2)).to.equal(true);
    expect(() => binding.world.inject(device.name, udp(0), 9)).to.throw(RangeError);
    device.close();
  });

  it('world.transmitted shows what the app wrote; writing into a down TUN is EIO counted in rxDropped', async () => {
    const device = await binding.open();
    const queue = device.queues[0]!;
    expect(() => queue.write(udp(1))).to.throw(TunSystemError, /EIO/);
    expect(binding.world.link(device.name)!.stats.rxDropped).to.equal(1n);
    expect(queue.stats().txErrors).to.equal(1);
    await binding.setUp(device.ifindex, true);
    queue.write(udp(2));
    queue.write(udp(3));
    expect(binding.world.transmitted(device.name, { clear: true }).map((p) => parsePacket(p).udp!.srcPort)).to.deep.equal([1002, 1003]);
    expect(binding.world.transmitted(device.name)).to.deep.equal([]);
    device.close();
  });

  it('blockWrites gives backpressure: write() returns false, then drain once unblocked', async () => {
    const device = await binding.open();
    await binding.setUp(device.ifindex, true);
    const queue = device.queues[0]!;
    binding.world.blockWrites(device.name, true);
    expect(queue.write(udp(1))).to.equal(false);
    expect(queue.write(udp(2))).to.equal(false);
    expect(queue.stats().pendingWrites).to.equal(2);
    expect(binding.world.transmitted(device.name)).to.have.length(0);
    let drains = 0;
    queue.on('drain', () => { drains += 1; });
    binding.world.blockWrites(device.name, false);
    expect(await eventually(() => drains === 1)).to.equal(true);
    expect(binding.world.transmitted(device.name)).to.have.length(2);
    expect(queue.stats()).to.include({ pendingWrites: 0, txPackets: 2 });
    device.close();
  });

  it('operstate and carrier follow the kernel: unknown when a fresh TUN is up, down without fds, up once re-attached', async () => {
    const device = await binding.open({ persist: true });
    await binding.setUp(device.ifindex, true);
    expect((await binding.getLink(device.ifindex)).operstate).to.equal('unknown');
    device.close();
    let info = await binding.getLink(device.ifindex);
    expect(info).to.include({ up: true, carrier: false, operstate: 'down' });
    const again = await binding.open({ name: device.name, attachExisting: true });
    info = await binding.getLink(device.ifindex);
    expect(info).to.include({ up: true, carrier: true, operstate: 'up' });
    again.close();
    await binding.deleteLink(device.ifindex);
  });

  it('link-up adds an fe80:: link-local; link-down drops every IPv6 address and keeps IPv4', async () => {
    const device = await binding.open();
    await binding.addAddress(device.ifindex, '10.1.0.1/24');
    await binding.addAddress(device.ifindex, 'fd00::1/64');
    await binding.setUp(device.ifindex, true);
    const up = await binding.listAddresses(device.ifindex);
    expect(up.filter((a) => a.address.startsWith('fe80:'))).to.have.length(1);
    expect(up.map((a) => a.cidr)).to.include.members(['10.1.0.1/24', 'fd00::1/64']);
    await binding.setUp(device.ifindex, false);
    expect((await binding.listAddresses(device.ifindex)).map((a) => a.cidr)).to.deep.equal(['10.1.0.1/24']);
    device.close();
  });

  it('MTU below 1280 drops IPv6 and refuses new IPv6 addresses with EINVAL', async () => {
    const device = await binding.open();
    await binding.setUp(device.ifindex, true);
    await binding.addAddress(device.ifindex, 'fd00::1/64');
    await binding.setMtu(device.ifindex, 1200);
    expect(await binding.listAddresses(device.ifindex)).to.deep.equal([]);
    await binding.addAddress(device.ifindex, 'fd00::1/64').then(
      () => expect.fail('accepted IPv6 on a 1200-byte link'),
      (err: TunSystemError) => expect(err.code).to.equal('EINVAL'),
    );
    device.close();
  });

  it('a route colliding with the kernel prefix route of an address is EEXIST, like NLM_F_EXCL', async () => {
    const device = await binding.open();
    await binding.setUp(device.ifindex, true);
    await binding.addAddress(device.ifindex, '10.2.0.1/24');
    expect(binding.world.link(device.name)!.kernelRoutes).to.deep.include({ family: 4, destination: '10.2.0.0/24', metric: 0 });
    await binding.addRoute(device.ifindex, { destination: '10.2.0.0/24' }).then(
      () => expect.fail('added a duplicate of the prefix route'),
      (err: TunSystemError) => expect(err.code).to.equal('EEXIST'),
    );
    await binding.addRoute(device.ifindex, { destination: '10.2.0.0/24', metric: 10 });
    expect(await binding.listRoutes(device.ifindex)).to.deep.equal([{ family: 4, destination: '10.2.0.0/24', metric: 10 }]);
    device.close();
  });

  it('deleting a route with metric 0 takes the lowest-metric match, as the kernel does', async () => {
    const device = await binding.open();
    await binding.setUp(device.ifindex, true);
    await binding.addRoute(device.ifindex, { destination: '10.3.0.0/16', metric: 9 });
    await binding.addRoute(device.ifindex, { destination: '10.3.0.0/16', metric: 4 });
    await binding.deleteRoute(device.ifindex, { destination: '10.3.0.0/16' });
    expect(await binding.listRoutes(device.ifindex)).to.deep.equal([{ family: 4, destination: '10.3.0.0/16', metric: 9 }]);
    device.close();
  });

  it('events arrive asynchronously and in kernel order when a link is deleted', async () => {
    const device = await binding.open();
    await binding.setUp(device.ifindex, true);
    await binding.addAddress(device.ifindex, '10.4.0.1/24');
    const events: LinkEvent[] = [];
    binding.monitor(device.ifindex, (e) => events.push(e));
    device.queues[0]!.on('error', () => {});
    binding.world.deleteLink(device.name);
    expect(events, 'nothing delivered synchronously').to.deep.equal([]);
    await nextTurn();
    const types = events.map((e) => e.type);
    expect(types[0]).to.equal('admin');
    expect(types.at(-1)).to.equal('deleted');
    expect(types).to.include('address-removed');
  });

  it('two bindings on one kernel see each other like two processes in one namespace', async () => {
    const other = new SimulatedBinding({ kernel: binding.kernel });
    const device = await binding.open({ name: 'shared0' });
    expect((await other.getLink('shared0')).ifindex).to.equal(device.ifindex);
    expect(other.openFdCount(), 'fds are counted per binding').to.equal(0);
    expect(binding.world.openFds()).to.deep.equal([{ ifindex: device.ifindex, name: 'shared0', queueIndex: 0 }]);
    await other.open({ name: 'shared0' }).then(
      () => expect.fail('opened a name that exists'),
      (err: TunSystemError) => expect(err.code).to.equal('EEXIST'),
    );
    device.close();
    expect(binding.world.openFds()).to.deep.equal([]);
  });

  it('world controls fail like ip does: ENODEV for an absent link, EOPNOTSUPP deleting lo', () => {
    expect(() => binding.world.setUp('nope0', true)).to.throw(TunSystemError, /ENODEV/);
    expect(() => binding.world.deleteLink('lo')).to.throw(TunSystemError, /EOPNOTSUPP/);
    expect(binding.world.links().map((l) => l.name)).to.deep.equal(['lo']);
  });
});
