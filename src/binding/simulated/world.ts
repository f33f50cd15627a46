// The test's hands and eyes in a simulated namespace: what an admin with `ip`
// would do from outside the app (synchronously, failing like `ip` would), and
// what a test needs to see (links with addresses and routes, open fds, the
// packets the app wrote), plus pushing packets in as if the kernel routed them.

import { SUPERFRAMES } from './queue.js';
import { parseCidr, normalizeRoute, validateMtu } from '../contract/validate.js';
import type { SimKernel, SimLink, SimulatedLinkSnapshot } from './kernel.js';
import type { RouteSpec } from '../contract/types.js';

export interface OpenFdInfo {
  ifindex: number;
  name: string;
  /** position among the link's attached queue fds */
  queueIndex: number;
}

export class SimulatedWorld {
  readonly #kernel: SimKernel;

  constructor(kernel: SimKernel) {
    this.#kernel = kernel;
  }

  #find(link: string | number, syscall: string): SimLink {
    return this.#kernel.require(link, syscall);
  }

  // ── looking ─────────────────────────────────────────────────────────────

  /** Every link of the namespace (lo included), with addresses and routes, as `ip -j` would show them. */
  links(): SimulatedLinkSnapshot[] {
    return this.#kernel.all().map((link) => this.#kernel.snapshot(link));
  }

  /** One link, or undefined when it does not exist. */
  link(nameOrIndex: string | number): SimulatedLinkSnapshot | undefined {
    const link = this.#kernel.find(nameOrIndex);
    return link ? this.#kernel.snapshot(link) : undefined;
  }

  /** Queue fds attached to TUN links, from every binding on this namespace. */
  openFds(): OpenFdInfo[] {
    return this.#kernel.all().flatMap((link) => link.fds.map((_, queueIndex) => ({ ifindex: link.ifindex, name: link.name, queueIndex })));
  }

  // ── acting from outside (like `ip link/addr/route ...`) ─────────────────

  deleteLink(nameOrIndex: string | number): void {
    this.#kernel.deleteLink(this.#find(nameOrIndex, 'RTM_DELLINK'));
  }

  setUp(nameOrIndex: string | number, up: boolean): void {
    this.#kernel.setUp(this.#find(nameOrIndex, 'RTM_NEWLINK'), up);
  }

  setMtu(nameOrIndex: string | number, mtu: number): void {
    this.#kernel.setMtu(this.#find(nameOrIndex, 'RTM_NEWLINK'), validateMtu(mtu));
  }

  addAddress(nameOrIndex: string | number, cidr: string): void {
    this.#kernel.addAddress(this.#find(nameOrIndex, 'RTM_NEWADDR'), parseCidr(cidr, 'cidr'));
  }

  removeAddress(nameOrIndex: string | number, cidr: string): void {
    this.#kernel.deleteAddress(this.#find(nameOrIndex, 'RTM_DELADDR'), parseCidr(cidr, 'cidr'));
  }

  addRoute(nameOrIndex: string | number, route: RouteSpec | string): void {
    this.#kernel.addRoute(this.#find(nameOrIndex, 'RTM_NEWROUTE'), normalizeRoute(route));
  }

  removeRoute(nameOrIndex: string | number, route: RouteSpec | string): void {
    this.#kernel.deleteRoute(this.#find(nameOrIndex, 'RTM_DELROUTE'), normalizeRoute(route));
  }

  /**
   * Force the carrier. A TUN's carrier really follows its fds (on while one
   * is attached); this is for apps that must cope with carrier loss.
   */
  setCarrier(nameOrIndex: string | number, carrier: boolean): void {
    this.#kernel.forceCarrier(this.#find(nameOrIndex, 'RTM_NEWLINK'), carrier);
  }

  /**
   * As if the namespace changed faster than the app read its notifications:
   * every monitor socket loses what it had queued and reports ENOBUFS, and the
   * monitors re-sync (a change that was lost is still reported).
   */
  overrunMonitors(): void {
    this.#kernel.overrunListeners();
  }

  // ── traffic ─────────────────────────────────────────────────────────────

  /**
   * As if the kernel routed `packet` into the TUN: it is queued for the
   * app's readers (the queue picked by flow hash unless queueIndex is given).
   * Returns false when the kernel would drop it: link down, no reader
   * attached, or that queue's ring full (counted in the link's txDropped).
   */
  inject(nameOrIndex: string | number, packet: Uint8Array, queueIndex?: number): boolean {
    if (!(packet instanceof Uint8Array) || packet.length === 0) throw new TypeError('inject: packet must be a non-empty Uint8Array');
    return this.#kernel.inject(this.#find(nameOrIndex, 'inject'), Buffer.from(packet), queueIndex);
  }

  /**
   * As if the kernel handed the TUN a GSO superframe: `frame` is a
   * virtio_net_hdr (10 bytes) then the superframe. Segmented queues read it
   * split into ordinary packets (by the addon's own split), raw queues as it
   * is. Refused (TypeError) for a TUN opened without offload: its reader
   * could not take one. Returns false when the kernel would drop it.
   */
  injectSuperframe(nameOrIndex: string | number, frame: Uint8Array, queueIndex?: number): boolean {
    if (!(frame instanceof Uint8Array) || frame.length <= 10) throw new TypeError('injectSuperframe: frame must be a virtio_net_hdr then a packet');
    const link = this.#find(nameOrIndex, 'injectSuperframe');
    if (!link.fds.some((fd) => fd.vnetHdr)) throw new TypeError(`injectSuperframe: ${link.name} was opened without offload`);
    const buffer = Buffer.from(frame);
    SUPERFRAMES.add(buffer);
    return this.#kernel.inject(link, buffer, queueIndex, false);
  }

  /** Packets the app wrote into the TUN, as the kernel received them (oldest first). */
  transmitted(nameOrIndex: string | number, options: { clear?: boolean } = {}): Buffer[] {
    const link = this.#find(nameOrIndex, 'transmitted');
    const out = link.transmitted.map((packet) => Buffer.from(packet));
    if (options.clear) link.transmitted.length = 0;
    return out;
  }

  /** Packets each queue ring holds before the kernel drops (default 500, a TUN's txqueuelen). */
  setRingLimit(nameOrIndex: string | number, limit: number): void {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`setRingLimit: limit must be a positive integer, got ${limit}`);
    this.#find(nameOrIndex, 'setRingLimit').ringLimit = limit;
  }

  /** Make every queue fd of the link stop accepting writes (write() returns false) or accept them again ('drain'). */
  blockWrites(nameOrIndex: string | number, blocked: boolean): void {
    for (const fd of this.#find(nameOrIndex, 'blockWrites').fds) fd.setBlocked(blocked);
  }
}
