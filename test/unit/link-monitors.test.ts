// The monitors of one environment over one listener (src/binding/contract/link-monitors.ts),
// driven with a fake listener, and the simulated twin reporting through the
// same meaning (its kernel announces IPv6 addresses twice, as addrconf does).

import { expect } from 'chai';
import { LinkMonitors } from '../../src/binding/contract/link-monitors.js';
import type {
  LinkListener, ListenerBurst, ListenerRecord, ListenerRequest, OnListenerFailed, OnListenerRecords,
} from '../../src/binding/contract/link-records.js';
import { TunSystemError } from '../../src/binding/contract/system-error.js';
import { SimulatedBinding } from '../../src/binding/simulated/binding.js';
import type { LinkEvent } from '../../src/binding/contract/types.js';

const tick = () => new Promise((r) => setImmediate(r));

class FakeListener implements LinkListener {
  readonly requests: ListenerRequest[] = [];
  readonly interest = new Set<number>();
  closed = false;
  refuse: string | undefined;
  /** What the next dump request reads ahead of itself. */
  readAhead: ListenerRecord[] | undefined;
  constructor(readonly onRecords: OnListenerRecords, readonly onFailed: OnListenerFailed) {}
  request(request: ListenerRequest): ListenerBurst | undefined {
    if (this.refuse) throw new TunSystemError({ code: this.refuse, syscall: request.type === 'link' ? 'RTM_GETLINK' : 'RTM_GETADDR' });
    this.requests.push(request);
    if (request.type !== 'addresses' || !this.readAhead) return undefined;
    const records = this.readAhead;
    this.readAhead = undefined;
    return { records, overrun: false };
  }
  setInterest(ifindex: number, interested: boolean): void {
    if (interested) this.interest.add(ifindex);
    else this.interest.delete(ifindex);
  }
  close(): void {
    this.closed = true;
  }
  /** Answers every request so far as a link that is down, MTU 1500, without addresses. */
  answerAll(): void {
    const records: ListenerRecord[] = this.requests.splice(0).map((r) => (r.type === 'link'
      ? { type: 'link', seq: r.seq, deleted: false, ifindex: r.ifindex, name: `tun${r.ifindex}`, flags: 0, mtu: 1500 }
      : { type: 'done', seq: r.seq, errno: 0, extack: '' }));
    this.onRecords(records, false);
  }
  mtu(ifindex: number, mtu: number): void {
    this.onRecords([{ type: 'link', seq: 0, deleted: false, ifindex, name: `tun${ifindex}`, flags: 0, mtu }], false);
  }
}

describe('link monitors: one listener for every monitor of an environment', () => {
  let opened: FakeListener[];
  let monitors: LinkMonitors;
  const current = () => opened.at(-1)!;
  beforeEach(() => {
    opened = [];
    monitors = new LinkMonitors((onRecords, onFailed) => {
      const listener = new FakeListener(onRecords, onFailed);
      opened.push(listener);
      return listener;
    });
  });

  it('opens the listener with the first monitor, keeps it for the others, closes it with the last', () => {
    expect(monitors.listening).to.equal(false);
    const a = monitors.monitor(7, () => {});
    const b = monitors.monitor(8, () => {});
    expect(opened).to.have.length(1);
    expect([...current().interest].sort()).to.deep.equal([7, 8]);
    a.close();
    expect(current().closed).to.equal(false);
    expect([...current().interest], 'interest follows the watched links').to.deep.equal([8]);
    b.close();
    expect(current().closed).to.equal(true);
    expect(monitors.listening).to.equal(false);
    monitors.monitor(7, () => {});
    expect(opened, 'made again for the next monitor').to.have.length(2);
    expect(current().requests.map((r) => r.type), 'the new listener serves dumps again').to.deep.equal(['link', 'addresses', 'routes']);
  });

  it('delivers each monitor its own events; a callback closing another monitor stops that one at once', () => {
    const first: LinkEvent[] = [];
    const second: LinkEvent[] = [];
    let other: { close(): void } | undefined;
    monitors.monitor(7, (e) => {
      first.push(e);
      other?.close();
    });
    other = monitors.monitor(7, (e) => second.push(e));
    current().answerAll();
    current().answerAll();
    current().mtu(7, 1400);
    expect(first.map((e) => e.type)).to.deep.equal(['mtu']);
    expect(second, 'closed by the first callback before its turn').to.deep.equal([]);
  });

  it('records a request read ahead are judged a moment later, not inside monitor(), and before the next burst', async () => {
    const events: LinkEvent[] = [];
    monitors.monitor(7, (e) => events.push(e));
    const [linkRequest, dumpRequest] = current().requests.splice(0);
    current().readAhead = [
      { type: 'link', seq: linkRequest!.seq, deleted: false, ifindex: 7, name: 'tun7', flags: 0, mtu: 1500 },
      { type: 'done', seq: dumpRequest!.seq, errno: 0, extack: '' },
      { type: 'link', seq: 0, deleted: false, ifindex: 7, name: 'tun7', flags: 0, mtu: 1300 },
    ];
    monitors.monitor(8, () => {});
    expect(events, 'nothing judged inside monitor()').to.deep.equal([]);
    current().mtu(7, 1200); // a later burst: after what was read ahead
    expect(events.map((e) => e.type === 'mtu' && e.mtu)).to.deep.equal([1300, 1200]);
    await tick();
    expect(events, 'the read-ahead burst is judged once').to.have.length(2);
  });

  it('a monitor whose requests cannot be sent throws, and leaves no listener behind', () => {
    monitors.monitor(7, () => {}).close();
    const refusing = new LinkMonitors((onRecords, onFailed) => {
      const listener = new FakeListener(onRecords, onFailed);
      listener.refuse = 'ENOBUFS';
      opened.push(listener);
      return listener;
    });
    expect(() => refusing.monitor(7, () => {})).to.throw(TunSystemError, /ENOBUFS/);
    expect(current().closed).to.equal(true);
    expect(refusing.listening).to.equal(false);
  });

  it('the listener failing for good closes every monitor, and each hears why', () => {
    const errors: Error[] = [];
    const a = monitors.monitor(7, () => {}, (e) => errors.push(e));
    const b = monitors.monitor(8, () => {}, (e) => errors.push(e));
    const fatal = new TunSystemError({ code: 'EIO', syscall: 'recv(NETLINK_ROUTE)' });
    current().onFailed(fatal);
    expect(errors).to.deep.equal([fatal, fatal]);
    expect([a.closed, b.closed]).to.deep.equal([true, true]);
    expect(monitors.listening).to.equal(false);
  });

  it('an overrun reaches every monitor as a non-fatal ENOBUFS, and the re-asked answers are sent', () => {
    const errors: Error[] = [];
    const monitor = monitors.monitor(7, () => {}, (e) => errors.push(e));
    current().answerAll();
    current().onRecords([], true);
    expect(errors.map((e) => (e as TunSystemError).code)).to.deep.equal(['ENOBUFS']);
    expect(monitor.closed).to.equal(false);
    expect(current().requests.map((r) => [r.type, r.ifindex])).to.deep.equal([['link', 7], ['addresses', 7], ['routes', 7]]);
  });
});

describe('simulated twin: reports through the same meaning', () => {
  it('an IPv6 address, announced twice by the twin kernel as addrconf does, is reported added once', async () => {
    const binding = new SimulatedBinding();
    const device = await binding.open();
    await binding.setUp(device.ifindex, true);
    const events: LinkEvent[] = [];
    const monitor = binding.monitor(device.ifindex, (e) => events.push(e));
    await binding.addAddress(device.ifindex, 'fd00:5::1/64');
    await tick();
    expect(events.filter((e) => e.type === 'address-added').map((e) => e.type === 'address-added' && e.address.cidr))
      .to.deep.equal(['fd00:5::1/64']);
    monitor.close();
    device.close();
  });

  it('its monitors share one simulated socket: one fd however many are open, none once all are closed', async () => {
    const binding = new SimulatedBinding();
    const device = await binding.open();
    const before = binding.openFdCount();
    const opened = [binding.monitor(device.ifindex, () => {}), binding.monitor(device.ifindex, () => {}), binding.monitor(1, () => {})];
    expect(binding.openFdCount()).to.equal(before + 1);
    for (const monitor of opened) monitor.close();
    expect(binding.openFdCount()).to.equal(before);
    device.close();
  });

  it('an overrun loses queued notifications; the re-sync still reports the changes, after ENOBUFS', async () => {
    const binding = new SimulatedBinding();
    const device = await binding.open();
    await binding.addAddress(device.ifindex, '10.6.0.1/24');
    const events: LinkEvent[] = [];
    const errors: Error[] = [];
    const monitor = binding.monitor(device.ifindex, (e) => events.push(e), (e) => errors.push(e));
    await tick();
    binding.world.setMtu(device.name, 1400);
    binding.world.removeAddress(device.name, '10.6.0.1/24');
    binding.world.addAddress(device.name, '10.6.0.2/24');
    binding.world.overrunMonitors();
    await tick();
    expect(errors.map((e) => (e as TunSystemError).code)).to.deep.equal(['ENOBUFS']);
    const short = (e: LinkEvent) => {
      if (e.type === 'mtu') return `mtu ${e.mtu}`;
      return e.type === 'address-added' || e.type === 'address-removed' ? `${e.type} ${e.address.cidr}` : e.type;
    };
    expect(events.map(short), 'the lost changes, found by the re-sync').to.deep.equal(['mtu 1400', 'address-added 10.6.0.2/24', 'address-removed 10.6.0.1/24']);
    monitor.close();
    device.close();
  });

  it('a monitor of a link that does not exist hears ENODEV from its link request', async () => {
    const binding = new SimulatedBinding();
    const errors: Error[] = [];
    const monitor = binding.monitor(4242, () => {}, (e) => errors.push(e));
    await tick();
    expect(errors.map((e) => (e as TunSystemError).code)).to.deep.equal(['ENODEV']);
    monitor.close();
  });
});
