// Queues owned by worker_threads: the main thread opens a multi-queue TUN and
// keeps its lifecycle; each queue is handed (queue.handOff()) to a Worker that
// attaches to it (attachQueue) and echoes UDP with the batched API. Several
// flows (the kernel spreads them over the queues by flow hash) go out through
// the TUN and their echoes come back. Then: a worker terminated mid-traffic
// (the environment cleanup hook closes its queue), the interface deleted while
// workers hold queues (each worker sees its queue end), and nothing leaked.

import { expect } from 'chai';
import type dgram from 'node:dgram';
import { Worker } from 'node:worker_threads';
import { describeKernel } from '../helpers/netns.js';
import { ipLink } from '../helpers/iproute.js';
import { openFdCount, tunFdCount } from '../helpers/fds.js';
import { loadNativeBinding } from '../helpers/native-binding.js';
import { bindUdp } from '../helpers/udp.js';
import { eventually } from '../helpers/wait.js';
import type { TunBinding, TunDevice } from '../../src/binding/contract/types.js';
import { reclaimQueue, type QueueHandle } from '../../src/binding/native/worker-queue.js';
import type { NativePacketQueue } from '../../src/binding/native/device.js';
import { TunAdapter } from '../../src/adapter/index.js';

const WORKER = new URL('../fixtures/queue-worker.js', import.meta.url);
const TUN = '10.220.0.1';
const PEER = '10.221.0.9';
const FLOWS = 16;

interface Message { type: string; n?: number; index?: number; error?: string }

class QueueWorker {
  readonly worker: Worker;
  readonly messages: Message[] = [];
  readonly exited: Promise<number>;
  readonly errors: Error[] = [];
  constructor(readonly handle: QueueHandle, queue?: NativePacketQueue) {
    this.worker = new Worker(WORKER, { workerData: { handle } });
    this.worker.on('message', (m: Message) => this.messages.push(m));
    this.worker.on('error', (e) => this.errors.push(e));
    this.exited = new Promise((resolve) => this.worker.once('exit', resolve));
    // A handle the worker never attached would otherwise leak its fd.
    void this.exited.then(() => { reclaimQueue(handle); queue?.released(); });
  }
  echoed(): number {
    return this.messages.filter((m) => m.type === 'echoed').reduce((sum, m) => sum + m.n!, 0);
  }
  has(type: string): boolean {
    return this.messages.some((m) => m.type === type);
  }
}

async function openWithWorkers(binding: TunBinding, name: string, queues: number): Promise<{ device: TunDevice; workers: QueueWorker[] }> {
  const device = await binding.open({ name, queues, configure: { addresses: [`${TUN}/24`], routes: [{ destination: '10.221.0.0/16' }], up: true } });
  const workers = device.queues.map((q) => new QueueWorker((q as NativePacketQueue).handOff(), q as NativePacketQueue));
  expect(await eventually(() => workers.every((w) => w.has('attached')), 5000), 'workers attached').to.equal(true);
  return { device, workers };
}

/** FLOWS sockets (one flow each) send `rounds` datagrams; resolves with the echoes each received. */
async function traffic(rounds: number): Promise<{ sockets: dgram.Socket[]; echoes: number[] }> {
  const sockets = await Promise.all(Array.from({ length: FLOWS }, () => bindUdp('udp4', TUN)));
  const echoes = sockets.map(() => 0);
  sockets.forEach((s, i) => s.on('message', () => { echoes[i]! += 1; }));
  for (let r = 0; r < rounds; r++) {
    for (const [i, s] of sockets.entries()) s.send(Buffer.from(`flow ${i} round ${r}`), 7000 + i, PEER);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return { sockets, echoes };
}

describeKernel('worker-owned queues: each queue read and written by its own worker_threads Worker', function () {
  this.timeout(30_000);
  let binding: TunBinding;
  let fdsBefore: number;
  // Idle pooled netlink sockets are the binding's own account, not a leak.
  const fdsOutsideBinding = () => openFdCount() - binding.openFdCount();

  before(async function () {
    binding = await loadNativeBinding();
    fdsBefore = fdsOutsideBinding();
  });

  afterEach(function () {
    expect(ipLink('wkq0'), 'interface left').to.equal(undefined);
  });

  for (const queues of [2, 4]) {
    it(`${queues} workers, one queue each, echo several flows; cleanup while they hold the queues ends each worker's queue`, async function () {
      const { device, workers } = await openWithWorkers(binding, 'wkq0', queues);
      const { sockets, echoes } = await traffic(5);
      expect(await eventually(() => echoes.every((n) => n === 5), 5000), `echoes per flow: ${echoes}`).to.equal(true);
      const busy = workers.filter((w) => w.echoed() > 0).length;
      expect(busy, 'workers that moved packets').to.be.greaterThan(1);
      expect(workers.reduce((sum, w) => sum + w.echoed(), 0)).to.equal(FLOWS * 5);
      for (const s of sockets) s.close();
      // The owner's cleanup: its side is already closed; deleting the link ends the workers' queues.
      device.close();
      await binding.deleteLink(device.ifindex);
      expect(await eventually(() => workers.every((w) => w.has('ended')), 5000), 'every worker saw its queue end').to.equal(true);
      expect(workers.every((w) => w.errors.length === 0), 'no worker crashed').to.equal(true);
      await Promise.all(workers.map((w) => w.worker.terminate()));
      expect(tunFdCount()).to.equal(0);
      expect(fdsOutsideBinding()).to.equal(fdsBefore);
    });
  }

  it('a worker terminated mid-traffic: its queue is closed by the environment hook, the others keep echoing', async function () {
    const { device, workers } = await openWithWorkers(binding, 'wkq0', 2);
    const first = traffic(40);
    await new Promise((resolve) => setTimeout(resolve, 60));
    const victim = workers[0]!;
    await victim.worker.terminate();
    const { sockets } = await first;
    expect(tunFdCount(), 'the terminated worker\'s queue fd closed').to.equal(1);
    // The surviving worker still answers the flows that hash to its queue.
    const before = workers[1]!.echoed();
    const again = await traffic(3);
    expect(await eventually(() => workers[1]!.echoed() > before, 3000), 'the other worker still echoes').to.equal(true);
    for (const s of [...sockets, ...again.sockets]) s.close();
    device.close();
    await binding.deleteLink(device.ifindex).catch(() => undefined);
    await workers[1]!.worker.terminate();
    expect(tunFdCount()).to.equal(0);
    expect(fdsOutsideBinding()).to.equal(fdsBefore);
  });

  it('an adapter runs its queues in workers: one worker terminated is no fault, cleanup ends the others, nothing left', async function () {
    const adapter = new TunAdapter('wkq0', { binding, queues: 2, addresses: [`${TUN}/24`], routes: ['10.221.0.0/16'] });
    await adapter.start();
    const workers: QueueWorker[] = [];
    for (const index of [0, 1]) {
      await adapter.runQueueInWorker(index, (handle) => {
        const w = new QueueWorker(handle);
        workers.push(w);
        return w.worker;
      });
    }
    expect(await eventually(() => workers.every((w) => w.has('attached')), 5000)).to.equal(true);
    const { sockets, echoes } = await traffic(5);
    expect(await eventually(() => echoes.every((n) => n === 5), 5000), `echoes per flow: ${echoes}`).to.equal(true);
    await workers[0]!.worker.terminate();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(adapter.state, 'one queue gone is counted, not a fault').to.equal('ready');
    expect(tunFdCount()).to.equal(1);
    await adapter.cleanup();
    expect(adapter.state).to.equal('stopped');
    expect(await eventually(() => workers[1]!.has('ended'), 5000), 'the other worker saw its queue end').to.equal(true);
    expect(workers[1]!.errors).to.deep.equal([]);
    await workers[1]!.worker.terminate();
    for (const s of sockets) s.close();
    expect(tunFdCount()).to.equal(0);
    expect(fdsOutsideBinding()).to.equal(fdsBefore);
  });

  it('a handle no worker attached is reclaimed (once) by the owner, closing its fd', async function () {
    const device = await binding.open({ name: 'wkq0', queues: 2 });
    const handle = (device.queues[0] as NativePacketQueue).handOff();
    expect(tunFdCount()).to.equal(2);
    expect(reclaimQueue(handle)).to.equal(true);
    expect(reclaimQueue(handle)).to.equal(false);
    expect(tunFdCount()).to.equal(1);
    device.close();
    expect(await eventually(() => ipLink('wkq0') === undefined, 3000)).to.equal(true);
    expect(fdsOutsideBinding()).to.equal(fdsBefore);
  });
});
