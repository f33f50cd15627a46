// The in-memory "kernel" behind SimulatedBinding: one network namespace with
// its links, addresses, routes, TUN fds and netlink notifications. Every rule
// here was measured on a real TUN inside `unshare -n` (Linux 6.x):
//  - a fresh TUN with an fd: admin down → operstate 'down'; up → 'unknown'
//    (linkwatch only computes 'up' after a carrier transition, e.g. a
//    persistent TUN re-attached); IFF_LOWER_UP/IFF_RUNNING only while up
//  - admin down drops every IPv6 address (link-local and global) and every
//    route through the link; IPv4 addresses stay
//  - link up (with carrier and MTU >= 1280) adds an fe80::/64 link-local
//  - MTU below 1280 drops the IPv6 addresses; adding one then is EINVAL
//  - adding a route through a down link is ENETDOWN; route identity is
//    (family, destination, metric) namespace-wide (NLM_F_EXCL → EEXIST);
//    IPv6 metric 0 means 1024; deleting with metric 0 takes the first match
//  - IPv4 address identity is (address, prefix); IPv6 is the address alone
//  - an IPv6 address is announced (RTM_NEWADDR) twice: tentative, then again
//    once DAD is done with it; an IPv4 address once
//  - notifications are queued to every listening socket as the change happens;
//    a request's answer is queued behind them (see ./netlink.ts)
//  - the ring of a TUN queue holds ~500 packets; beyond it the kernel drops,
//    counted in tx_dropped; tx_packets count when the app reads
//  - writing into a down TUN is EIO, counted in rx_dropped
// Everything throws TunSystemError synchronously; the binding makes it async.

import { createHash } from 'node:crypto';
import { effectiveMetric } from '../contract/route-metric.js';
import { TunSystemError, errnoOf } from '../contract/system-error.js';
import {
  MAX_QUEUES, MIN_IPV6_MTU, formatAddress, networkOf, parseCidr,
  type NormalizedOpenOptions, type NormalizedRoute, type ParsedCidr,
} from '../contract/validate.js';
import type { AddressInfo, Family, LinkInfo, LinkStats, RouteInfo } from '../contract/types.js';
import type { AddressRecord, LinkListener, ListenerRecord, ListenerRequest, OnListenerRecords, RouteRecord } from '../contract/link-records.js';
import { SimNetlinkSocket } from './netlink.js';

export const IFF_UP = 0x1;
export const IFF_LOOPBACK = 0x8;
export const IFF_POINTOPOINT = 0x10;
export const IFF_RUNNING = 0x40;
export const IFF_NOARP = 0x80;
export const IFF_MULTICAST = 0x1000;
export const IFF_LOWER_UP = 0x10000;

/** The default ring of a TUN queue (the device's txqueuelen, 500). */
export const DEFAULT_RING_LIMIT = 500;
const DEFAULT_MTU = 1500;
// rtnetlink's numbers for a route record (linux/rtnetlink.h)
const RT_TABLE_MAIN = 254;
const RTPROT_STATIC = 4;
const RTN_UNICAST = 1;

export type AddressScope = 'global' | 'link' | 'host';

export interface SimAddress extends AddressInfo {
  scope: AddressScope;
  /** network-order bytes of the address */
  bytes: Buffer;
}

interface SimRoute {
  family: Family;
  network: ParsedCidr;
  metric: number;
  ifindex: number;
}

/** One TUN queue fd as the kernel sees it: a ring of packets waiting for the app. */
export interface TunFdEndpoint {
  readonly ring: Buffer[];
  /** Test control: the fd stops (or starts again) accepting writes at once. */
  setBlocked(blocked: boolean): void;
  /** The ring went from empty to non-empty. */
  readable(): void;
  /** The device went away under the fd: reads now fail with EBADFD. */
  linkGone(err: TunSystemError): void;
  /** The fd carries virtio headers (opened with offload): it can read a superframe. */
  readonly vnetHdr: boolean;
}

export interface SimLink {
  name: string;
  ifindex: number;
  kind: 'tun' | 'loopback';
  up: boolean;
  /** carrier as the driver sets it (a TUN has it while an fd is attached) */
  carrierOk: boolean;
  /** operstate linkwatch last computed; 'unknown' until a carrier transition */
  operRaw: 'unknown' | 'up' | 'down';
  mtu: number;
  alias: string;
  group: number;
  persistent: boolean;
  multiQueue: boolean;
  owner: number | undefined;
  ownerGroup: number | undefined;
  addresses: SimAddress[];
  fds: TunFdEndpoint[];
  stats: LinkStats;
  ringLimit: number;
  transmitted: Buffer[];
  /** bumps each time a link-local is generated, so re-generation differs like stable-privacy does */
  linkLocalGeneration: number;
  /** kernel prefix routes someone deleted ('family cidr metric'); they come back with the address or link-up */
  deletedKernelRoutes: Set<string>;
}

export interface SimulatedLinkSnapshot {
  name: string;
  ifindex: number;
  kind: 'tun' | 'loopback';
  flags: number;
  up: boolean;
  carrier: boolean;
  operstate: string;
  mtu: number;
  alias: string;
  group: number;
  persistent: boolean;
  multiQueue: boolean;
  owner: number | undefined;
  ownerGroup: number | undefined;
  /** attached queue fds (from any binding sharing this kernel) */
  attachedFds: number;
  /** every address, the kernel's fe80:: link-local included (scope 'link') */
  addresses: Array<AddressInfo & { scope: AddressScope }>;
  /** routes added by someone (what listRoutes reports) */
  routes: RouteInfo[];
  /** routes the kernel derives from addresses (proto kernel), for completeness */
  kernelRoutes: RouteInfo[];
  stats: LinkStats;
}

function zeroStats(): LinkStats {
  return { rxPackets: 0n, txPackets: 0n, rxBytes: 0n, txBytes: 0n, rxErrors: 0n, txErrors: 0n, rxDropped: 0n, txDropped: 0n };
}

function publicAddress(a: SimAddress): AddressInfo {
  return { family: a.family, address: a.address, prefixLength: a.prefixLength, cidr: a.cidr };
}

function sysError(code: string, syscall: string, interfaceName?: string, extack?: string, message?: string): TunSystemError {
  return new TunSystemError({
    code, syscall,
    ...(interfaceName === undefined ? {} : { interfaceName }),
    ...(extack === undefined ? {} : { extack }),
    ...(message === undefined ? {} : { message }),
  });
}

export interface SimKernelOptions {
  firstIfindex?: number;
  ringLimit?: number;
}

export class SimKernel {
  readonly #links = new Map<number, SimLink>();
  readonly #routes: SimRoute[] = [];
  readonly #sockets = new Set<SimNetlinkSocket>();
  #nextIfindex: number;
  #ringLimit: number;

  constructor(options: SimKernelOptions = {}) {
    this.#nextIfindex = options.firstIfindex ?? 100;
    this.#ringLimit = options.ringLimit ?? DEFAULT_RING_LIMIT;
    // A namespace always holds lo; the test runner brings it up, so it is up here.
    this.#links.set(1, {
      name: 'lo', ifindex: 1, kind: 'loopback', up: true, carrierOk: true, operRaw: 'unknown', mtu: 65536,
      alias: '', group: 0, persistent: true, multiQueue: false, owner: undefined, ownerGroup: undefined,
      addresses: [
        { ...parseAddress('127.0.0.1/8'), scope: 'host' },
        { ...parseAddress('::1/128'), scope: 'host' },
      ],
      fds: [], stats: zeroStats(), ringLimit: 0, transmitted: [], linkLocalGeneration: 0, deletedKernelRoutes: new Set(),
    });
  }

  // ── lookups ─────────────────────────────────────────────────────────────

  find(link: string | number): SimLink | undefined {
    if (typeof link === 'number') return this.#links.get(link);
    for (const each of this.#links.values()) if (each.name === link) return each;
    return undefined;
  }

  require(link: string | number, syscall: string): SimLink {
    const found = this.find(link);
    if (!found) throw sysError('ENODEV', syscall, typeof link === 'string' ? link : undefined);
    return found;
  }

  all(): SimLink[] {
    return [...this.#links.values()].sort((a, b) => a.ifindex - b.ifindex);
  }

  // ── link state as reported ──────────────────────────────────────────────

  carrier(link: SimLink): boolean {
    return link.up && link.carrierOk;
  }

  flags(link: SimLink): number {
    let flags = link.kind === 'loopback' ? IFF_LOOPBACK : IFF_POINTOPOINT | IFF_NOARP | IFF_MULTICAST;
    if (link.up) flags |= IFF_UP;
    if (this.carrier(link)) flags |= IFF_RUNNING | IFF_LOWER_UP;
    return flags;
  }

  operstate(link: SimLink): string {
    if (!link.up || !link.carrierOk) return 'down';
    return link.operRaw === 'unknown' ? 'unknown' : 'up';
  }

  info(link: SimLink): LinkInfo {
    return {
      name: link.name, ifindex: link.ifindex, flags: this.flags(link), up: link.up, carrier: this.carrier(link),
      mtu: link.mtu, operstate: this.operstate(link), alias: link.alias, group: link.group, stats: { ...link.stats },
    };
  }

  addresses(link: SimLink): AddressInfo[] {
    // IPv4 in the order added; IPv6 global before link-local, newest first within a scope (as addrconf keeps them).
    const v4 = link.addresses.filter((a) => a.family === 4);
    const v6 = link.addresses.filter((a) => a.family === 6);
    const rank = (a: SimAddress) => (a.scope === 'link' ? 1 : 0);
    const v6Sorted = v6.map((a, i) => ({ a, i })).sort((x, y) => rank(x.a) - rank(y.a) || y.i - x.i).map((x) => x.a);
    return [...v4, ...v6Sorted].map(publicAddress);
  }

  routes(link: SimLink): RouteInfo[] {
    return this.#routes.filter((r) => r.ifindex === link.ifindex).map((r) => ({ family: r.family, destination: r.network.cidr, metric: r.metric }));
  }

  kernelRoutes(link: SimLink): RouteInfo[] {
    if (!link.up || link.kind === 'loopback') return [];
    const out = new Map<string, RouteInfo>();
    for (const a of link.addresses) {
      if (a.family === 4 && a.prefixLength < 32) {
        const net = networkOf(parseAddress(a.cidr));
        out.set(`4 ${net.cidr}`, { family: 4, destination: net.cidr, metric: 0 });
      } else if (a.family === 6 && a.prefixLength < 128) {
        const net = networkOf(parseAddress(a.cidr));
        out.set(`6 ${net.cidr}`, { family: 6, destination: net.cidr, metric: 256 });
      }
    }
    return [...out.values()].filter((r) => !link.deletedKernelRoutes.has(routeKey(r)));
  }

  snapshot(link: SimLink): SimulatedLinkSnapshot {
    return {
      ...this.info(link),
      kind: link.kind, persistent: link.persistent, multiQueue: link.multiQueue, owner: link.owner,
      ownerGroup: link.ownerGroup, attachedFds: link.fds.length,
      addresses: this.addresses(link).map((a) => ({ ...a, scope: link.addresses.find((b) => b.cidr === a.cidr)!.scope })),
      routes: this.routes(link), kernelRoutes: this.kernelRoutes(link),
    };
  }

  // ── notifications ───────────────────────────────────────────────────────

  /** A netlink socket in the link, address and route groups (see ./netlink.ts); onClose runs once it is closed. */
  listen(onRecords: OnListenerRecords, onClose: () => void = () => {}): LinkListener {
    const socket: SimNetlinkSocket = new SimNetlinkSocket(onRecords, (request) => this.#answer(request), () => {
      this.#sockets.delete(socket);
      onClose();
    });
    this.#sockets.add(socket);
    return socket;
  }

  /** Every netlink socket overflows: what they had queued is lost, and each reports ENOBUFS. */
  overrunListeners(): void {
    for (const socket of this.#sockets) socket.overrun();
  }

  #notify(record: ListenerRecord): void {
    for (const socket of this.#sockets) socket.notify(record);
  }

  #linkRecord(link: SimLink, seq: number, deleted = false): ListenerRecord {
    return { type: 'link', seq, deleted, ifindex: link.ifindex, name: link.name, flags: this.flags(link), mtu: link.mtu };
  }

  #addressRecord(link: SimLink, a: SimAddress, seq: number, deleted = false): AddressRecord {
    return {
      type: 'address', seq, deleted, ifindex: link.ifindex, family: a.family, address: Buffer.from(a.bytes),
      prefixLength: a.prefixLength,
    };
  }

  /** Routes someone added (the kernel's own prefix routes are never announced here: no meaning counts them). */
  #routeRecord(route: SimRoute, seq: number, deleted = false): RouteRecord {
    return {
      type: 'route', seq, deleted, ifindex: route.ifindex, family: route.family, destination: Buffer.from(route.network.bytes),
      prefixLength: route.network.prefixLength, metric: route.metric, table: RT_TABLE_MAIN, protocol: RTPROT_STATIC, routeType: RTN_UNICAST,
    };
  }

  /** RTM_NEWADDR, twice for IPv6: addrconf announces it again once DAD has finished with it. */
  #addressAdded(link: SimLink, a: SimAddress): void {
    this.#notify(this.#addressRecord(link, a, 0));
    if (a.family === 6) this.#notify(this.#addressRecord(link, a, 0));
  }

  #answer(request: ListenerRequest): ListenerRecord[] {
    const done = (errno: number): ListenerRecord => ({ type: 'done', seq: request.seq, errno, extack: '' });
    if (request.type === 'link') {
      const link = this.#links.get(request.ifindex);
      return [link ? this.#linkRecord(link, request.seq) : done(errnoOf('ENODEV'))];
    }
    if (request.type === 'routes') {
      return [...this.#routes.filter((r) => r.ifindex === request.ifindex).map((r) => this.#routeRecord(r, request.seq)), done(0)];
    }
    const links = request.ifindex === 0 ? this.all() : [this.#links.get(request.ifindex)].filter((l) => l !== undefined);
    return [...links.flatMap((link) => link.addresses.map((a) => this.#addressRecord(link, a, request.seq))), done(0)];
  }

  /** Run a mutation, then announce the link (RTM_NEWLINK) when its admin state, carrier or MTU changed. */
  #changing(link: SimLink, mutate: () => void): void {
    const up = link.up;
    const carrier = this.carrier(link);
    const mtu = link.mtu;
    mutate();
    if (!this.#links.has(link.ifindex)) return;
    if (link.up !== up || this.carrier(link) !== carrier || link.mtu !== mtu) this.#notify(this.#linkRecord(link, 0));
  }

  #removeAddresses(link: SimLink, which: (a: SimAddress) => boolean): void {
    const removed = link.addresses.filter(which);
    link.addresses = link.addresses.filter((a) => !which(a));
    for (const a of removed) this.#notify(this.#addressRecord(link, a, 0, true));
  }

  #dropIPv6(link: SimLink): void {
    this.#removeAddresses(link, (a) => a.family === 6);
  }

  /** The link went down: its routes go. Like the kernel, IPv6 announces each (RTM_DELROUTE), IPv4 flushes silently. */
  #flushRoutes(link: SimLink): void {
    for (let i = this.#routes.length - 1; i >= 0; i--) {
      const route = this.#routes[i]!;
      if (route.ifindex !== link.ifindex) continue;
      this.#routes.splice(i, 1);
      if (route.family === 6) this.#notify(this.#routeRecord(route, 0, true));
    }
  }

  /** addrconf: a link that is up, has carrier and can carry IPv6 gets an fe80:: address. */
  #maybeAddLinkLocal(link: SimLink): void {
    if (link.kind !== 'tun' || !this.carrier(link) || link.mtu < MIN_IPV6_MTU) return;
    if (link.addresses.some((a) => a.scope === 'link')) return;
    link.linkLocalGeneration += 1;
    // stable-privacy style: an opaque interface id, different per link and per generation
    const digest = createHash('sha256').update(`${link.name}\0${link.ifindex}\0${link.linkLocalGeneration}`).digest();
    const bytes = Buffer.alloc(16);
    bytes[0] = 0xfe;
    bytes[1] = 0x80;
    digest.copy(bytes, 8, 0, 8);
    const address = formatAddress(bytes);
    const added: SimAddress = { family: 6, address, prefixLength: 64, cidr: `${address}/64`, scope: 'link', bytes };
    link.addresses.push(added);
    this.#addressAdded(link, added);
  }

  // ── TUN devices ─────────────────────────────────────────────────────────

  #allocateName(pattern: string): string {
    const taken = new Set([...this.#links.values()].map((l) => l.name));
    for (let n = 0; ; n++) {
      const candidate = pattern.replace('%d', String(n));
      if (Buffer.byteLength(candidate) > 15) throw sysError('ENFILE', 'ioctl(TUNSETIFF)', undefined, `no free name for pattern ${pattern}`);
      if (!taken.has(candidate)) return candidate;
    }
  }

  /**
   * TUNSETIFF for each queue fd, with the binding's own refusal to attach to
   * an existing interface unless asked. Returns the link the fds joined.
   */
  openTun(options: NormalizedOpenOptions, endpoints: (link: SimLink) => TunFdEndpoint[]): SimLink {
    const syscall = 'ioctl(TUNSETIFF)';
    const existing = options.name.includes('%d') ? undefined : this.find(options.name);
    let link: SimLink;
    if (existing) {
      if (!options.attachExisting) {
        throw sysError('EEXIST', syscall, existing.name, `interface ${existing.name} already exists`);
      }
      if (existing.kind !== 'tun' || existing.multiQueue !== options.multiQueue) throw sysError('EINVAL', syscall, existing.name);
      if (existing.fds.length > 0 && !existing.multiQueue) throw sysError('EBUSY', syscall, existing.name);
      if (existing.fds.length + options.queues > MAX_QUEUES) throw sysError('E2BIG', syscall, existing.name);
      link = existing;
    } else {
      const name = options.name.includes('%d') ? this.#allocateName(options.name) : options.name;
      link = {
        name, ifindex: this.#nextIfindex++, kind: 'tun', up: false, carrierOk: true, operRaw: 'unknown', mtu: DEFAULT_MTU,
        alias: '', group: 0, persistent: false, multiQueue: options.multiQueue, owner: undefined, ownerGroup: undefined,
        addresses: [], fds: [], stats: zeroStats(), ringLimit: this.#ringLimit, transmitted: [], linkLocalGeneration: 0,
        deletedKernelRoutes: new Set(),
      };
      this.#links.set(link.ifindex, link);
    }
    if (options.persist) link.persistent = true;
    if (options.owner !== undefined) link.owner = options.owner;
    if (options.group !== undefined) link.ownerGroup = options.group;
    const fds = endpoints(link);
    const hadCarrier = link.fds.length > 0;
    link.fds.push(...fds);
    if (!hadCarrier && existing) this.#setCarrier(link, true);
    return link;
  }

  setPersist(link: SimLink, persist: boolean): void {
    link.persistent = persist;
  }

  /** The fd closed (or was killed with its link). The last fd of a non-persistent TUN takes the device with it. */
  detach(link: SimLink, fd: TunFdEndpoint): void {
    const at = link.fds.indexOf(fd);
    if (at < 0) return;
    link.fds.splice(at, 1);
    if (!this.#links.has(link.ifindex) || link.fds.length > 0) return;
    if (link.persistent) this.#setCarrier(link, false);
    else this.#unregister(link);
  }

  #setCarrier(link: SimLink, carrier: boolean): void {
    if (link.carrierOk === carrier) return;
    this.#changing(link, () => {
      link.carrierOk = carrier;
      link.operRaw = carrier ? 'up' : 'down';
    });
    if (carrier) this.#maybeAddLinkLocal(link);
  }

  /** Carrier as an outside force would change it (only meaningful for tests; a TUN's carrier follows its fds). */
  forceCarrier(link: SimLink, carrier: boolean): void {
    this.#setCarrier(link, carrier);
  }

  // ── rtnetlink ───────────────────────────────────────────────────────────

  setMtu(link: SimLink, mtu: number): void {
    if (link.kind === 'tun' && mtu > 65535) {
      throw sysError('EINVAL', 'RTM_NEWLINK', link.name, 'mtu greater than device maximum');
    }
    this.#changing(link, () => { link.mtu = mtu; });
    if (mtu < MIN_IPV6_MTU) this.#dropIPv6(link);
    else this.#maybeAddLinkLocal(link);
  }

  setUp(link: SimLink, up: boolean): void {
    if (link.up === up) return;
    this.#changing(link, () => { link.up = up; });
    link.deletedKernelRoutes.clear(); // NETDEV_UP re-adds every prefix route; NETDEV_DOWN flushes them
    if (up) {
      this.#maybeAddLinkLocal(link);
    } else {
      this.#dropIPv6(link);
      this.#flushRoutes(link);
    }
  }

  setAlias(link: SimLink, alias: string): void {
    link.alias = alias;
  }

  setGroup(link: SimLink, group: number): void {
    link.group = group;
  }

  addAddress(link: SimLink, cidr: ParsedCidr): void {
    const syscall = 'RTM_NEWADDR';
    if (cidr.family === 6 && link.mtu < MIN_IPV6_MTU) throw sysError('EINVAL', syscall, link.name);
    const clash = link.addresses.find((a) => a.family === cidr.family && a.address === cidr.address
      && (cidr.family === 6 || a.prefixLength === cidr.prefixLength));
    if (clash) {
      throw sysError('EEXIST', syscall, link.name, cidr.family === 4 ? 'ipv4: Address already assigned' : 'ipv6: address already assigned');
    }
    const added: SimAddress = {
      family: cidr.family, address: cidr.address, prefixLength: cidr.prefixLength, cidr: cidr.cidr,
      scope: cidr.family === 6 && cidr.bytes[0] === 0xfe && (cidr.bytes[1]! & 0xc0) === 0x80 ? 'link' : 'global',
      bytes: Buffer.from(cidr.bytes),
    };
    link.addresses.push(added);
    // the address brings its prefix route back, even one deleted before
    const network = networkOf(cidr).cidr;
    for (const k of link.deletedKernelRoutes) if (k.startsWith(`${cidr.family} ${network} `)) link.deletedKernelRoutes.delete(k);
    this.#addressAdded(link, added);
  }

  deleteAddress(link: SimLink, cidr: ParsedCidr): void {
    const found = link.addresses.find((a) => a.family === cidr.family && a.address === cidr.address && a.prefixLength === cidr.prefixLength);
    if (!found) {
      throw sysError('EADDRNOTAVAIL', 'RTM_DELADDR', link.name, cidr.family === 4 ? 'ipv4: Address not found' : 'ipv6: address not found');
    }
    this.#removeAddresses(link, (a) => a === found);
  }

  addRoute(link: SimLink, route: NormalizedRoute): void {
    const syscall = 'RTM_NEWROUTE';
    if (!link.up) {
      throw sysError('ENETDOWN', syscall, link.name, route.family === 4 ? 'Device for nexthop is not up' : 'Nexthop device is not up');
    }
    const metric = effectiveMetric(route.family, route.metric);
    const clashes = (family: Family, cidr: string, m: number) => family === route.family && cidr === route.destination.cidr && m === metric;
    const kernelClash = this.all().some((l) => this.kernelRoutes(l).some((r) => clashes(r.family, r.destination, r.metric)));
    if (kernelClash || this.#routes.some((r) => clashes(r.family, r.network.cidr, r.metric))) throw sysError('EEXIST', syscall, link.name);
    const added: SimRoute = { family: route.family, network: route.destination, metric, ifindex: link.ifindex };
    this.#routes.push(added);
    this.#notify(this.#routeRecord(added, 0));
  }

  deleteRoute(link: SimLink, route: NormalizedRoute): void {
    // metric 0 in a delete request is a wildcard: the kernel takes the first (lowest-metric) match,
    // and that may well be the prefix route it made for an address.
    const wanted = (family: Family, cidr: string, metric: number) => family === route.family
      && cidr === route.destination.cidr && (route.metric === 0 || metric === route.metric);
    const candidates: Array<{ metric: number; remove: () => void }> = [
      ...this.#routes.filter((r) => r.ifindex === link.ifindex && wanted(r.family, r.network.cidr, r.metric))
        .map((r) => ({ metric: r.metric, remove: () => { this.#routes.splice(this.#routes.indexOf(r), 1); this.#notify(this.#routeRecord(r, 0, true)); } })),
      ...this.kernelRoutes(link).filter((r) => wanted(r.family, r.destination, r.metric))
        .map((r) => ({ metric: r.metric, remove: () => { link.deletedKernelRoutes.add(routeKey(r)); } })),
    ].sort((a, b) => a.metric - b.metric);
    const victim = candidates[0];
    if (!victim) throw sysError('ESRCH', 'RTM_DELROUTE', link.name);
    victim.remove();
  }

  deleteLink(link: SimLink): void {
    if (link.kind === 'loopback') throw sysError('EOPNOTSUPP', 'RTM_DELLINK', link.name);
    this.#unregister(link);
  }

  deleteLinkGroup(group: number): void {
    const members = this.all().filter((l) => l.group === group);
    if (members.length === 0) throw sysError('ENODEV', 'RTM_DELLINK');
    if (members.some((l) => l.kind === 'loopback')) throw sysError('EOPNOTSUPP', 'RTM_DELLINK');
    for (const link of members) this.#unregister(link);
  }

  /** unregister_netdevice: close (down), drop addresses and routes, notify, then wake every fd with EBADFD. */
  #unregister(link: SimLink): void {
    this.setUp(link, false);
    this.#removeAddresses(link, () => true);
    this.#flushRoutes(link);
    this.#links.delete(link.ifindex);
    this.#notify(this.#linkRecord(link, 0, true));
    const fds = link.fds.splice(0);
    for (const fd of fds) fd.linkGone(sysError('EBADFD', 'read', link.name));
  }

  // ── packets ─────────────────────────────────────────────────────────────

  /**
   * The kernel routes a packet into the TUN: it lands in one queue's ring
   * (chosen by flow hash unless given: the position among the attached fds,
   * as the kernel's tfiles array). Returns false when it was dropped.
   */
  inject(link: SimLink, packet: Buffer, queueIndex?: number, copy = true): boolean {
    if (link.kind !== 'tun') throw new TypeError(`inject: ${link.name} is not a TUN`);
    if (!link.up) return false; // nothing routes into a down link
    if (link.fds.length === 0) {
      link.stats.txDropped += 1n; // persistent TUN without a reader: no carrier, the qdisc drops
      return false;
    }
    const fd = queueIndex === undefined
      ? link.fds[flowHash(packet) % link.fds.length]!
      : link.fds[queueIndex];
    if (!fd) throw new RangeError(`inject: ${link.name} has no open queue ${queueIndex}`);
    if (fd.ring.length >= link.ringLimit) {
      link.stats.txDropped += 1n;
      return false;
    }
    const wasEmpty = fd.ring.length === 0;
    fd.ring.push(copy ? Buffer.from(packet) : packet);
    if (wasEmpty) fd.readable();
    return true;
  }

  /** The app read a packet off a queue: the kernel counts it as transmitted by the device. */
  countRead(link: SimLink, packet: Buffer): void {
    link.stats.txPackets += 1n;
    link.stats.txBytes += BigInt(packet.length);
  }

  /** The app wrote a packet into the TUN: the kernel receives it, or refuses with EIO when the link is down. */
  receive(link: SimLink, packet: Uint8Array): void {
    if (!this.#links.has(link.ifindex)) throw sysError('EBADFD', 'write', link.name);
    if (!link.up) {
      link.stats.rxDropped += 1n;
      throw sysError('EIO', 'write', link.name);
    }
    link.stats.rxPackets += 1n;
    link.stats.rxBytes += BigInt(packet.length);
    link.transmitted.push(Buffer.from(packet));
  }
}

function routeKey(route: RouteInfo): string {
  return `${route.family} ${route.destination} ${route.metric}`;
}

export function parseAddress(cidr: string): ParsedCidr {
  return parseCidr(cidr, 'cidr');
}

/** Same flow, same queue: hash addresses and (for TCP/UDP) ports, as the TUN's flow steering would. */
function flowHash(packet: Buffer): number {
  const version = packet[0]! >> 4;
  let key: Buffer;
  if (version === 4 && packet.length >= 20) {
    const ihl = (packet[0]! & 0x0f) * 4;
    const proto = packet[9]!;
    const ports = (proto === 6 || proto === 17) && packet.length >= ihl + 4 ? packet.subarray(ihl, ihl + 4) : Buffer.alloc(0);
    key = Buffer.concat([packet.subarray(12, 20), Buffer.from([proto]), ports]);
  } else if (version === 6 && packet.length >= 40) {
    const proto = packet[6]!;
    const ports = (proto === 6 || proto === 17) && packet.length >= 44 ? packet.subarray(40, 44) : Buffer.alloc(0);
    key = Buffer.concat([packet.subarray(8, 40), Buffer.from([proto]), ports]);
  } else {
    key = packet.subarray(0, 20);
  }
  return createHash('sha1').update(key).digest().readUInt32BE(0);
}
