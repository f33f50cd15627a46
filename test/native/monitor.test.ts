// The link monitor must see changes made behind the package's back: the test
// runs iproute2 itself (admin down, MTU, addresses, deletion) and expects the
// monitor to report each; deletion under an open fd must also end the queue
// with the kernel's own EBADFD. A closed monitor must stay silent.

import { expect } from 'chai';
import { describeKernel } from '../helpers/netns.js';
import { ip, ipLink } from '../helpers/iproute.js';
import { loadNativeBinding } from '../helpers/native-binding.js';
import { eventually, nextEvent, sleep } from '../helpers/wait.js';
import { TunSystemError } from '../../src/binding/contract/system-error.js';
import type { LinkEvent, LinkMonitor, TunBinding, TunDevice } from '../../src/binding/contract/types.js';

class EventLog {
  readonly events: LinkEvent[] = [];
  readonly errors: Error[] = [];
  readonly onEvent = (event: LinkEvent): void => void this.events.push(event);
  readonly onError = (err: Error): void => void this.errors.push(err);

  async waitFor(predicate: (event: LinkEvent) => boolean, what: string, timeoutMs = 3000): Promise<LinkEvent> {
    const found = await eventually(() => this.events.some(predicate), timeoutMs, 10);
    expect(found, `${what} not reported within ${timeoutMs} ms; events: ${JSON.stringify(this.events)}`).to.equal(true);
    return this.events.find(predicate)!;
  }
}

describeKernel('native binding: link monitor reports changes made from outside', function () {
  let binding: TunBinding;
  const devices: TunDevice[] = [];
  const monitors: LinkMonitor[] = [];

  before(async function () {
    binding = await loadNativeBinding();
  });

  afterEach(function () {
    for (const monitor of monitors.splice(0)) monitor.close();
    for (const device of devices.splice(0)) {
      device.close();
      // A persistent device outlives close(); never leave one behind for the next test.
      if (device.persistent && ipLink(device.name)) ip('link', 'del', 'dev', device.name);
    }
  });

  async function openDevice(name: string, persist = false, queues = 1): Promise<TunDevice> {
    const device = await binding.open({ name, persist, queues });
    devices.push(device);
    return device;
  }

  it('reports admin up and down, MTU and address changes run by `ip`', async function () {
    const device = await openDevice('mon0');
    const log = new EventLog();
    monitors.push(binding.monitor(device.ifindex, log.onEvent, log.onError));
    // Give the subscription a moment to be in place before the kernel speaks.
    await sleep(50);

    ip('link', 'set', 'dev', 'mon0', 'up');
    await log.waitFor((e) => e.type === 'admin' && e.up === true, "'admin' up:true");
    ip('link', 'set', 'dev', 'mon0', 'down');
    const down = await log.waitFor((e) => e.type === 'admin' && e.up === false, "'admin' up:false");
    expect(down).to.include({ ifindex: device.ifindex, name: 'mon0' });

    ip('link', 'set', 'dev', 'mon0', 'mtu', '1300');
    const mtu = await log.waitFor((e) => e.type === 'mtu' && e.mtu === 1300, "'mtu' 1300");
    expect(mtu).to.include({ ifindex: device.ifindex, name: 'mon0' });
    expect(ipLink('mon0')!.mtu).to.equal(1300);

    ip('addr', 'add', '10.216.0.1/24', 'dev', 'mon0');
    const added = await log.waitFor((e) => e.type === 'address-added' && e.address.address === '10.216.0.1', "'address-added' 10.216.0.1");
    expect(added.type === 'address-added' && added.address).to.deep.equal({ family: 4, address: '10.216.0.1', prefixLength: 24, cidr: '10.216.0.1/24' });

    ip('addr', 'add', 'fd00:216::1/64', 'dev', 'mon0');
    const added6 = await log.waitFor((e) => e.type === 'address-added' && e.address.address === 'fd00:216::1', "'address-added' fd00:216::1");
    expect(added6.type === 'address-added' && added6.address).to.deep.equal({ family: 6, address: 'fd00:216::1', prefixLength: 64, cidr: 'fd00:216::1/64' });

    ip('addr', 'del', '10.216.0.1/24', 'dev', 'mon0');
    const removed = await log.waitFor((e) => e.type === 'address-removed' && e.address.address === '10.216.0.1', "'address-removed' 10.216.0.1");
    expect(removed.type === 'address-removed' && removed.address.prefixLength).to.equal(24);
    ip('addr', 'del', 'fd00:216::1/64', 'dev', 'mon0');
    await log.waitFor((e) => e.type === 'address-removed' && e.address.address === 'fd00:216::1', "'address-removed' fd00:216::1");

    // Every event was about this interface, and nothing failed.
    for (const event of log.events) expect(event.ifindex, JSON.stringify(event)).to.equal(device.ifindex);
    expect(log.errors).to.deep.equal([]);
  });

  it('takes the addresses already there as its baseline: a change to one is not "added", a new one is', async function () {
    const device = await openDevice('mon3');
    ip('link', 'set', 'dev', 'mon3', 'up');
    ip('addr', 'add', '10.217.0.1/24', 'dev', 'mon3');
    ip('addr', 'add', 'fd00:217::1/64', 'dev', 'mon3');
    const log = new EventLog();
    monitors.push(binding.monitor(device.ifindex, log.onEvent, log.onError));
    // No pause: changes right after monitor() returns must already be judged
    // against the baseline. Changing an address's lifetimes makes the kernel
    // announce it again (RTM_NEWADDR), which is no news.
    ip('addr', 'change', '10.217.0.1/24', 'dev', 'mon3', 'valid_lft', '3000', 'preferred_lft', '2000');
    ip('addr', 'change', 'fd00:217::1/64', 'dev', 'mon3', 'valid_lft', '3000', 'preferred_lft', '2000');
    ip('addr', 'add', '10.217.0.2/24', 'dev', 'mon3');
    await log.waitFor((e) => e.type === 'address-added' && e.address.address === '10.217.0.2', "'address-added' 10.217.0.2");
    await sleep(100);
    const added = log.events.flatMap((e) => (e.type === 'address-added' ? [e.address.cidr] : []));
    expect(added).to.deep.equal(['10.217.0.2/24']);
    ip('addr', 'del', '10.217.0.1/24', 'dev', 'mon3');
    await log.waitFor((e) => e.type === 'address-removed' && e.address.address === '10.217.0.1', "'address-removed' 10.217.0.1");
    expect(log.errors).to.deep.equal([]);
  });

  it('reports only its own interface', async function () {
    const watched = await openDevice('mon1');
    const other = await openDevice('mon2');
    const log = new EventLog();
    const otherLog = new EventLog();
    monitors.push(binding.monitor(watched.ifindex, log.onEvent, log.onError));
    monitors.push(binding.monitor(other.ifindex, otherLog.onEvent, otherLog.onError));
    await sleep(50);
    ip('link', 'set', 'dev', 'mon2', 'mtu', '1280');
    await otherLog.waitFor((e) => e.type === 'mtu' && e.mtu === 1280, "the other monitor's 'mtu'");
    await sleep(100);
    expect(log.events, 'events for mon1 after changing mon2').to.deep.equal([]);
  });

  it("reports 'deleted' for `ip link del`, and the open queue ends with EBADFD", async function () {
    const device = await openDevice('mon3');
    const queue = device.queues[0]!;
    const log = new EventLog();
    monitors.push(binding.monitor(device.ifindex, log.onEvent, log.onError));
    queue.resume();
    const errored = nextEvent<[Error]>(queue, 'error', 3000);
    const closed = nextEvent(queue, 'close', 3000);
    await sleep(50);

    ip('link', 'del', 'dev', 'mon3');
    const deleted = await log.waitFor((e) => e.type === 'deleted', "'deleted'");
    expect(deleted).to.deep.equal({ type: 'deleted', ifindex: device.ifindex, name: 'mon3' });
    expect(ipLink('mon3')).to.equal(undefined);

    const [err] = await errored;
    expect(err).to.be.instanceOf(TunSystemError);
    expect(err).to.include({ code: 'EBADFD', errno: 77 });
    await closed;
    expect(queue.closed).to.equal(true);
    // Writing to the ended queue is refused by the binding, not attempted.
    expect(() => queue.write(Buffer.from([0x45, 0, 0, 20, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2])))
      .to.throw(TunSystemError).with.property('code', 'EBADF');
  });

  it('ends every queue of a deleted multi-queue device with EBADFD, every time (20 rounds)', async function () {
    this.timeout(30_000);
    const codes: string[] = [];
    for (let round = 0; round < 20; round++) {
      const device = await openDevice('mon6', false, 3);
      const ended = device.queues.map((queue) => {
        queue.resume();
        return Promise.all([nextEvent<[Error & { code?: string }]>(queue, 'error', 3000), nextEvent(queue, 'close', 3000)]);
      });
      ip('link', 'del', 'dev', 'mon6');
      for (const [[err]] of await Promise.all(ended)) codes.push(err.code ?? String(err));
      expect(device.queues.every((q) => q.closed)).to.equal(true);
      device.close();
      devices.splice(devices.indexOf(device), 1);
    }
    const counts: Record<string, number> = {};
    for (const code of codes) counts[code] = (counts[code] ?? 0) + 1;
    expect(counts, 'error codes over 60 queue endings').to.deep.equal({ EBADFD: 60 });
  });

  it("reports 'deleted' for a persistent device deleted while no fd is open", async function () {
    const device = await openDevice('mon4', true);
    const ifindex = device.ifindex;
    device.close();
    expect(ipLink('mon4'), 'a persistent device outlives its fds').to.not.equal(undefined);
    const log = new EventLog();
    monitors.push(binding.monitor(ifindex, log.onEvent, log.onError));
    await sleep(50);
    ip('link', 'del', 'dev', 'mon4');
    const deleted = await log.waitFor((e) => e.type === 'deleted', "'deleted'");
    expect(deleted).to.deep.equal({ type: 'deleted', ifindex, name: 'mon4' });
  });

  it('stays silent once closed, and gives its fd back', async function () {
    const device = await openDevice('mon5');
    const fdsBefore = binding.openFdCount();
    const log = new EventLog();
    const control = new EventLog();
    const monitor = binding.monitor(device.ifindex, log.onEvent, log.onError);
    monitors.push(binding.monitor(device.ifindex, control.onEvent, control.onError));
    await sleep(50);
    ip('link', 'set', 'dev', 'mon5', 'mtu', '1400');
    await log.waitFor((e) => e.type === 'mtu' && e.mtu === 1400, "'mtu' 1400 before close");

    monitor.close();
    expect(monitor.closed).to.equal(true);
    monitor.close(); // idempotent
    expect(monitor.closed).to.equal(true);
    const count = log.events.length;

    ip('link', 'set', 'dev', 'mon5', 'mtu', '1350');
    ip('link', 'set', 'dev', 'mon5', 'up');
    ip('addr', 'add', '10.217.0.1/24', 'dev', 'mon5');
    // The control monitor proves these changes were announced at all.
    await control.waitFor((e) => e.type === 'address-added', "control monitor's 'address-added'");
    await sleep(100);
    expect(log.events.slice(count), 'events after close()').to.deep.equal([]);

    // The control monitor is still open; closing it too must return the count to where it was.
    for (const m of monitors.splice(0)) m.close();
    const settled = await eventually(() => binding.openFdCount() === fdsBefore, 1000);
    expect(settled, `binding fds ${binding.openFdCount()} vs ${fdsBefore} before the monitors`).to.equal(true);
  });
});
