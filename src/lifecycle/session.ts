// What one adapter holds in the kernel: its device (queue fds), the link it
// made, and every persistent link it made but has not yet seen deleted. The
// create / cleanup / recover / monitor actors all work on this one record, so
// nothing made is ever out of reach of cleanup.

import { events } from '../binding/contract/builtins.js';
import type { PacketQueue, RouteSpec, TunBinding, TunDevice } from '../binding/contract/types.js';
import type { Log } from '../log.js';
import type { AdapterLink } from '../options.js';
import { effectiveMetric, routeKey } from '../binding/contract/route-metric.js';

/**
 * Events: 'packets' (batch: Buffer[], queue: number), 'queue-error' (err: Error),
 * 'drain' (queue: number).
 */
export class InterfaceSession extends events.EventEmitter {
  // Written only here, through the intention methods below: what the session
  // holds is one record every actor reads, so each change has one author.
  #device: TunDevice | undefined;
  #name: string;
  #ifindex: number | undefined;
  readonly #madeLinks = new Map<number, string>();
  #releasing = false;
  #confirmedGone: number | undefined;
  #link: AdapterLink;
  #proposed: AdapterLink | undefined;
  #replaced: AdapterLink | undefined;
  readonly #strays = { addresses: new Set<string>(), routes: new Map<string, Required<RouteSpec>>() };
  /** Name asked for (may be a 'tun%d' pattern). */
  readonly requestedName: string;
  #tail: Promise<unknown> = Promise.resolve();
  readonly #detach: Array<() => void> = [];

  constructor(
    readonly binding: TunBinding,
    /** What to make and verify at creation (resolved once per adapter; reconfigure() replaces it). */
    link: AdapterLink,
    name: string,
    readonly log: Log,
  ) {
    super();
    this.requestedName = name;
    this.#name = name;
    this.#link = link;
  }

  /**
   * The desired configuration: what create, recovery, verification and the
   * link monitor converge the kernel to. Read it at the moment of use (never
   * keep it): reconfigure() replaces it.
   */
  get link(): AdapterLink {
    return this.#link;
  }

  /** The configuration a reconfiguration in flight is applying (undefined when none is). */
  get proposed(): AdapterLink | undefined {
    return this.#proposed;
  }

  /** A reconfiguration will apply `link`: until it commits, the desired configuration stays the current one. */
  propose(link: AdapterLink): void {
    this.#proposed = link;
  }

  /** The kernel holds the proposed configuration: it is the desired one now. */
  commitProposed(): void {
    if (this.#proposed) this.#link = this.#proposed;
    this.#proposed = undefined;
    this.#replaced = undefined;
  }

  /** The desired configuration desire() replaced, until a reconfiguration removed what only it listed. */
  get replaced(): AdapterLink | undefined {
    return this.#replaced;
  }

  /** The reconfiguration was given up (rolled back, or to be recovered): the desired configuration stays. */
  dropProposed(): void {
    this.#proposed = undefined;
  }

  /** The desired configuration replaced outright (reconfigure() in error: recovery converges to it). */
  desire(link: AdapterLink): void {
    // What only the old one listed is ours and no longer desired: recovery removes it.
    for (const address of this.#link.addresses) this.mayHaveLeft({ address: address.cidr });
    for (const route of this.#link.routes) {
      this.mayHaveLeft({ route: { destination: route.destination.cidr, metric: effectiveMetric(route.family, route.metric) } });
    }
    this.#replaced ??= this.#link;
    this.#link = link;
    this.#proposed = undefined;
  }

  /**
   * Addresses and routes this adapter added that no desired configuration may
   * list any more (a reconfiguration whose undo failed, a desired configuration
   * replaced in error): recovery removes the
   * ones still present and not desired, then forgets them. Nothing else is
   * ever removed by recovery: what someone else made is never touched.
   */
  get strays(): { readonly addresses: ReadonlySet<string>; readonly routes: ReadonlyMap<string, Required<RouteSpec>> } {
    return this.#strays;
  }

  /** These were added by us and may have been left in the kernel. */
  mayHaveLeft(made: { address?: string; route?: Required<RouteSpec> }): void {
    if (made.address) this.#strays.addresses.add(made.address);
    if (made.route) this.#strays.routes.set(routeKey(made.route.destination, made.route.metric), made.route);
  }

  /** Recovery removed the strays (or found them gone, or desired again). */
  forgetStrays(): void {
    this.#strays.addresses.clear();
    this.#strays.routes.clear();
  }

  get device(): TunDevice | undefined {
    return this.#device;
  }

  /** The kernel's name once known (the requested one before). */
  get name(): string {
    return this.#name;
  }

  get ifindex(): number | undefined {
    return this.#ifindex;
  }

  /** Persistent links this session made that are not yet verified deleted (ifindex → name). */
  get madeLinks(): ReadonlyMap<number, string> {
    return this.#madeLinks;
  }

  /** The link is being deleted under its fds on purpose: their EBADFD is expected. */
  get releasing(): boolean {
    return this.#releasing;
  }

  /** ifindex that a batch's post-deletion link dump showed absent (verification shares that read). */
  get confirmedGone(): number | undefined {
    return this.#confirmedGone;
  }

  /** Take ownership of a freshly opened device: listen to its queues. */
  adopt(device: TunDevice): void {
    this.#device = device;
    this.#releasing = false;
    this.#confirmedGone = undefined;
    this.#name = device.name;
    this.#ifindex = device.ifindex;
    if (device.persistent) this.#madeLinks.set(device.ifindex, device.name);
    for (const queue of device.queues) this.#listen(queue);
  }

  /** A link this session made needs no deleting any more: it was deleted, or found gone. */
  forgetLink(ifindex: number): void {
    this.#madeLinks.delete(ifindex);
  }

  /** The link is about to be deleted under its open fds: the queues' errors that follow are expected. */
  markReleasing(): void {
    this.#releasing = true;
  }

  /** A link dump taken after the deletion showed this link absent: verification need not ask again. */
  confirmGone(ifindex: number): void {
    this.#confirmedGone = ifindex;
    this.forgetLink(ifindex);
  }

  #listen(queue: PacketQueue): void {
    const onPackets = (batch: Buffer[]) => this.emit('packets', batch, queue.index);
    // Always listened to: an 'error' nobody hears would throw out of the emitter.
    const onError = (err: Error) => {
      this.log(this.releasing ? 'debug' : 'warn', { interface: this.name, queue: queue.index, error: err }, `tun-lifecycle: ${this.name} queue ${queue.index} failed`);
      this.emit('queue-error', err);
    };
    const onDrain = () => this.emit('drain', queue.index);
    queue.on('packets', onPackets);
    queue.on('error', onError);
    queue.on('drain', onDrain);
    this.#detach.push(() => {
      queue.off('packets', onPackets);
      queue.off('drain', onDrain);
      // the error listener stays: a late error after close must still be heard
    });
  }

  /** Close the queue fds (synchronous, idempotent). Persistent links stay; see release(). */
  closeFds(): void {
    for (const detach of this.#detach.splice(0)) detach();
    this.device?.close();
  }

  get fdsOpen(): boolean {
    const device = this.device;
    if (!device) return false;
    return !device.closed || device.queues.some((queue) => !queue.closed);
  }

  /**
   * Run teardown-like work one at a time: a cleanup that outlived its deadline
   * is joined, not raced, by the next one.
   */
  serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(work, work);
    this.#tail = run.catch(() => undefined);
    return run;
  }

  pause(): void {
    for (const queue of this.device?.queues ?? []) if (!queue.closed) queue.pause();
  }

  resume(): void {
    for (const queue of this.device?.queues ?? []) if (!queue.closed) queue.resume();
  }
}
