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
//  - Its address baseline is an RTM_GETADDR dump asked for right after; the
//    addresses it lists are taken in silently. (A socket runs one dump at a
//    time: the listener reads the previous one off before it sends the next.)
//  - IPv6 repeats RTM_NEWADDR when an address's flags change (DAD, link up):
//    an address the watch already holds is no news.
//  - A link change is a diff against what the watch last knew: admin up/down
//    (IFF_UP), carrier (IFF_LOWER_UP), MTU. RTM_DELLINK is 'deleted', and
//    nothing follows it.
//  - After an overrun (ENOBUFS: notifications were lost) every watch hears
//    the error, and its link and addresses are asked for again; the answers
//    are diffed like notifications, so a missed change still shows: a link
//    answered with ENODEV is 'deleted', an address missing from the new dump
//    is 'address-removed', one new in it 'address-added'.

import { TunSystemError } from './system-error.js';
import { formatAddress } from './validate.js';
import type { AddressRecord, DoneRecord, LinkRecord, ListenerRecord, ListenerRequest } from './link-records.js';
import type { AddressInfo, LinkEvent } from './types.js';

const IFF_UP = 0x1;
const IFF_LOWER_UP = 0x10000;
const ENODEV = 19;
const ENOBUFS = 105;

/** What one watch is told after a burst of records: its events in order, then an error if any. */
export interface WatchDelivery {
  watch: number;
  events: LinkEvent[];
  error?: TunSystemError;
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
  /** By cidr. */
  addresses: Map<string, AddressInfo>;
  /** Its first address dump is complete: a later one is a diff. */
  baselined: boolean;
}

/** Per watch a dump serves: what the dump (and notifications read meanwhile) say its link holds, by cidr. */
type AddressDump = Map<number, Map<string, AddressInfo>>;

function addressOf(record: AddressRecord): AddressInfo {
  const address = formatAddress(record.address);
  return { family: record.family, address, prefixLength: record.prefixLength, cidr: `${address}/${record.prefixLength}` };
}

export class LinkChanges {
  readonly #watches = new Map<number, Watch>();
  readonly #byIfindex = new Map<number, Watch[]>();
  /** RTM_GETLINK sequence numbers awaiting their answer → the watches it serves. */
  readonly #linkRequests = new Map<number, number[]>();
  /** RTM_GETADDR dumps still being answered, by sequence number. */
  readonly #dumps = new Map<number, AddressDump>();
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
      id: this.#nextId++, ifindex, name: '', live: false, gone: false, flags: 0, mtu: 0, addresses: new Map(),
      baselined: false,
    };
    this.#watches.set(watch.id, watch);
    const list = this.#byIfindex.get(ifindex);
    if (list) list.push(watch);
    else this.#byIfindex.set(ifindex, [watch]);
    this.#askLink(ifindex, [watch.id]);
    this.#askAddresses(ifindex, [watch.id]);
    return { id: watch.id, requests: this.#takeRequests() };
  }

  /** The watch is forgotten; answers still due for it are dropped when they come. */
  unwatch(id: number): void {
    const watch = this.#watches.get(id);
    if (!watch) return;
    this.#watches.delete(id);
    for (const dump of this.#dumps.values()) dump.delete(id);
    const list = this.#byIfindex.get(watch.ifindex)!;
    list.splice(list.indexOf(watch), 1);
    if (list.length === 0) this.#byIfindex.delete(watch.ifindex);
  }

  /** One burst of records in socket order; overrun: the socket reported ENOBUFS while they were read. */
  receive(records: readonly ListenerRecord[], overrun = false): LinkChangesOutput {
    for (const record of records) {
      switch (record.type) {
        case 'link': this.#onLink(record); break;
        case 'address': this.#onAddress(record); break;
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

  #askAddresses(ifindex: number, watches: number[]): void {
    const seq = this.#nextSeq();
    this.#dumps.set(seq, new Map(watches.map((id) => [id, new Map()])));
    this.#requests.push({ type: 'addresses', seq, ifindex });
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
      this.#askAddresses(ifindex, ids);
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

  #onAddress(record: AddressRecord): void {
    if (record.seq !== 0) {
      const dump = this.#dumps.get(record.seq);
      if (dump && !record.deleted) this.#dumped(dump, record);
      return;
    }
    const address = addressOf(record);
    for (const watch of this.#byIfindex.get(record.ifindex) ?? []) {
      if (!watch.live || watch.gone) continue;
      // A dump in flight agrees with whatever was read after it started.
      const holds = [...this.#dumps.values()].flatMap((dump) => dump.get(watch.id) ?? []);
      if (record.deleted) {
        for (const held of holds) held.delete(address.cidr);
        watch.addresses.delete(address.cidr);
        this.#emit(watch, { type: 'address-removed', ...this.#subject(watch), address });
      } else {
        for (const held of holds) held.set(address.cidr, address);
        if (watch.addresses.has(address.cidr)) continue;
        watch.addresses.set(address.cidr, address);
        this.#emit(watch, { type: 'address-added', ...this.#subject(watch), address });
      }
    }
  }

  /** A part of a dump: an address the link holds now. */
  #dumped(dump: AddressDump, record: AddressRecord): void {
    const address = addressOf(record);
    for (const [id, holds] of dump) {
      const watch = this.#watches.get(id)!;
      if (watch.ifindex !== record.ifindex || watch.gone) continue;
      holds.set(address.cidr, address);
      if (watch.addresses.has(address.cidr)) continue;
      watch.addresses.set(address.cidr, address);
      // The first dump of a watch is its baseline; a later one found what an overrun hid.
      if (watch.baselined) this.#emit(watch, { type: 'address-added', ...this.#subject(watch), address });
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

  #dumpDone(dump: AddressDump, record: DoneRecord): void {
    // An error (the link gone: ENODEV) is the link answer's to report.
    for (const [id, holds] of dump) {
      const watch = this.#watches.get(id)!;
      if (record.errno === 0 && !watch.gone && watch.baselined) {
        for (const [cidr, address] of watch.addresses) {
          if (holds.has(cidr)) continue;
          watch.addresses.delete(cidr);
          this.#emit(watch, { type: 'address-removed', ...this.#subject(watch), address });
        }
      }
      watch.baselined = true;
    }
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

  #emit(watch: Watch, event: LinkEvent): void {
    this.#deliveryOf(watch).events.push(event);
  }
}
