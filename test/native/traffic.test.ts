// Real packets through a real TUN, both directions, IPv4 and IPv6: the kernel
// routes a socket's datagram into the device and the queue hands us exactly
// that packet; a packet we craft and write comes out of a socket with its
// payload and sender intact. Counters are checked against iproute2's.

import { expect } from 'chai';
import dgram from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describeKernel } from '../helpers/netns.js';
import { ipAddresses, ipJson, ipLink, ipRoutes } from '../helpers/iproute.js';
import { loadNativeBinding } from '../helpers/native-binding.js';
import { bindUdp } from '../helpers/udp.js';
import { buildIPv4Udp, buildIPv6Udp, isUdp, parsePacket } from '../helpers/packets.js';
import { QueueRecorder } from '../helpers/queue-wait.js';
import { eventually, nextEvent, sleep } from '../helpers/wait.js';
import type { PacketQueue, TunBinding, TunDevice } from '../../src/binding/contract/types.js';
import type { NativePacketQueue } from '../../src/binding/native/device.js';

const NAME = 'trf0';

interface IpStats {
  rx: { packets: number; bytes: number; dropped: number };
  tx: { packets: number; bytes: number; dropped: number };
}

function ipStats(name: string): IpStats {
  const [row] = ipJson<Array<{ stats64: IpStats }>>('-s', 'link', 'show', 'dev', name);
  return row!.stats64;
}

function send(socket: dgram.Socket, payload: Buffer, port: number, address: string): Promise<void> {
  return new Promise((resolve, reject) => socket.send(payload, port, address, (err) => (err ? reject(err) : resolve())));
}

/** global.gc without --expose-gc on the command line. */
function collector(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

describeKernel('native binding: real traffic through a TUN', function () {
  let binding: TunBinding;
  let device: TunDevice;
  let queue: PacketQueue;
  let recorder: QueueRecorder;
  const sockets: dgram.Socket[] = [];
  let written = { packets: 0, bytes: 0 };

  before(async function () {
    binding = await loadNativeBinding();
    device = await binding.open({ name: NAME });
    queue = device.queues[0]!;
    const { ifindex } = device;
    await binding.setMtu(ifindex, 1400);
    await binding.addAddress(ifindex, '10.210.0.1/24');
    await binding.addAddress(ifindex, 'fd00:210::1/64');
    // Up before the routes: the kernel refuses a route through a down link (ENETDOWN).
    await binding.setUp(ifindex, true);
    await binding.addRoute(ifindex, { destination: '10.211.0.0/16' });
    await binding.addRoute(ifindex, { destination: 'fd00:211::/64' });
    // A TUN is IFF_NOARP, so the kernel should skip DAD; wait anyway rather than assume.
    const settled = await eventually(() => ipAddresses(NAME).every((a) => !a.tentative), 5000);
    expect(settled, 'fd00:210::1 still tentative after 5 s').to.equal(true);
    recorder = new QueueRecorder(device.queues);
  });

  after(function () {
    for (const socket of sockets) socket.close();
    device?.close();
  });

  it('is configured as asked, by the kernel’s own account', function () {
    const link = ipLink(NAME);
    expect(link, 'ip link show').to.not.equal(undefined);
    expect(link!.ifindex).to.equal(device.ifindex);
    expect(link!.mtu).to.equal(1400);
    expect(link!.flags).to.include('UP');
    const addresses = ipAddresses(NAME).map((a) => `${a.address}/${a.prefixLength}`).sort();
    expect(addresses).to.deep.equal(['10.210.0.1/24', 'fd00:210::1/64']);
    const routes = ipRoutes(NAME).map((r) => r.destination).sort();
    expect(routes).to.include.members(['10.211.0.0/16', 'fd00:211::/64']);
  });

  it('reads exactly the IPv4/UDP packet a socket sent into the routed prefix', async function () {
    const socket = await bindUdp('udp4', '0.0.0.0');
    sockets.push(socket);
    const payload = randomBytes(48);
    const from = recorder.received.length;
    await send(socket, payload, 7777, '10.211.0.5');
    const [got] = await recorder.waitFor(isUdp({ dst: '10.211.0.5', dstPort: 7777 }), 1);
    const packet = parsePacket(got!.packet);
    expect(packet.version).to.equal(4);
    expect(packet.src).to.equal('10.210.0.1');
    expect(packet.dst).to.equal('10.211.0.5');
    expect(packet.headerChecksumValid, 'IPv4 header checksum').to.equal(true);
    expect(packet.udp!.srcPort).to.equal(socket.address().port);
    expect(packet.udp!.dstPort).to.equal(7777);
    expect(packet.udp!.checksumValid, 'UDP checksum').to.equal(true);
    expect(packet.udp!.payload.equals(payload), 'payload').to.equal(true);
    expect(got!.packet.length).to.equal(20 + 8 + payload.length);
    // Nothing but that packet (and the kernel's own IPv6 chatter) came out of the TUN.
    const others = recorder.meaningful().filter((r) => recorder.received.indexOf(r) >= from && r !== got);
    expect(others.map((r) => r.packet.toString('hex'))).to.deep.equal([]);
  });

  it('reads exactly the IPv6/UDP packet a socket sent into the routed prefix', async function () {
    const socket = await bindUdp('udp6', '::');
    sockets.push(socket);
    const payload = randomBytes(77);
    const from = recorder.received.length;
    await send(socket, payload, 7777, 'fd00:211::5');
    const [got] = await recorder.waitFor(isUdp({ dst: 'fd00:211::5', dstPort: 7777 }), 1);
    const packet = parsePacket(got!.packet);
    expect(packet.version).to.equal(6);
    expect(packet.src).to.equal('fd00:210::1');
    expect(packet.dst).to.equal('fd00:211::5');
    expect(packet.udp!.srcPort).to.equal(socket.address().port);
    expect(packet.udp!.checksumValid, 'UDP checksum').to.equal(true);
    expect(packet.udp!.payload.equals(payload), 'payload').to.equal(true);
    expect(got!.packet.length).to.equal(40 + 8 + payload.length);
    const others = recorder.meaningful().filter((r) => recorder.received.indexOf(r) >= from && r !== got);
    expect(others.map((r) => r.packet.toString('hex'))).to.deep.equal([]);
  });

  it('reads a burst of 300 datagrams complete and in order, in batches', async function () {
    const socket = await bindUdp('udp4', '10.210.0.1');
    sockets.push(socket);
    const batchesBefore = recorder.batches.get(0) ?? 0;
    const from = recorder.received.length;
    const BURST = 300;
    // Keep the Buffers exactly as delivered (no copy): a binding that reused its read
    // memory for the next batch would overwrite what a consumer still holds.
    const retained: Buffer[] = [];
    const keep = (packets: Buffer[]): void => void retained.push(...packets);
    queue.on('packets', keep);
    // Queue all sends at once, so the kernel fills the TUN's ring faster than one read per wakeup drains it.
    const sent = Array.from({ length: BURST }, (_, i) => send(socket, Buffer.from(`burst ${i}`), 7778, '10.211.0.6'));
    await Promise.all(sent);
    const got = await recorder.waitFor(isUdp({ dst: '10.211.0.6', dstPort: 7778 }), BURST, 5000);
    expect(got.map((r) => parsePacket(r.packet).udp!.payload.toString()))
      .to.deep.equal(Array.from({ length: BURST }, (_, i) => `burst ${i}`));
    const batches = (recorder.batches.get(0) ?? 0) - batchesBefore;
    const packets = recorder.received.length - from;
    console.log(`      ${packets} packets in ${batches} 'packets' events`);
    expect(batches, 'several packets per JS callback').to.be.below(packets);
    queue.off('packets', keep);
    const retainedPayloads = retained.filter(isUdp({ dst: '10.211.0.6', dstPort: 7778 })).map((b) => parsePacket(b).udp!.payload.toString());
    expect(retainedPayloads, 'packets held past their callback keep their bytes').to.deep.equal(Array.from({ length: BURST }, (_, i) => `burst ${i}`));
  });

  it('large batches handed over as the read slab itself: packets kept across later batches and garbage collections keep their bytes', async function () {
    const socket = await bindUdp('udp4', '10.210.0.1');
    sockets.push(socket);
    const gc = collector();
    const ROUNDS = 4;
    const PER_ROUND = 120;
    const payload = (round: number, i: number) => Buffer.alloc(1300, `round ${round} packet ${i} `);
    const retained: Buffer[] = [];
    let largest = 0;
    const keep = (packets: Buffer[]): void => {
      retained.push(...packets);
      largest = Math.max(largest, packets.reduce((n, p) => n + p.length, 0));
    };
    queue.on('packets', keep);
    try {
      for (let round = 0; round < ROUNDS; round++) {
        // Paused while the datagrams queue up, so each read batch is full (64 x 1328 bytes).
        queue.pause();
        try {
          for (let i = 0; i < PER_ROUND; i++) await send(socket, payload(round, i), 7780, '10.211.0.8');
          await sleep(50);
        } finally {
          queue.resume();
        }
        await recorder.waitFor(isUdp({ dst: '10.211.0.8', dstPort: 7780 }), (round + 1) * PER_ROUND, 5000);
        // Slabs of batches nobody holds go back to the spare list; the held ones must not.
        gc();
        await sleep(10);
      }
    } finally {
      queue.off('packets', keep);
    }
    expect(largest, 'a batch big enough to be handed over (a quarter of the ~210 KiB slab)').to.be.at.least(64 * 1024);
    const kept = retained.filter(isUdp({ dst: '10.211.0.8', dstPort: 7780 })).map((b) => parsePacket(b).udp!.payload);
    expect(kept).to.have.length(ROUNDS * PER_ROUND);
    const wrong = kept.flatMap((p, n) => (p.equals(payload(Math.floor(n / PER_ROUND), n % PER_ROUND)) ? [] : [n]));
    expect(wrong, 'packets whose bytes changed after their callback').to.deep.equal([]);
  });

  it('reuseReadBuffer(true): every batch a view of one reused buffer, right while the listener runs; false again: batches handed over', async function () {
    const socket = await bindUdp('udp4', '10.210.0.1');
    sockets.push(socket);
    const native = queue as NativePacketQueue;
    const payload = (i: number) => Buffer.alloc(1300, `lent ${i} `);
    const seen: string[] = [];
    const buffers = new Set<ArrayBufferLike>();
    const check = (packets: Buffer[]): void => {
      for (const p of packets.filter(isUdp({ dst: '10.211.0.9', dstPort: 7781 }))) {
        buffers.add(p.buffer);
        seen.push(parsePacket(p).udp!.payload.toString().split(' ')[1]!);
      }
    };
    native.reuseReadBuffer(true);
    queue.on('packets', check);
    const from = recorder.received.filter((r) => isUdp({ dst: '10.211.0.9', dstPort: 7781 })(r.packet)).length;
    try {
      for (let round = 0; round < 3; round++) {
        queue.pause();
        try {
          for (let i = 0; i < 100; i++) await send(socket, payload(round * 100 + i), 7781, '10.211.0.9');
          await sleep(50);
        } finally {
          queue.resume();
        }
        await recorder.waitFor(isUdp({ dst: '10.211.0.9', dstPort: 7781 }), from + (round + 1) * 100, 5000);
      }
    } finally {
      queue.off('packets', check);
      native.reuseReadBuffer(false);
    }
    expect(seen, 'every packet right inside its listener').to.deep.equal(Array.from({ length: 300 }, (_, i) => String(i)));
    expect(buffers.size, 'one buffer for every batch').to.equal(1);
    // Back to hand-over: a new batch is not a view of the lent buffer.
    const after: Buffer[] = [];
    const keep = (packets: Buffer[]): void => void after.push(...packets.filter(isUdp({ dst: '10.211.0.9', dstPort: 7781 })));
    queue.on('packets', keep);
    await send(socket, payload(300), 7781, '10.211.0.9');
    await recorder.waitFor(isUdp({ dst: '10.211.0.9', dstPort: 7781 }), from + 301, 5000);
    queue.off('packets', keep);
    expect(after).to.have.length(1);
    expect(buffers.has(after[0]!.buffer), 'its own buffer').to.equal(false);
    expect(() => native.reuseReadBuffer('yes' as unknown as boolean)).to.throw(TypeError);
  });

  it('holds packets in the kernel while paused and delivers them on resume', async function () {
    const socket = await bindUdp('udp4', '10.210.0.1');
    sockets.push(socket);
    queue.pause();
    try {
      const from = recorder.received.length;
      for (let i = 0; i < 10; i++) await send(socket, Buffer.from(`paused ${i}`), 7779, '10.211.0.7');
      await sleep(150);
      expect(recorder.received.length - from, 'nothing delivered while paused').to.equal(0);
    } finally {
      queue.resume();
    }
    const got = await recorder.waitFor(isUdp({ dst: '10.211.0.7', dstPort: 7779 }), 10, 3000);
    expect(got.map((r) => parsePacket(r.packet).udp!.payload.toString())).to.deep.equal(Array.from({ length: 10 }, (_, i) => `paused ${i}`));
  });

  it('delivers a crafted IPv4/UDP packet written to the queue to a socket bound in the namespace', async function () {
    const socket = await bindUdp('udp4', '10.210.0.1');
    sockets.push(socket);
    const payload = randomBytes(33);
    const packet = buildIPv4Udp({ src: '10.211.0.9', dst: '10.210.0.1', srcPort: 5555, dstPort: socket.address().port, payload });
    const message = nextEvent<[Buffer, dgram.RemoteInfo]>(socket, 'message', 3000);
    expect(queue.write(packet), 'write() should not need backpressure for one packet').to.equal(true);
    written = { packets: written.packets + 1, bytes: written.bytes + packet.length };
    const [data, rinfo] = await message;
    expect(data.equals(payload), 'payload').to.equal(true);
    expect(rinfo.address).to.equal('10.211.0.9');
    expect(rinfo.port).to.equal(5555);
    expect(rinfo.family).to.equal('IPv4');
  });

  it('delivers a crafted IPv6/UDP packet written to the queue to a socket bound in the namespace', async function () {
    const socket = await bindUdp('udp6', 'fd00:210::1');
    sockets.push(socket);
    const payload = randomBytes(61);
    const packet = buildIPv6Udp({ src: 'fd00:211::9', dst: 'fd00:210::1', srcPort: 5556, dstPort: socket.address().port, payload });
    const message = nextEvent<[Buffer, dgram.RemoteInfo]>(socket, 'message', 3000);
    expect(queue.write(packet)).to.equal(true);
    written = { packets: written.packets + 1, bytes: written.bytes + packet.length };
    const [data, rinfo] = await message;
    expect(data.equals(payload), 'payload').to.equal(true);
    expect(rinfo.address).to.equal('fd00:211::9');
    expect(rinfo.port).to.equal(5556);
  });

  it('delivers a burst of 200 written packets to a socket, complete and in order', async function () {
    const socket = await bindUdp('udp4', '10.210.0.1');
    sockets.push(socket);
    const BURST = 200;
    const payloads: string[] = [];
    socket.on('message', (msg) => payloads.push(msg.toString()));
    for (let i = 0; i < BURST; i++) {
      const packet = buildIPv4Udp({ src: '10.211.0.10', dst: '10.210.0.1', srcPort: 5557, dstPort: socket.address().port, payload: Buffer.from(`w${i}`) });
      // A TUN write never blocks (the kernel drops instead), so backpressure should not appear.
      expect(queue.write(packet), `write ${i}`).to.equal(true);
      written = { packets: written.packets + 1, bytes: written.bytes + packet.length };
    }
    const all = await eventually(() => payloads.length >= BURST, 3000);
    expect(all, `received ${payloads.length} of ${BURST}`).to.equal(true);
    expect(payloads).to.deep.equal(Array.from({ length: BURST }, (_, i) => `w${i}`));
  });

  it('counts what moved, and the kernel’s counters agree with iproute2’s', async function () {
    expect(written.packets, 'the write tests ran first').to.equal(202);
    const stats = queue.stats();
    const readBytes = recorder.received.reduce((sum, r) => sum + r.packet.length, 0);
    expect(stats.rxPackets, 'queue rxPackets = packets delivered to JS').to.equal(recorder.received.length);
    expect(stats.rxBytes).to.equal(readBytes);
    expect(stats.txPackets).to.equal(written.packets);
    expect(stats.txBytes).to.equal(written.bytes);
    expect(stats.txErrors).to.equal(0);
    expect(stats.pendingWrites).to.equal(0);

    // The kernel receives from the TUN only what we wrote: exact.
    const link = await binding.getLink(device.ifindex);
    expect(typeof link.stats.rxPackets).to.equal('bigint');
    expect(link.stats.rxPackets).to.equal(BigInt(written.packets));
    expect(link.stats.rxBytes).to.equal(BigInt(written.bytes));
    const ipNow = ipStats(NAME);
    expect(ipNow.rx.packets).to.equal(written.packets);
    expect(ipNow.rx.bytes).to.equal(written.bytes);

    // The kernel transmits into the TUN on its own too (router solicitations, MLD), so
    // its tx counter can move between two readings: bracket ours between two of iproute2's,
    // then wait until every packet it transmitted has been read by the queue.
    const before = ipStats(NAME).tx.packets;
    const ours = (await binding.getLink(device.ifindex)).stats.txPackets;
    const after = ipStats(NAME).tx.packets;
    expect(Number(ours)).to.be.within(before, after);
    expect(Number(ours)).to.be.at.least(2);
    const caughtUp = await eventually(() => ipStats(NAME).tx.packets === queue.stats().rxPackets, 3000);
    expect(caughtUp, `kernel tx ${ipStats(NAME).tx.packets} vs queue rx ${queue.stats().rxPackets}`).to.equal(true);
    expect(ipStats(NAME).tx.dropped).to.equal(0);
  });
});

describeKernel('native binding: closing a queue while packets are flowing', function () {
  it('emits close once, delivers nothing after it, and the interface vanishes', async function () {
    const binding = await loadNativeBinding();
    const fdsBefore = binding.openFdCount();
    const device = await binding.open({ name: 'trf1' });
    const queue = device.queues[0]!;
    await binding.addAddress(device.ifindex, '10.234.0.1/24');
    await binding.setUp(device.ifindex, true);
    await binding.addRoute(device.ifindex, { destination: '10.235.0.0/16' });
    const socket = await bindUdp('udp4', '10.234.0.1');
    socket.on('error', () => {}); // sends fail once the interface is gone: expected
    let closes = 0;
    let afterClose = 0;
    let delivered = 0;
    queue.on('close', () => closes++);
    queue.on('packets', (packets: Buffer[]) => {
      if (queue.closed) afterClose += packets.length;
      delivered += packets.length;
    });
    const blast = setInterval(() => {
      for (let i = 0; i < 50; i++) socket.send(Buffer.from('x'), 9, '10.235.0.1', () => {});
    }, 1);
    try {
      await eventually(() => delivered >= 200, 3000, 2);
      expect(delivered, 'traffic was flowing when the queue closed').to.be.at.least(200);
      device.close();
      device.close(); // idempotent
      queue.close();
      expect(queue.closed).to.equal(true);
      expect(device.closed).to.equal(true);
      await sleep(100);
    } finally {
      clearInterval(blast);
      socket.close();
    }
    expect(closes, "'close' events").to.equal(1);
    expect(afterClose, 'packets delivered after close').to.equal(0);
    expect(ipLink('trf1')).to.equal(undefined);
    expect(binding.openFdCount()).to.equal(fdsBefore);
    expect(() => queue.write(buildIPv4Udp({ src: '10.235.0.1', dst: '10.234.0.1', srcPort: 1, dstPort: 9, payload: Buffer.alloc(1) })))
      .to.throw().with.property('code', 'EBADF');
  });
});
