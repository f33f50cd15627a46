// One simulated TUN queue fd: the app's side of a kernel ring. Same event
// semantics as the native queue: starts paused, a 'packets' listener resumes
// it, packets arrive in batches, write() returns false under backpressure and
// 'drain' follows, a device deleted underneath gives 'error' (EBADFD) then
// 'close', and 'close' comes exactly once.

import { EventEmitter } from 'node:events';
import { TunSystemError } from '../contract/system-error.js';
import { validatePacket } from '../contract/validate.js';
import type { SimKernel, SimLink, TunFdEndpoint } from './kernel.js';
import type { PacketQueue, QueueStats } from '../contract/types.js';

/** Packets handed to JS per 'packets' event, like the native batch limit. */
export const READ_BATCH = 64;

// Captured at load: fake timers installed by a test must not freeze the "kernel's" I/O.
const ioTick: (fn: () => void) => void = setImmediate.bind(globalThis);

export class SimulatedPacketQueue extends EventEmitter implements PacketQueue, TunFdEndpoint {
  readonly index: number;
  readonly ring: Buffer[] = [];
  readonly #kernel: SimKernel;
  readonly #link: SimLink;
  readonly #mtu: () => number;
  readonly #onClosed: () => void;
  #closed = false;
  #flowing = false;
  #scheduled = false;
  #blocked = false;
  #pending: Buffer[] = [];
  #owesDrain = false;
  /** set when the device was deleted under this fd: every read or write now fails with EBADFD */
  #gone: TunSystemError | undefined;
  #failing = false;
  readonly #stats: QueueStats = { rxPackets: 0, rxBytes: 0, txPackets: 0, txBytes: 0, txErrors: 0, rxErrors: 0, pendingWrites: 0 };

  constructor(kernel: SimKernel, link: SimLink, index: number, mtu: () => number, onClosed: () => void) {
    super();
    this.index = index;
    this.#kernel = kernel;
    this.#link = link;
    this.#mtu = mtu;
    this.#onClosed = onClosed;
    this.on('newListener', (event: string | symbol) => {
      if (event === 'packets') this.resume();
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  write(packet: Uint8Array): boolean {
    validatePacket(packet, this.#mtu());
    if (this.#closed) {
      this.#stats.txErrors += 1;
      throw new TunSystemError({ code: 'EBADF', syscall: 'write', interfaceName: this.#link.name });
    }
    if (this.#gone) {
      // the write hit a dead fd: like a read error, it ends the queue
      this.#failSoon(new TunSystemError({ code: 'EBADFD', syscall: 'write', interfaceName: this.#link.name }));
      return false;
    }
    if (this.#blocked || this.#pending.length > 0) {
      this.#pending.push(Buffer.from(packet));
      this.#stats.pendingWrites = this.#pending.length;
      this.#owesDrain = true;
      return false;
    }
    this.#send(packet);
    return true;
  }

  #send(packet: Uint8Array): void {
    try {
      this.#kernel.receive(this.#link, packet);
    } catch (err) {
      this.#stats.txErrors += 1;
      throw err;
    }
    this.#stats.txPackets += 1;
    this.#stats.txBytes += packet.length;
  }

  pause(): void {
    this.#flowing = false;
  }

  resume(): void {
    if (this.#closed) return;
    this.#flowing = true;
    if (this.#gone) this.#failSoon();
    else this.#schedule();
  }

  stats(): QueueStats {
    return { ...this.#stats, pendingWrites: this.#pending.length };
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#flowing = false;
    this.ring.length = 0;
    this.#pending = [];
    this.#kernel.detach(this.#link, this);
    this.#onClosed();
    process.nextTick(() => this.emit('close'));
  }

  // ── the kernel's side ───────────────────────────────────────────────────

  readable(): void {
    this.#schedule();
  }

  linkGone(err: TunSystemError): void {
    if (this.#closed) return;
    this.ring.length = 0;
    this.#gone = err;
    // A reading queue hears it at once; a paused one only when it next reads or writes, as with uv_poll.
    if (this.#flowing) this.#failSoon();
  }

  #failSoon(err: TunSystemError = this.#gone!): void {
    if (this.#failing) return;
    this.#failing = true;
    ioTick(() => {
      if (this.#closed) return;
      this.#stats.rxErrors += 1;
      // closed before 'error', so a listener that inspects the queue sees it closed; 'close' follows
      this.close();
      this.emit('error', err);
    });
  }

  /** Test control: make the fd "not writable", so writes queue and write() returns false until unblocked. */
  setBlocked(blocked: boolean): void {
    this.#blocked = blocked;
    if (!blocked) ioTick(() => this.#flush());
  }

  #flush(): void {
    if (this.#closed || this.#blocked) return;
    while (this.#pending.length > 0) {
      const packet = this.#pending.shift()!;
      try {
        this.#send(packet);
      } catch {
        // counted in txErrors by #send; a queued write has no caller left to throw to
      }
    }
    this.#stats.pendingWrites = 0;
    if (this.#owesDrain) {
      this.#owesDrain = false;
      this.emit('drain');
    }
  }

  #schedule(): void {
    if (this.#scheduled || !this.#flowing || this.ring.length === 0) return;
    this.#scheduled = true;
    ioTick(() => {
      this.#scheduled = false;
      if (this.#closed || !this.#flowing || this.ring.length === 0) return;
      const batch = this.ring.splice(0, READ_BATCH);
      for (const packet of batch) {
        this.#kernel.countRead(this.#link, packet);
        this.#stats.rxPackets += 1;
        this.#stats.rxBytes += packet.length;
      }
      this.emit('packets', batch);
      this.#schedule();
    });
  }
}
