// IFF_MULTI_QUEUE: the kernel hashes each flow onto one of the queue fds, so
// several UDP flows (different source ports) must come out over more than
// one queue, each flow on a single queue, and every packet accounted for.

import { expect } from 'chai';
import dgram from 'node:dgram';
import { describeKernel } from '../helpers/netns.js';
import { ipJson } from '../helpers/iproute.js';
import { loadNativeBinding } from '../helpers/native-binding.js';
import { bindUdp } from '../helpers/udp.js';
import { buildIPv4Udp, isUdp, parsePacket } from '../helpers/packets.js';
import { QueueRecorder } from '../helpers/queue-wait.js';
import { eventually } from '../helpers/wait.js';
import type { TunBinding, TunDevice } from '../../src/binding/contract/types.js';

const NAME = 'mq0';
const QUEUES = 4;
const FLOWS = 24;
const PACKETS_PER_FLOW = 5;
const PORT = 7800;

describeKernel('native binding: multi-queue TUN spreads flows over its queues', function () {
  let binding: TunBinding;
  let device: TunDevice;
  const sockets: dgram.Socket[] = [];

  before(async function () {
    binding = await loadNativeBinding();
    device = await binding.open({ name: NAME, queues: QUEUES });
    await binding.addAddress(device.ifindex, '10.214.0.1/24');
    await binding.setUp(device.ifindex, true);
    await binding.addRoute(device.ifindex, { destination: '10.215.0.0/16' });
  });

  after(function () {
    for (const socket of sockets) socket.close();
    device?.close();
  });

  it('opens one fd per queue, and the kernel sees a multi-queue device', function () {
    expect(device.queues.length).to.equal(QUEUES);
    expect(device.queues.map((q) => q.index)).to.deep.equal([0, 1, 2, 3]);
    // `ip -d` shows the tun's flags; multi_queue is what IFF_MULTI_QUEUE looks like there.
    const [detail] = ipJson<Array<{ linkinfo?: { info_kind?: string; info_data?: Record<string, unknown> } }>>('-d', 'link', 'show', 'dev', NAME);
    expect(detail!.linkinfo?.info_kind).to.equal('tun');
    expect(detail!.linkinfo?.info_data?.multi_queue).to.equal(true);
    // The tun driver reports how many queue fds are attached.
    expect(detail!.linkinfo?.info_data?.numqueues).to.equal(QUEUES);
  });

  it(`delivers ${FLOWS} flows × ${PACKETS_PER_FLOW} packets over more than one queue, none lost`, async function () {
    const recorder = new QueueRecorder(device.queues);
    const ports: number[] = [];
    for (let flow = 0; flow < FLOWS; flow++) {
      const socket = await bindUdp('udp4', '10.214.0.1');
      sockets.push(socket);
      ports.push(socket.address().port);
    }
    for (let n = 0; n < PACKETS_PER_FLOW; n++) {
      await Promise.all(sockets.map((socket, flow) => new Promise<void>((resolve, reject) =>
        socket.send(Buffer.from(`flow ${flow} packet ${n}`), PORT, '10.215.0.7', (err) => (err ? reject(err) : resolve())))));
    }
    const total = FLOWS * PACKETS_PER_FLOW;
    const got = await recorder.waitFor(isUdp({ dst: '10.215.0.7', dstPort: PORT }), total, 5000);
    expect(got.length, 'no packet delivered twice').to.equal(total);

    const queuesOfFlow = new Map<number, Set<number>>();
    const payloads = new Set<string>();
    for (const r of got) {
      const packet = parsePacket(r.packet);
      const sport = packet.udp!.srcPort;
      expect(ports, 'source port of one of our sockets').to.include(sport);
      if (!queuesOfFlow.has(sport)) queuesOfFlow.set(sport, new Set());
      queuesOfFlow.get(sport)!.add(r.queueIndex);
      payloads.add(packet.udp!.payload.toString());
    }
    expect(payloads.size, 'every (flow, packet) payload exactly once').to.equal(total);
    expect(queuesOfFlow.size).to.equal(FLOWS);
    for (const [sport, queues] of queuesOfFlow) {
      expect([...queues], `flow from port ${sport} stays on one queue`).to.have.length(1);
    }
    const used = new Set(got.map((r) => r.queueIndex));
    expect(used.size, `queues used: ${[...used].join(',')}`).to.be.greaterThan(1);

    // Each queue counted exactly what it delivered.
    for (const queue of device.queues) {
      const delivered = recorder.received.filter((r) => r.queueIndex === queue.index).length;
      expect(queue.stats().rxPackets, `queue ${queue.index} rxPackets`).to.equal(delivered);
    }
    console.log(`      per-queue packets: ${device.queues.map((q) => q.stats().rxPackets).join(' / ')}`);
  });

  it('takes a write on any queue', async function () {
    const socket = await bindUdp('udp4', '10.214.0.1');
    sockets.push(socket);
    const received: string[] = [];
    socket.on('message', (msg) => received.push(msg.toString()));
    for (const queue of device.queues) {
      const packet = buildIPv4Udp({ src: '10.215.0.9', dst: '10.214.0.1', srcPort: 6000 + queue.index, dstPort: socket.address().port, payload: Buffer.from(`via queue ${queue.index}`) });
      expect(queue.write(packet)).to.equal(true);
    }
    await eventually(() => received.length >= QUEUES, 3000, 10);
    expect(received.sort()).to.deep.equal(device.queues.map((q) => `via queue ${q.index}`).sort());
  });
});
