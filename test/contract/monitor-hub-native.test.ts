// The native link monitors share one netlink socket per environment (see
// native/monitor.h): what that promises beyond the contract — one fd however
// many monitors are open, none once all are closed, events routed to the
// watches of their own interface only, and a worker that exits with monitors
// open neither leaks nor crashes.

import { expect } from 'chai';
import { Worker } from 'node:worker_threads';
import { describeKernel } from '../helpers/netns.js';
import { ip } from '../helpers/iproute.js';
import { loadNativeBinding } from '../helpers/native-binding.js';
import { eventually } from '../helpers/queue-wait.js';
import type { LinkEvent, LinkMonitor, TunBinding, TunDevice } from '../../src/binding/contract/types.js';

describeKernel('native binding: link monitors share one socket', function () {
  let binding: TunBinding;
  const devices: TunDevice[] = [];
  const monitors: LinkMonitor[] = [];

  before(async function () {
    binding = await loadNativeBinding();
  });

  afterEach(function () {
    for (const monitor of monitors.splice(0)) monitor.close();
    for (const device of devices.splice(0)) device.close();
  });

  it('100 monitors on 50 interfaces hold one fd between them; each hears only its own interface', async function () {
    this.timeout(30_000);
    for (let i = 0; i < 50; i++) devices.push(await binding.open({ name: `mh${process.pid % 1000}x${i}` }));
    // Settle the pool of request sockets first, so the count below is about monitors only.
    await Promise.all(devices.slice(0, 4).map((d) => binding.getLink(d.ifindex)));
    const before = binding.openFdCount();
    const logs = new Map<number, LinkEvent[][]>();
    for (const device of devices) {
      const pair: LinkEvent[][] = [[], []];
      for (const log of pair) monitors.push(binding.monitor(device.ifindex, (e) => log.push(e)));
      logs.set(device.ifindex, pair);
    }
    expect(binding.openFdCount(), 'one shared socket, maybe one more request socket').to.be.within(before + 1, before + 2);
    // Change every other interface from outside; the rest must hear nothing.
    for (let i = 0; i < devices.length; i += 2) ip('link', 'set', 'dev', devices[i]!.name, 'mtu', String(1300 + i));
    const changed = devices.filter((_, i) => i % 2 === 0);
    const heard = await eventually(() => changed.every((d) => logs.get(d.ifindex)!.every((log) => log.length > 0)), 5000, 10);
    expect(heard, 'every watch of a changed interface heard it').to.equal(true);
    devices.forEach((device, i) => {
      for (const log of logs.get(device.ifindex)!) {
        if (i % 2 === 0) expect(log, device.name).to.deep.equal([{ type: 'mtu', ifindex: device.ifindex, name: device.name, mtu: 1300 + i }]);
        else expect(log, device.name).to.deep.equal([]);
      }
    });
    for (const monitor of monitors.splice(0)) monitor.close();
    expect(await eventually(() => binding.openFdCount() <= before)).to.equal(true);
  });

  it('a monitor opened after all others closed works (the shared socket is made again)', async () => {
    const device = await binding.open({ name: `mh${process.pid % 1000}y` });
    devices.push(device);
    const first = binding.monitor(device.ifindex, () => {});
    first.close();
    const events: LinkEvent[] = [];
    monitors.push(binding.monitor(device.ifindex, (e) => events.push(e)));
    ip('link', 'set', 'dev', device.name, 'up');
    expect(await eventually(() => events.some((e) => e.type === 'admin' && e.up))).to.equal(true);
  });

  it('a worker that exits with monitors open leaks nothing and crashes nothing', async function () {
    this.timeout(20_000);
    const name = `mh${process.pid % 1000}w`;
    const url = new URL('../../src/binding/native/binding.js', import.meta.url).href;
    const source = `
      import { createNativeBinding } from ${JSON.stringify(url)};
      import { parentPort } from 'node:worker_threads';
      const binding = createNativeBinding();
      const device = await binding.open({ name: ${JSON.stringify(name)} });
      for (let i = 0; i < 5; i++) binding.monitor(device.ifindex, () => {});
      binding.monitor(1, () => {});
      parentPort.postMessage({ ifindex: device.ifindex, fds: binding.openFdCount() });
      // stays alive (its handles keep it) until terminated, device and monitors open
    `;
    const worker = new Worker(new URL(`data:text/javascript,${encodeURIComponent(source)}`));
    const messages: Array<{ ifindex: number; fds: number }> = [];
    const exited = new Promise<number>((resolve, reject) => {
      worker.once('error', reject);
      worker.once('exit', resolve);
    });
    worker.on('message', (m: { ifindex: number; fds: number }) => {
      messages.push(m);
      void worker.terminate();
    });
    expect(await exited, 'terminated (1), not crashed').to.equal(1);
    expect(messages).to.have.length(1);
    expect(messages[0]!.fds, 'the device fd, the shared monitor socket, a request socket or two').to.be.within(2, 4);
    // Its device went with its fds: nothing of the worker's is left in the namespace.
    expect(await eventually(() => !ip('-o', 'link', 'show').includes(`${name}:`))).to.equal(true);
    // and this thread's monitors still work
    const device = await binding.open({ name: `mh${process.pid % 1000}z` });
    devices.push(device);
    const events: LinkEvent[] = [];
    monitors.push(binding.monitor(device.ifindex, (e) => events.push(e)));
    ip('link', 'set', 'dev', device.name, 'mtu', '1280');
    expect(await eventually(() => events.some((e) => e.type === 'mtu' && e.mtu === 1280))).to.equal(true);
  });
});
