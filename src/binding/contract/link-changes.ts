// What counts as a change of a watched link: the one place that gives the
// listener's records (src/binding/contract/link-records.ts) their meaning,
// for the native and the simulated binding alike. A pure state machine: it
// is fed records and says which LinkEvents (and errors) each watch gets and
// which requests to send; it does no I/O.
//
// The rules:
//  - Each watch reports changes only, from the moment it was made. Its link
//    baseline is the answer to its own RTM_GETLINK, which sits in the stream
//    behind every notification that predates the watch: notifications read
//    before that answer are ignored for this watch.
//  - Its address and route baselines are an RTM_GETADDR and an RTM_GETROUTE
//    dump asked for right after; what they list is taken in silently. (A
//    socket runs one dump at a time: the listener reads the previous one off
//    before it sends the next.) Once both are complete the watch is synced:
//    its delivery carries what it holds then (the link's state, its
//    addresses and routes), once.
//  - Routes count as listRoutes counts them: main table, unicast, not made
//    by the kernel for an address (protocol kernel); identity is destination
//    and metric.
//  - IPv6 repeats RTM_NEWADDR when an address's flags change (DAD, link up):
//    an address the watch already holds is no news.
//  - A link change is a diff against what the watch last knew: admin up/down
//    (IFF_UP), carrier (IFF_LOWER_UP), MTU. RTM_DELLINK is 'deleted', and
//    nothing follows it.
//  - After an overrun (ENOBUFS: notifications were lost) every watch hears
//    the error, and its link and addresses are asked for again; the answers
//    are diffed like notifications, so a missed change still shows: a link
//    answered with ENODEV is 'deleted', an address (route) missing from the
//    new dump is 'address-removed' ('route-removed'), one new in it
//    'address-added' ('route-added').

import { TunSystemError } from './system-error.js';
import { formatAddress } from './validate.js';
import { routeKey } from './route-metric.js';
import type { AddressRecord, DoneRecord, LinkRecord, ListenerRecord, ListenerRequest, RouteRecord } from './link-records.js';
import type { AddressInfo, LinkEvent, MonitorBaseline, RouteInfo } from './types.js';

const IFF_UP = 0x1;
const RT_TABLE_MAIN = 254;
const RTN_UNICAST = 1;
const RTPROT_KERNEL = 2;
const IFF_LOWER_UP = 0x10000;
const ENODEV = 19;
const ENOBUFS = 105;

/** What one watch is told after a burst of records: its events in order, then an error if any. */
export interface WatchDelivery {
  watch: number;
  events: LinkEvent[];
  error?: TunSystemError;
  /** The watch's baselines are complete (once per watch): what it holds, after this delivery's events. */
  synced?: MonitorBaseline;
}

export interface LinkChangesOutput {
  deliveries: WatchDelivery[];
  /** Requests to send now, in this order. */
  requests: ListenerRequest[];
}

interface Watch {
  readonly id: number;
  readonly ifindex: number;
  name: string;
  /** Its link answer has arrived: notifications count from here on. */
  live: boolean;
  gone: boolean;
  flags: number;
  mtu: number;
  /** What it holds of each kind, by key (an address's cidr, a route's destination@metric). */
  held: { addresses: Map<string, AddressInfo>; routes: Map<string, RouteInfo> };
  /** Its first dump of that kind is complete: a later one is a diff. */
  baselined: { addresses: boolean; routes: boolean };
  /** Its baseline has been handed out (WatchDelivery.synced). */
  synced: boolean;
}

/** What a dump lists: a link's addresses or its routes. */
type DumpKind = 'addresses' | 'routes';
type Item = AddressInfo | RouteInfo;

/** A dump being answered: per watch it serves, what the dump (and notifications read meanwhile) say its link holds, by key. */
interface Dump {
  kind: DumpKind;
  holds: Map<number, Map<string, Item>>;
}

/** An address or route record as what it is about, its key, and its kind (undefined: a route that does not count). */
function itemOf(record: AddressRecord | RouteRecord): { kind: DumpKind; key: string; item: Item } | undefined {
  if (record.type === 'address') {
    const address = formatAddress(record.address);
    const cidr = `${address}/${record.prefixLength}`;
    return { kind: 'addresses', key: cidr, item: { family: record.family, address, prefixLength: record.prefixLength, cidr } };
  }
  if (record.table !== RT_TABLE_MAIN || record.routeType !== RTN_UNICAST || record.protocol === RTPROT_KERNEL) return undefined;
  const destination = `${formatAddress(record.destination)}/${record.prefixLength}`;
  return { kind: 'routes', key: routeKey(destination, record.metric), item: { family: record.family, destination, metric: record.metric } };
}

export class LinkChanges {
  readonly #watches = new Map<number, Watch>();
  readonly #byIfindex = new Map<number, Watch[]>();
  /** RTM_GETLINK sequence numbers awaiting their answer → the watches it serves. */
  readonly #linkRequests = new Map<number, number[]>();
  /** RTM_GETADDR and RTM_GETROUTE dumps still being answered, by sequence number. */
  readonly #dumps = new Map<number, Dump>();
  #nextId = 1;
  #seq = 0;
  // Gathered while records are read, handed out once per burst.
  #out = new Map<number, WatchDelivery>();
  #requests: ListenerRequest[] = [];

  /** Watches of ifindex exist. */
  watching(ifindex: number): boolean {
    return this.#byIfindex.has(ifindex);
  }

  get size(): number {
    return this.#watches.size;
  }

  /** A new watch of ifindex, and the requests that give it its baselines. */
  watch(ifindex: number): { id: number; requests: ListenerRequest[] } {
    const watch: Watch = {
      id: this.#nextId++, ifindex, name: '', live: false, gone: false, flags: 0, mtu: 0,
      held: { addresses: new Map(), routes: new Map() }, baselined: { addresses: false, routes: false }, synced: false,
    };
    this.#watches.set(watch.id, watch);
    const list = this.#byIfindex.get(ifindex);
    if (list) list.push(watch);
    else this.#byIfindex.set(ifindex, [watch]);
    this.#askLink(ifindex, [watch.id]);
    this.#askDumps(ifindex, [watch.id]);
    return { id: watch.id, requests: this.#takeRequests() };
  }

  /** The watch is forgotten; answers still due for it are dropped when they come. */
  unwatch(id: number): void {
    const watch = this.#watches.get(id);
    if (!watch) return;
    this.#watches.delete(id);
    for (const dump of this.#dumps.values()) dump.holds.delete(id);
    const list = this.#byIfindex.get(watch.ifindex)!;
    list.splice(list.indexOf(watch), 1);
    if (list.length === 0) this.#byIfindex.delete(watch.ifindex);
  }

  /** One burst of records in socket order; overrun: the socket reported ENOBUFS while they were read. */
  receive(records: readonly ListenerRecord[], overrun = false): LinkChangesOutput {
    for (const record of records) {
      switch (record.type) {
        case 'link': this.#onLink(record); break;
        case 'address':
        case 'route': this.#onItem(record); break;
        case 'done': this.#onDone(record); break;
      }
    }
    if (overrun) this.#resync();
    const deliveries = [...this.#out.values()];
    this.#out = new Map();
    return { deliveries, requests: this.#takeRequests() };
  }

  /** A request could not be sent: as if the kernel had answered it with that errno. */
  refused(request: ListenerRequest, errno: number): LinkChangesOutput {
    return this.receive([{ type: 'done', seq: request.seq, errno, extack: '' }]);
  }

  // ── requests ────────────────────────────────────────────────────────────

  #nextSeq(): number {
    this.#seq = (this.#seq + 1) >>> 0;
    if (this.#seq === 0) this.#seq = 1; // 0 marks notifications
    return this.#seq;
  }

  #takeRequests(): ListenerRequest[] {
    const requests = this.#requests;
    this.#requests = [];
    return requests;
  }

  #askLink(ifindex: number, watches: number[]): void {
    const seq = this.#nextSeq();
    this.#linkRequests.set(seq, watches);
    this.#requests.push({ type: 'link', seq, ifindex });
  }

  #askDumps(ifindex: number, watches: number[]): void {
    for (const kind of ['addresses', 'routes'] as const) {
      const seq = this.#nextSeq();
      this.#dumps.set(seq, { kind, holds: new Map(watches.map((id) => [id, new Map()])) });
      this.#requests.push({ type: kind, seq, ifindex });
    }
  }

  #resync(): void {
    const lost = new TunSystemError({ errno: ENOBUFS, syscall: 'recv(NETLINK_ROUTE)' });
    // Answers may have been lost too: the new requests replace the old.
    this.#linkRequests.clear();
    for (const [ifindex, list] of this.#byIfindex) {
      const ids = list.filter((w) => !w.gone).map((w) => w.id);
      if (ids.length === 0) continue;
      for (const id of ids) this.#deliveryOf(this.#watches.get(id)!).error = lost;
      this.#askLink(ifindex, ids);
      this.#askDumps(ifindex, ids);
    }
  }

  // ── records ─────────────────────────────────────────────────────────────

  #onLink(record: LinkRecord): void {
    if (record.seq === 0) {
      for (const watch of this.#byIfindex.get(record.ifindex) ?? []) if (watch.live) this.#linkChanged(watch, record);
      return;
    }
    for (const watch of this.#answered(record.seq)) {
      if (watch.live) {
        this.#linkChanged(watch, record);
      } else {
        watch.live = true;
        watch.name = record.name || watch.name;
        watch.flags = record.flags;
        watch.mtu = record.mtu;
      }
    }
  }

  /** The watches a link answer serves (the request is then settled). */
  #answered(seq: number): Watch[] {
    const ids = this.#linkRequests.get(seq);
    if (!ids) return [];
    this.#linkRequests.delete(seq);
    return ids.flatMap((id) => this.#watches.get(id) ?? []);
  }

  #linkChanged(watch: Watch, record: LinkRecord): void {
    if (watch.gone) return;
    if (record.name) watch.name = record.name;
    if (record.deleted) {
      this.#gone(watch);
      return;
    }
    const changed = watch.flags ^ record.flags;
    if (changed & IFF_UP) this.#emit(watch, { type: 'admin', ...this.#subject(watch), up: (record.flags & IFF_UP) !== 0 });
    if (changed & IFF_LOWER_UP) {
      this.#emit(watch, { type: 'carrier', ...this.#subject(watch), carrier: (record.flags & IFF_LOWER_UP) !== 0 });
    }
    if (record.mtu !== 0 && record.mtu !== watch.mtu) {
      watch.mtu = record.mtu;
      this.#emit(watch, { type: 'mtu', ...this.#subject(watch), mtu: record.mtu });
    }
    watch.flags = record.flags;
  }

  #gone(watch: Watch): void {
    watch.gone = true;
    this.#emit(watch, { type: 'deleted', ...this.#subject(watch) });
  }

  #onItem(record: AddressRecord | RouteRecord): void {
    const parsed = itemOf(record);
    if (!parsed) return;
    const { kind, key, item } = parsed;
    if (record.seq !== 0) {
      const dump = this.#dumps.get(record.seq);
      if (dump?.kind === kind && !record.deleted) this.#dumped(dump, record.ifindex, key, item);
      return;
    }
    for (const watch of this.#byIfindex.get(record.ifindex) ?? []) {
      if (!watch.live || watch.gone) continue;
      // A dump in flight agrees with whatever was read after it started.
      const holds = [...this.#dumps.values()].filter((dump) => dump.kind === kind).flatMap((dump) => dump.holds.get(watch.id) ?? []);
      const held: Map<string, Item> = watch.held[kind];
      if (record.deleted) {
        for (const h of holds) h.delete(key);
        held.delete(key);
        this.#emitItem(watch, kind, false, item);
      } else {
        for (const h of holds) h.set(key, item);
        // IPv6 repeats RTM_NEWADDR on flag changes, and a route can be announced again: no news.
        if (held.has(key)) continue;
        held.set(key, item);
        this.#emitItem(watch, kind, true, item);
      }
    }
  }

  /** A part of a dump: an address or route the link holds now. */
  #dumped(dump: Dump, ifindex: number, key: string, item: Item): void {
    for (const [id, holds] of dump.holds) {
      const watch = this.#watches.get(id)!;
      if (watch.ifindex !== ifindex || watch.gone) continue;
      holds.set(key, item);
      const held: Map<string, Item> = watch.held[dump.kind];
      if (held.has(key)) continue;
      held.set(key, item);
      // The first dump of a watch is its baseline; a later one found what an overrun hid.
      if (watch.baselined[dump.kind]) this.#emitItem(watch, dump.kind, true, item);
    }
  }

  #onDone(record: DoneRecord): void {
    const dump = this.#dumps.get(record.seq);
    if (dump) {
      this.#dumps.delete(record.seq);
      this.#dumpDone(dump, record);
      return;
    }
    const watches = this.#answered(record.seq);
    if (record.errno === 0) return;
    for (const watch of watches) {
      if (watch.gone) continue;
      if (watch.live && record.errno === ENODEV) this.#gone(watch);
      else this.#deliveryOf(watch).error = new TunSystemError({ errno: record.errno, syscall: 'RTM_GETLINK', extack: record.extack });
    }
  }

  #dumpDone(dump: Dump, record: DoneRecord): void {
    // An error (the link gone: ENODEV) is the link answer's to report.
    for (const [id, holds] of dump.holds) {
      const watch = this.#watches.get(id)!;
      const held: Map<string, Item> = watch.held[dump.kind];
      if (record.errno === 0 && !watch.gone && watch.baselined[dump.kind]) {
        for (const [key, item] of held) {
          if (holds.has(key)) continue;
          held.delete(key);
          this.#emitItem(watch, dump.kind, false, item);
        }
      }
      watch.baselined[dump.kind] = true;
      this.#syncedIfBaselined(watch);
    }
  }

  #syncedIfBaselined(watch: Watch): void {
    if (watch.synced || !watch.live || watch.gone || !watch.baselined.addresses || !watch.baselined.routes) return;
    watch.synced = true;
    this.#deliveryOf(watch).synced = {
      up: (watch.flags & IFF_UP) !== 0, mtu: watch.mtu,
      addresses: [...watch.held.addresses.values()], routes: [...watch.held.routes.values()],
    };
  }

  // ── output ──────────────────────────────────────────────────────────────

  #subject(watch: Watch): { ifindex: number; name: string } {
    return { ifindex: watch.ifindex, name: watch.name };
  }

  #deliveryOf(watch: Watch): WatchDelivery {
    let delivery = this.#out.get(watch.id);
    if (!delivery) {
      delivery = { watch: watch.id, events: [] };
      this.#out.set(watch.id, delivery);
    }
    return delivery;
  }

  #emitItem(watch: Watch, kind: DumpKind, added: boolean, item: Item): void {
    const subject = this.#subject(watch);
    if (kind === 'addresses') {
      this.#emit(watch, { type: added ? 'address-added' : 'address-removed', ...subject, address: item as AddressInfo });
    } else {
      this.#emit(watch, { type: added ? 'route-added' : 'route-removed', ...subject, route: item as RouteInfo });
    }
  }

  #emit(watch: Watch, event: LinkEvent): void {
    this.#deliveryOf(watch).events.push(event);
  }
}
