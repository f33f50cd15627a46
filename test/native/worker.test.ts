// The addon in worker_threads: a worker opens and configures a TUN, moves
// packets both ways, then leaves without closing anything (process.exit, an
// uncaught exception, or terminate() in the middle of traffic). The addon's
// environment cleanup hook must close what the worker left: afterwards the
// interface is gone, /proc/self/fd is back to its baseline, and the main
// thread — which uses the addon too — is alive and still working.

import { expect } from 'chai';
import dgram from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { describeKernel } from '../helpers/netns.js';
import { ipAddresses, ipLink } from '../helpers/iproute.js';
import { openFdCount } from '../helpers/fds.js';
import { loadNativeBinding } from '../helpers/native-binding.js';
import { bindUdp } from '../helpers/udp.js';
import { buildIPv4Udp, parsePacket } from '../helpers/packets.js';
import { eventually, nextEvent } from '../helpers/wait.js';
import type { TunBinding } from '../../src/binding/contract/types.js';
import type { FromWorker, ToWorker, TunWorkerData } from '../fixtures/tun-worker.js';

const WORKER = new URL('../fixtures/tun-worker.js', import.meta.url);

class WorkerHandle {
  readonly worker: Worker;
  readonly messages: FromWorker[] = [];
  readonly exited: Promise<number>;
  readonly errors: Error[] = [];

  constructor(data: TunWorkerData) {
    this.worker = new Worker(WORKER, { workerData: data });
    this.worker.on('message', (m: FromWorker) => this.messages.push(m));
    this.worker.on('error', (err) => this.errors.push(err));
    this.exited = new Promise((resolve) => this.worker.once('exit', resolve));
  }

  send(message: ToWorker): void {
    this.worker.postMessage(message);
  }

  async waitFor<T extends FromWorker['type']>(type: T, timeoutMs = 5000): Promise<Extract<FromWorker, { type: T }>> {
    const found = await eventually(() => this.messages.some((m) => m.type === type || m.type === 'failed'), timeoutMs, 5);
    const failed = this.messages.find((m) => m.type === 'failed');
    if (failed) throw new Error(`worker failed: ${(failed as { message: string }).message}`);
    expect(found, `no '${type}' from the worker within ${timeoutMs} ms`).to.equal(true);
    return this.messages.find((m) => m.type === type) as Extract<FromWorker, { type: T }>;
  }
}

describeKernel('native binding in worker_threads', function () {
  this.timeout(30_000);
  let binding: TunBinding;
  let baselineFds: number;

  before(async function () {
    // The main thread holds the addon too, so its cleanup must only take the worker's things.
    binding = await loadNativeBinding();
    // Whatever the main thread's binding opens once and keeps belongs in the baseline.
    (await binding.open({ name: 'wkmain' })).close();
    // Warm-up: a first worker that only loads the addon, so any one-time cost of
    // starting worker threads is in the baseline rather than counted as a leak.
    const warm = new WorkerHandle({ name: '', address: '', route: '', echo: false, loadOnly: true });
    await warm.waitFor('ready');
    warm.send({ type: 'exit', code: 0 });
    expect(await warm.exited).to.equal(0);
    await new Promise((r) => setTimeout(r, 100));
    baselineFds = openFdCount();
  });

  async function expectCleanedUp(name: string): Promise<void> {
    const gone = await eventually(() => ipLink(name) === undefined, 5000);
    expect(gone, `interface ${name} still exists after its worker left`).to.equal(true);
    const fdsBack = await eventually(() => openFdCount() === baselineFds, 5000);
    expect(fdsBack, `/proc/self/fd has ${openFdCount()} entries, baseline ${baselineFds}`).to.equal(true);
    // Alive, and the addon still works on the main thread.
    const device = await binding.open({ name: 'wkmain' });
    expect(ipLink('wkmain')?.ifindex).to.equal(device.ifindex);
    device.close();
    expect(ipLink('wkmain')).to.equal(undefined);
  }

  it('moves packets both ways in a worker that then calls process.exit() without closing', async function () {
    const handle = new WorkerHandle({ name: 'wk0', address: '10.226.0.1/24', route: '10.227.0.0/16', echo: false });
    const ready = await handle.waitFor('ready');
    expect(ready.name).to.equal('wk0');
    expect(ipLink('wk0')?.ifindex, 'the kernel sees the worker’s device').to.equal(ready.ifindex);
    expect(ipAddresses('wk0').map((a) => `${a.address}/${a.prefixLength}`)).to.include('10.226.0.1/24');

    // Into the TUN: a main-thread socket sends, the worker reads.
    const sender = await bindUdp('udp4', '0.0.0.0');
    const payload = randomBytes(40);
    sender.send(payload, 7777, '10.227.0.5');
    const { bytes } = await handle.waitFor('packet');
    const packet = parsePacket(Buffer.from(bytes));
    expect(packet).to.include({ version: 4, src: '10.226.0.1', dst: '10.227.0.5' });
    expect(packet.udp!.dstPort).to.equal(7777);
    expect(packet.udp!.payload.equals(payload)).to.equal(true);

    // Out of the TUN: the worker writes a crafted packet, a main-thread socket receives it.
    const receiver = await bindUdp('udp4', '10.226.0.1');
    const reply = randomBytes(24);
    const message = nextEvent<[Buffer, dgram.RemoteInfo]>(receiver, 'message', 3000);
    handle.send({ type: 'write', packet: buildIPv4Udp({ src: '10.227.0.9', dst: '10.226.0.1', srcPort: 4444, dstPort: receiver.address().port, payload: reply }) });
    expect((await handle.waitFor('written')).accepted).to.equal(true);
    const [data, rinfo] = await message;
    expect(data.equals(reply)).to.equal(true);
    expect(rinfo).to.include({ address: '10.227.0.9', port: 4444 });
    sender.close();
    receiver.close();

    handle.send({ type: 'exit', code: 0 });
    expect(await handle.exited).to.equal(0);
    expect(handle.errors).to.deep.equal([]);
    await expectCleanedUp('wk0');
  });

  it('cleans up after a worker that dies of an uncaught exception with its device open', async function () {
    const handle = new WorkerHandle({ name: 'wk1', address: '10.228.0.1/24', route: '10.229.0.0/16', echo: false });
    await handle.waitFor('ready');
    expect(ipLink('wk1')).to.not.equal(undefined);
    handle.send({ type: 'throw' });
    expect(await handle.exited).to.equal(1);
    expect(handle.errors.map((e) => e.message)).to.deep.equal(['worker leaves by an uncaught exception, handles open']);
    await expectCleanedUp('wk1');
  });

  it('cleans up after a worker that exits with netlink requests and writes in flight', async function () {
    const handle = new WorkerHandle({ name: 'wk3', address: '10.232.0.1/24', route: '10.233.0.0/16', echo: false });
    await handle.waitFor('ready');
    handle.send({ type: 'exit-busy' });
    expect(await handle.exited).to.equal(0);
    expect(handle.errors).to.deep.equal([]);
    await expectCleanedUp('wk3');
  });

  it('leaves no device behind when the worker exits while open() is still in flight', async function () {
    // 0 ms: before the request leaves; 1–3 ms: around the moment the ioctl runs on the threadpool.
    for (let i = 0; i < 12; i++) {
      const handle = new WorkerHandle({ name: 'wk4', address: '', route: '', echo: false, exitDuringOpen: i % 4 });
      expect(await handle.exited).to.equal(0);
      expect(handle.errors).to.deep.equal([]);
      await expectCleanedUp('wk4');
    }
  });

  it('survives worker.terminate() in the middle of two-way traffic', async function () {
    const handle = new WorkerHandle({ name: 'wk2', address: '10.230.0.1/24', route: '10.231.0.0/16', echo: true });
    await handle.waitFor('ready');
    const socket = await bindUdp('udp4', '10.230.0.1');
    let echoes = 0;
    let sent = 0;
    socket.on('message', () => echoes++);
    socket.on('error', () => {}); // sends fail once the device (and its route) vanish: expected
    const blast = setInterval(() => {
      for (let i = 0; i < 20; i++) {
        sent++;
        socket.send(Buffer.from(`packet ${sent}`), 7777, '10.231.0.5', () => {});
      }
    }, 1);
    try {
      const flowing = await eventually(() => echoes >= 50, 5000, 5);
      expect(flowing, `echoes ${echoes} of ${sent} sent`).to.equal(true);
      // Terminate while packets are still flowing in both directions.
      const code = await handle.worker.terminate();
      expect(code).to.equal(1);
      await new Promise((r) => setTimeout(r, 100));
    } finally {
      clearInterval(blast);
      socket.close();
    }
    console.log(`      terminated after ${sent} sent, ${echoes} echoed back`);
    expect(handle.errors).to.deep.equal([]);
    await expectCleanedUp('wk2');
  });
});
