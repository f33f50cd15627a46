// The meaning of link records (src/binding/contract/link-changes.ts), fed
// canned records as a listener would hand them over: no socket, no root.

import { expect } from 'chai';
import { LinkChanges, type LinkChangesOutput } from '../../src/binding/contract/link-changes.js';
import type { AddressRecord, LinkRecord, ListenerRecord, ListenerRequest, RouteRecord } from '../../src/binding/contract/link-records.js';
import { parseCidr } from '../../src/binding/contract/validate.js';
import type { LinkEvent } from '../../src/binding/contract/types.js';

const IFF_UP = 0x1;
const IFF_LOWER_UP = 0x10000;
const ENODEV = 19;

const link = (ifindex: number, flags: number, mtu: number, seq = 0, deleted = false): LinkRecord =>
  ({ type: 'link', seq, deleted, ifindex, name: `tun${ifindex}`, flags, mtu });
const address = (ifindex: number, cidr: string, seq = 0, deleted = false): AddressRecord => {
  const c = parseCidr(cidr, 'cidr');
  return { type: 'address', seq, deleted, ifindex, family: c.family, address: c.bytes, prefixLength: c.prefixLength };
};
const RT_TABLE_MAIN = 254;
const RTPROT_KERNEL = 2;
const RTPROT_STATIC = 4;
const route = (ifindex: number, cidr: string, metric: number, seq = 0, deleted = false, more: Partial<RouteRecord> = {}): RouteRecord => {
  const c = parseCidr(cidr, 'cidr');
  return {
    type: 'route', seq, deleted, ifindex, family: c.family, destination: c.bytes, prefixLength: c.prefixLength, metric,
    table: RT_TABLE_MAIN, protocol: RTPROT_STATIC, routeType: 1, ...more,
  };
};
const done = (seq: number, errno = 0): ListenerRecord => ({ type: 'done', seq, errno, extack: '' });

/** The events (as short strings) a watch got in one output. */
function eventsOf(output: LinkChangesOutput, watch: number): string[] {
  return output.deliveries.filter((d) => d.watch === watch).flatMap((d) => d.events.map(short));
}

function short(e: LinkEvent): string {
  switch (e.type) {
    case 'admin': return `admin ${e.up}`;
    case 'carrier': return `carrier ${e.carrier}`;
    case 'mtu': return `mtu ${e.mtu}`;
    case 'address-added': return `added ${e.address.cidr}`;
    case 'address-removed': return `removed ${e.address.cidr}`;
    case 'route-added': return `route+ ${e.route.destination}@${e.route.metric}`;
    case 'route-removed': return `route- ${e.route.destination}@${e.route.metric}`;
    case 'deleted': return 'deleted';
  }
}

function requestOf(requests: ListenerRequest[], type: ListenerRequest['type']): ListenerRequest {
  const found = requests.find((r) => r.type === type);
  expect(found, `a '${type}' request in ${JSON.stringify(requests)}`).to.not.equal(undefined);
  return found!;
}

/** A watch of ifindex whose baselines (link: down, mtu 1500; the addresses and routes given) have been answered. */
function watched(changes: LinkChanges, ifindex: number, addresses: string[] = [], flags = 0, routes: Array<[string, number]> = []) {
  const { id, requests } = changes.watch(ifindex);
  const linkSeq = requestOf(requests, 'link').seq;
  const dumpSeq = requestOf(requests, 'addresses').seq;
  const routeSeq = requestOf(requests, 'routes').seq;
  const baseline = changes.receive([
    link(ifindex, flags, 1500, linkSeq),
    ...addresses.map((a) => address(ifindex, a, dumpSeq)),
    done(dumpSeq),
    ...routes.map(([cidr, metric]) => route(ifindex, cidr, metric, routeSeq)),
    done(routeSeq),
  ]);
  expect(eventsOf(baseline, id), 'a baseline is no news').to.deep.equal([]);
  return id;
}

describe('link changes: what a record means to a watch', () => {
  let changes: LinkChanges;
  beforeEach(() => {
    changes = new LinkChanges();
  });

  it('asks for its baselines: RTM_GETLINK of its link, then an address and a route dump of it, with fresh sequence numbers', () => {
    const { requests } = changes.watch(7);
    expect(requests.map((r) => [r.type, r.ifindex])).to.deep.equal([['link', 7], ['addresses', 7], ['routes', 7]]);
    expect(requests[0]!.seq).to.be.above(0);
    expect(new Set(requests.map((r) => r.seq)).size).to.equal(3);
  });

  it('routes: the baseline dump is no news; a route added or removed after it is, once, with its metric', () => {
    const id = watched(changes, 7, [], 0, [['10.1.0.0/16', 0]]);
    expect(eventsOf(changes.receive([route(7, '10.1.0.0/16', 0)]), id), 'held already').to.deep.equal([]);
    const added = changes.receive([route(7, 'fd01::/64', 1024), route(7, 'fd01::/64', 1024)]);
    expect(eventsOf(added, id)).to.deep.equal(['route+ fd01::/64@1024']);
    expect(added.deliveries[0]!.events[0]).to.deep.equal({
      type: 'route-added', ifindex: 7, name: 'tun7', route: { family: 6, destination: 'fd01::/64', metric: 1024 },
    });
    expect(eventsOf(changes.receive([route(7, '10.1.0.0/16', 0, 0, true)]), id)).to.deep.equal(['route- 10.1.0.0/16@0']);
    expect(eventsOf(changes.receive([route(7, '10.1.0.0/16', 5)]), id), 'another metric is another route').to.deep.equal(['route+ 10.1.0.0/16@5']);
  });

  it("routes: the kernel's own prefix routes, other tables and other types are not counted", () => {
    const id = watched(changes, 7);
    const out = changes.receive([
      route(7, '10.0.0.0/24', 0, 0, false, { protocol: RTPROT_KERNEL }),
      route(7, '10.9.0.0/16', 0, 0, false, { table: 100 }),
      route(7, '10.8.0.0/16', 0, 0, false, { routeType: 2 /* local */ }),
      route(8, '10.7.0.0/16', 0),
    ]);
    expect(eventsOf(out, id)).to.deep.equal([]);
  });

  it('routes: after an overrun the new route dump is a diff against what the watch held', () => {
    const id = watched(changes, 7, [], 0, [['10.1.0.0/16', 0], ['10.2.0.0/16', 0]]);
    const { requests } = changes.receive([], true);
    const routeSeq = requestOf(requests, 'routes').seq;
    const out = changes.receive([route(7, '10.2.0.0/16', 0, routeSeq), route(7, '10.3.0.0/16', 7, routeSeq), done(routeSeq)]);
    expect(eventsOf(out, id)).to.deep.equal(['route+ 10.3.0.0/16@7', 'route- 10.1.0.0/16@0']);
  });

  it('diffs each link notification against the baseline: admin, carrier, MTU, in that order, with the name', () => {
    const id = watched(changes, 7);
    const out = changes.receive([link(7, IFF_UP | IFF_LOWER_UP, 1400)]);
    expect(eventsOf(out, id)).to.deep.equal(['admin true', 'carrier true', 'mtu 1400']);
    expect(out.deliveries[0]!.events[0]).to.deep.equal({ type: 'admin', ifindex: 7, name: 'tun7', up: true });
    expect(eventsOf(changes.receive([link(7, IFF_UP | IFF_LOWER_UP, 1400)]), id), 'the same state again').to.deep.equal([]);
    expect(eventsOf(changes.receive([link(7, IFF_LOWER_UP, 1400)]), id)).to.deep.equal(['admin false']);
  });

  it('ignores notifications read before its link answer: they predate the watch', () => {
    const { id, requests } = changes.watch(7);
    const out = changes.receive([
      link(7, IFF_UP, 1400), // queued before the request
      address(7, '10.0.0.1/24'),
      link(7, IFF_UP, 1400, requestOf(requests, 'link').seq),
      address(7, '10.0.0.1/24', requestOf(requests, 'addresses').seq),
      done(requestOf(requests, 'addresses').seq),
      link(7, 0, 1400), // after: news
    ]);
    expect(eventsOf(out, id)).to.deep.equal(['admin false']);
  });

  it('an address re-announced after the baseline dump is not "added"; a new one is', () => {
    const id = watched(changes, 7, ['10.0.0.1/24']);
    expect(eventsOf(changes.receive([address(7, '10.0.0.1/24')]), id)).to.deep.equal([]);
    expect(eventsOf(changes.receive([address(7, '10.0.0.2/24')]), id)).to.deep.equal(['added 10.0.0.2/24']);
  });

  it('IPv6 repeats RTM_NEWADDR (DAD, link up): reported once; after its removal it is news again', () => {
    const id = watched(changes, 7);
    const a = address(7, 'fd00::1/64');
    expect(eventsOf(changes.receive([a, a]), id)).to.deep.equal(['added fd00::1/64']);
    expect(eventsOf(changes.receive([a]), id)).to.deep.equal([]);
    expect(eventsOf(changes.receive([address(7, 'fd00::1/64', 0, true), a]), id))
      .to.deep.equal(['removed fd00::1/64', 'added fd00::1/64']);
  });

  it('a notification read while the baseline dump is still coming counts, and the rest of the dump agrees with it', () => {
    const { id, requests } = changes.watch(7);
    const dumpSeq = requestOf(requests, 'addresses').seq;
    const out = changes.receive([
      link(7, 0, 1500, requestOf(requests, 'link').seq),
      address(7, '10.0.0.1/24', dumpSeq),
      address(7, '10.0.0.1/24', 0, true), // removed after the dump listed it
      address(7, '10.0.0.2/24'), // added before the dump reaches it
      address(7, '10.0.0.2/24', dumpSeq),
      done(dumpSeq),
    ]);
    expect(eventsOf(out, id)).to.deep.equal(['removed 10.0.0.1/24', 'added 10.0.0.2/24']);
    expect(eventsOf(changes.receive([address(7, '10.0.0.2/24')]), id), 'held now').to.deep.equal([]);
  });

  it('once both baselines are in, the watch is synced: its delivery carries the link state, addresses and routes it holds, once', () => {
    const { id, requests } = changes.watch(7);
    const linkSeq = requestOf(requests, 'link').seq;
    const addressSeq = requestOf(requests, 'addresses').seq;
    const routeSeq = requestOf(requests, 'routes').seq;
    const halfway = changes.receive([link(7, IFF_UP, 1400, linkSeq), address(7, '10.0.0.1/24', addressSeq), done(addressSeq)]);
    expect(halfway.deliveries.filter((d) => d.synced), 'not before the route dump is done').to.deep.equal([]);
    // A notification read during the route dump counts in what it holds.
    const out = changes.receive([route(7, '10.1.0.0/16', 0, routeSeq), route(7, '10.2.0.0/16', 5), done(routeSeq)]);
    const synced = out.deliveries.find((d) => d.watch === id)?.synced;
    expect(synced).to.deep.equal({
      up: true, mtu: 1400,
      addresses: [{ family: 4, address: '10.0.0.1', prefixLength: 24, cidr: '10.0.0.1/24' }],
      routes: [{ family: 4, destination: '10.1.0.0/16', metric: 0 }, { family: 4, destination: '10.2.0.0/16', metric: 5 }],
    });
    // An overrun's fresh dumps are diffs, not a second baseline.
    const again = changes.receive([], true);
    const resynced = changes.receive([
      link(7, IFF_UP, 1400, requestOf(again.requests, 'link').seq), done(requestOf(again.requests, 'addresses').seq), done(requestOf(again.requests, 'routes').seq),
    ]);
    expect(resynced.deliveries.filter((d) => d.synced)).to.deep.equal([]);
  });

  it('a watch whose link is gone before its baselines is never synced (its link answer is the error)', () => {
    const { id, requests } = changes.watch(7);
    const out = changes.receive([
      done(requestOf(requests, 'link').seq, ENODEV), done(requestOf(requests, 'addresses').seq, ENODEV), done(requestOf(requests, 'routes').seq, ENODEV),
    ]);
    const delivery = out.deliveries.find((d) => d.watch === id);
    expect(delivery?.error).to.include({ code: 'ENODEV' });
    expect(delivery?.synced).to.equal(undefined);
  });

  it("reports 'deleted' for RTM_DELLINK, and nothing after it", () => {
    const id = watched(changes, 7, ['10.0.0.1/24']);
    const out = changes.receive([link(7, 0, 1500, 0, true), link(7, IFF_UP, 1400), address(7, '10.0.0.9/24')]);
    expect(eventsOf(out, id)).to.deep.equal(['deleted']);
    expect(out.deliveries[0]!.events[0]).to.deep.equal({ type: 'deleted', ifindex: 7, name: 'tun7' });
    expect(changes.receive([], true).deliveries, 'a deleted link is not re-synced').to.deep.equal([]);
  });

  it('an overrun: every watch hears ENOBUFS, link and addresses are asked again, and the answers diff against what it knew', () => {
    const id = watched(changes, 7, ['10.0.0.1/24', '10.0.0.2/24']);
    const overrun = changes.receive([], true);
    expect(overrun.deliveries).to.have.length(1);
    expect(overrun.deliveries[0]!.error).to.include({ code: 'ENOBUFS', syscall: 'recv(NETLINK_ROUTE)' });
    expect(overrun.requests.map((r) => [r.type, r.ifindex])).to.deep.equal([['link', 7], ['addresses', 7], ['routes', 7]]);
    const linkSeq = requestOf(overrun.requests, 'link').seq;
    const dumpSeq = requestOf(overrun.requests, 'addresses').seq;
    // What the lost notifications said: up, MTU 1400, 10.0.0.1 gone, 10.0.0.3 added.
    const out = changes.receive([
      link(7, IFF_UP, 1400, linkSeq),
      address(7, '10.0.0.2/24', dumpSeq),
      address(7, '10.0.0.3/24', dumpSeq),
      done(dumpSeq),
    ]);
    expect(eventsOf(out, id)).to.deep.equal(['admin true', 'mtu 1400', 'added 10.0.0.3/24', 'removed 10.0.0.1/24']);
    expect(out.deliveries[0]!.error, 'the overrun was reported once').to.equal(undefined);
  });

  it("an overrun that hid the link's deletion: the re-asked link answers ENODEV, which is 'deleted'", () => {
    const id = watched(changes, 7);
    const { requests } = changes.receive([], true);
    const out = changes.receive([done(requestOf(requests, 'link').seq, ENODEV), done(requestOf(requests, 'addresses').seq, ENODEV)]);
    expect(eventsOf(out, id)).to.deep.equal(['deleted']);
    expect(out.deliveries[0]!.error).to.equal(undefined);
  });

  it('a link that does not exist when watched: its link answer ENODEV is that watch\'s error', () => {
    const { id, requests } = changes.watch(9);
    const out = changes.receive([done(requestOf(requests, 'link').seq, ENODEV)]);
    expect(out.deliveries).to.have.length(1);
    expect(out.deliveries[0]).to.include({ watch: id });
    expect(out.deliveries[0]!.events).to.deep.equal([]);
    expect(out.deliveries[0]!.error).to.include({ code: 'ENODEV', syscall: 'RTM_GETLINK' });
  });

  it('two watches of different links: each hears only its own link', () => {
    const a = watched(changes, 7);
    const b = watched(changes, 8);
    const out = changes.receive([link(8, 0, 1280), address(7, '10.0.0.7/24')]);
    expect(eventsOf(out, a)).to.deep.equal(['added 10.0.0.7/24']);
    expect(eventsOf(out, b)).to.deep.equal(['mtu 1280']);
    expect(out.deliveries.find((d) => d.watch === a)!.events[0]).to.include({ ifindex: 7, name: 'tun7' });
  });

  it('two watches of one link have their own baselines: the older one hears what the newer one takes in', () => {
    const older = watched(changes, 7);
    const { id: newer, requests } = changes.watch(7);
    const dumpSeq = requestOf(requests, 'addresses').seq;
    const out = changes.receive([
      address(7, '10.0.0.1/24'), // before the newer watch's answers
      link(7, 0, 1500, requestOf(requests, 'link').seq),
      address(7, '10.0.0.1/24', dumpSeq),
      done(dumpSeq),
    ]);
    expect(eventsOf(out, older)).to.deep.equal(['added 10.0.0.1/24']);
    expect(eventsOf(out, newer)).to.deep.equal([]);
  });

  it('watches made together each have their own dump, answered in turn', () => {
    const first = changes.watch(7);
    const second = changes.watch(8);
    const firstDump = requestOf(first.requests, 'addresses').seq;
    const secondDump = requestOf(second.requests, 'addresses').seq;
    const out = changes.receive([
      link(7, 0, 1500, first.requests[0]!.seq), link(8, 0, 1500, second.requests[0]!.seq),
      address(7, '10.0.0.7/24', firstDump), done(firstDump),
      address(8, '10.0.0.8/24', secondDump), done(secondDump),
      address(7, '10.0.0.7/24'), address(8, '10.0.0.8/24'), address(8, '10.0.0.88/24'),
    ]);
    expect(eventsOf(out, first.id)).to.deep.equal([]);
    expect(eventsOf(out, second.id)).to.deep.equal(['added 10.0.0.88/24']);
  });

  it('a dump that could not be sent counts as answered with its errno: the baseline is empty, not stuck', () => {
    const { id, requests } = changes.watch(7);
    changes.receive([link(7, 0, 1500, requests[0]!.seq)]);
    expect(changes.refused(requestOf(requests, 'addresses'), 105).deliveries).to.deep.equal([]);
    expect(eventsOf(changes.receive([address(7, '10.0.0.1/24')]), id)).to.deep.equal(['added 10.0.0.1/24']);
    const resync = changes.receive([], true);
    const dumpSeq = requestOf(resync.requests, 'addresses').seq;
    expect(eventsOf(changes.receive([done(dumpSeq)]), id), 'a later dump is a diff').to.deep.equal(['removed 10.0.0.1/24']);
  });

  it('an unwatched watch hears nothing more, and answers due to it are dropped', () => {
    const { id, requests } = changes.watch(7);
    changes.unwatch(id);
    expect(changes.watching(7)).to.equal(false);
    const out = changes.receive([link(7, IFF_UP, 1500, requests[0]!.seq), link(7, 0, 1500), done(requests[1]!.seq)]);
    expect(out.deliveries).to.deep.equal([]);
    expect(changes.size).to.equal(0);
  });
});
