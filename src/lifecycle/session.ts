// What one adapter holds in the kernel: its device (queue fds), the link it
// made, and every persistent link it made but has not yet seen deleted. The
// create / cleanup / recover / monitor actors all work on this one record, so
// nothing made is ever out of reach of cleanup.

import { EventEmitter } from 'node:events';
import type { PacketQueue, TunBinding, TunDevice } from '../binding/contract/types.js';
import type { Log } from '../log.js';
import type { AdapterLink } from '../options.js';

/** ifalias prefix marking an interface this package made (followed by the owning pid). */
export const TAG_PREFIX = 'tun-lifecycle:';

export function ownTag(): string {
  return `${TAG_PREFIX}${process.pid}`;
}

/**
 * IFLA_GROUP every interface this process makes is put in at creation (free:
 * it rides in the same RTM_NEWLINK as the MTU and alias). When all of them
 * are cleaned up together, one RTM_DELLINK for this group deletes them all
 * without tagging each first. High bit set, then the pid: no two live
 * processes of one pid namespace share it, and per-batch groups (0x6c……) never
 * collide with it.
 */
export function adapterGroup(): number {
  return (0x80000000 | (process.pid & 0x7fffffff)) >>> 0;
}

/**
 * Events: 'packets' (batch: Buffer[], queue: number), 'queue-error' (err: Error),
 * 'drain' (queue: number).
 */
export class InterfaceSession extends EventEmitter {
  device: TunDevice | undefined;
  /** Name asked for (may be a 'tun%d' pattern). */
  readonly requestedName: string;
  /** The kernel's name once known. */
  name: string;
  ifindex: number | undefined;
  /** Persistent links this session made that are not yet verified deleted (ifindex → name). */
  readonly madeLinks = new Map<number, string>();
  /** The link is being deleted under its fds on purpose: their EBADFD is expected. */
  releasing = false;
  /** ifindex that a batch's post-deletion link dump showed absent (verification shares that read). */
  confirmedGone: number | undefined;
  #tail: Promise<unknown> = Promise.resolve();
  readonly #detach: Array<() => void> = [];

  constructor(
    readonly binding: TunBinding,
    /** What to make and verify, resolved once per adapter. */
    readonly link: AdapterLink,
    name: string,
    readonly log: Log,
  ) {
    super();
    this.requestedName = name;
    this.name = name;
  }

  /** Take ownership of a freshly opened device: listen to its queues. */
  adopt(device: TunDevice): void {
    this.device = device;
    this.releasing = false;
    this.confirmedGone = undefined;
    this.name = device.name;
    this.ifindex = device.ifindex;
    if (device.persistent) this.madeLinks.set(device.ifindex, device.name);
    for (const queue of device.queues) this.#listen(queue);
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
