// TunDevice and PacketQueue over the addon's queue objects. The addon reads
// a whole batch into one buffer and calls in once; here it is cut into one
// Buffer per packet (views, no copies) and emitted as one 'packets' event.

import { events } from '../contract/builtins.js';
import type { RawDevice, RawQueue } from './addon.js';
import { TunSystemError } from '../contract/system-error.js';
import type { KernelView, OffloadState, PacketQueue, QueueStats, TunDevice } from '../contract/types.js';
import { validateBoolean, validatePacket } from '../contract/validate.js';
import { probeApplies, probeRefused, switchCoalescing, validateRawFrame, validateSwitches } from '../contract/offload.js';

/** Most packets per batch the addon delivers (kMaxBatch in native/queue.h: a split superframe may bring more than kBatch). */
const BATCH_LIMIT = 128;

/**
 * Where the addon writes a batch's packet lengths, shared by every queue of
 * this thread: it fills them right before calling one queue's #onPackets,
 * which reads them all before emitting, and no other delivery can run in
 * between (deliveries start only from the loop). One array instead of one per
 * queue spares each open a fresh ArrayBuffer, which costs more than the rest
 * of a queue's setup.
 */
const BATCH_LENGTHS = new Uint32Array(BATCH_LIMIT);

/** Write errors after which the fd is useless (device deleted, fd broken): they end the queue. EIO (link down) is thrown, not fatal. */
const FATAL_WRITE_ERRORS = new Set(['EBADFD', 'EBADF', 'ENODEV', 'ENXIO', 'EPIPE']);

/**
 * Made in two steps so the binding can build the JavaScript side of a queue
 * while the threadpool opens the device (see NativeBinding.open): the
 * constructor holds nothing of the kernel's; attach() hands it its addon
 * queue. Nobody sees a queue before it is attached.
 */
export class NativePacketQueue extends events.EventEmitter implements PacketQueue {
  #raw!: RawQueue;
  #device!: NativeTunDevice;
  readonly #lengths = BATCH_LENGTHS;
  #closed = false;
  /** Handed to another thread: this side reads nothing and writes nothing. */
  #elsewhere = false;
  /**
   * Segmented mode: packets written this turn, coalesced natively right after
   * the current callback (process.nextTick) — the added latency is bounded by
   * the callback that wrote them, less than one loop turn.
   */
  #gathered: Uint8Array[] = [];
  /** The last native write queued behind the backlog: write() says false until 'drain'. */
  #backlogged = false;
  readonly #flushGathered = (): void => this.#flush();

  constructor(readonly index: number) {
    super();
    // Like a stream's 'data': listening for packets starts the flow.
    this.on('newListener', (event: string | symbol) => {
      if (event === 'packets') this.resume();
    });
  }

  /** @internal Once, before the queue is handed out. */
  attach(raw: RawQueue, device: NativeTunDevice): void {
    this.#raw = raw;
    this.#device = device;
    raw.bind(
      (batch, count) => this.#onPackets(batch, count),
      (err) => this.#onFatal(err),
      () => {
        this.#backlogged = false;
        this.emit('drain');
      },
      this.#lengths,
    );
  }

  get closed(): boolean {
    return this.#closed;
  }

  #onPackets(batch: Buffer, count: number): void {
    const packets = new Array<Buffer>(count);
    let offset = 0;
    for (let i = 0; i < count; i++) {
      const end = offset + this.#lengths[i]!;
      packets[i] = batch.subarray(offset, end);
      offset = end;
    }
    this.emit('packets', packets);
  }

  // The addon already closed the fd; say why, then that it closed.
  #onFatal(err: TunSystemError): void {
    this.#markClosed();
    try {
      this.emit('error', err);
    } finally {
      process.nextTick(() => this.emit('close'));
    }
  }

  #markClosed(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#device.queueClosed();
  }

  write(packet: Uint8Array): boolean {
    const mode = this.#device.framing;
    if (mode === 'raw') validateRawFrame(packet, 'packet');
    else validatePacket(packet, this.#device.mtu);
    this.#checkOpen();
    if (mode !== 'segmented') return this.#result(this.#raw.write(packet), 'write', true);
    if (this.#gathered.length === 0) process.nextTick(this.#flushGathered);
    this.#gathered.push(packet);
    return !this.#backlogged;
  }

  writeBatch(packets: readonly Uint8Array[]): boolean {
    if (!Array.isArray(packets)) throw new TypeError('packets must be an array of Buffers or Uint8Arrays');
    const raw = this.#device.framing === 'raw';
    const mtu = this.#device.mtu;
    for (let i = 0; i < packets.length; i++) {
      const p = packets[i];
      try {
        if (raw) validateRawFrame(p);
        else validatePacket(p, mtu);
      } catch {
        // Named only when refused: a name per packet is a string built per packet.
        if (raw) validateRawFrame(p, `packets[${i}]`);
        else validatePacket(p, mtu, `packets[${i}]`);
      }
    }
    this.#checkOpen();
    // What write() gathered goes first: order is kept.
    const batch = this.#gathered.length === 0 ? packets : [...this.#takeGathered(), ...packets];
    return this.#result(this.#raw.writeBatch(batch), 'write', true);
  }

  #checkOpen(): void {
    if (this.#closed || this.#elsewhere) throw new TunSystemError({ code: 'EBADF', syscall: 'write', interfaceName: this.#device.name });
  }

  #takeGathered(): Uint8Array[] {
    const gathered = this.#gathered;
    this.#gathered = [];
    return gathered;
  }

  #flush(): void {
    if (this.#gathered.length === 0 || this.#closed || this.#elsewhere) {
      this.#gathered = [];
      return;
    }
    // Nobody is on the stack to throw to: a refused frame is counted
    // (txErrors); a fatal error ends the queue as a read error does.
    this.#result(this.#raw.writeBatch(this.#takeGathered()), 'write', false);
  }

  /** 1 written, 0 queued (backpressure), negative errno. */
  #result(result: number, syscall: string, throwing: boolean): boolean {
    if (result === 1) return true;
    if (result === 0) {
      this.#backlogged = true;
      return false;
    }
    const err = new TunSystemError({ errno: -result, syscall, interfaceName: this.#device.name });
    if (!FATAL_WRITE_ERRORS.has(err.code)) {
      if (throwing) throw err;
      return false;
    }
    // The device is gone under the fd: end the queue the same way a read error does.
    this.#raw.close();
    process.nextTick(() => this.#onFatal(err));
    return false;
  }

  /** @internal */
  probeCoalesce(): number {
    return this.#closed || this.#elsewhere ? 9 /* EBADF */ : this.#raw.probeCoalesce();
  }

  /** @internal */
  setCoalesce(tcp: boolean, udp: boolean): { tcp: boolean; udp: boolean } {
    return this.#closed || this.#elsewhere ? { tcp, udp } : this.#raw.setCoalesce(tcp, udp);
  }

  /**
   * For relays that write what they read inside the 'packets' listener: with
   * true, every batch is a view of one read buffer that the next read
   * overwrites, so a packet is valid only until the listener returns (and the
   * process.nextTick callbacks it queued have run: write()'s gathering is
   * covered). No allocation per batch, and the buffer stays in the CPU's
   * cache. Keep a packet longer only as a copy (Buffer.from(packet)).
   * Default false: packets live as long as they are referenced. Not carried
   * by handOff(): the other thread's queue starts with false.
   */
  reuseReadBuffer(on: boolean): void {
    validateBoolean(on, 'on');
    if (!this.#closed && !this.#elsewhere) this.#raw.reuseReadBuffer(on);
  }

  pause(): void {
    if (!this.#closed && !this.#elsewhere) this.#raw.pause();
  }

  resume(): void {
    if (!this.#closed && !this.#elsewhere) this.#raw.resume();
  }

  stats(): QueueStats {
    return this.#raw.stats();
  }

  /** @internal TUNSETPERSIST through this queue's fd. */
  setPersist(persist: boolean): Promise<void> {
    return this.#raw.setPersist(persist);
  }

  close(): void {
    if (this.#closed || this.#elsewhere) return;
    this.#raw.close();
    this.#markClosed();
    process.nextTick(() => this.emit('close'));
  }

  /**
   * Hands this queue to another thread (a worker_threads Worker): returns a
   * plain, cloneable handle to post to it, where attachQueue(handle)
   * (src/binding/native/worker-queue.ts) makes it that thread's. Here the
   * queue stops reading and refuses writes (EBADF), but it is not closed: it
   * lives on in the other thread, and counts as open on this device until
   * released() says that thread's queue is gone (the device's own close()
   * cannot reach it; deleting the interface ends it there).
   */
  handOff(): QueueHandle {
    if (this.#closed || this.#elsewhere) throw new TunSystemError({ code: 'EBADF', syscall: 'handOff', interfaceName: this.#device.name });
    const token = this.#raw.handOff();
    this.#elsewhere = true;
    return { token, index: this.index, interfaceName: this.#device.name, ifindex: this.#device.ifindex, mtu: this.#device.mtu,
      offload: this.#device.offload };
  }

  /** The queue is owned by another thread (handOff()). */
  get handedOff(): boolean {
    return this.#elsewhere;
  }

  /** @internal The thread holding a handed-off queue is done with it: now it is closed here too. */
  released(): void {
    if (!this.#elsewhere || this.#closed) return;
    this.#markClosed();
    process.nextTick(() => this.emit('close'));
  }
}

/** A queue on its way to another thread: plain data (postMessage clones it). */
export interface QueueHandle {
  readonly token: number;
  readonly index: number;
  readonly interfaceName: string;
  readonly ifindex: number;
  readonly mtu: number;
  /** The framing of the fd (the worker's queue validates writes by it). */
  readonly offload: OffloadState;
}

const PLAIN: OffloadState = Object.freeze({ mode: 'off', tso: false, uso: false, coalesce: Object.freeze({ tcp: false, udp: false }), reason: undefined,
  probeFailures: 0 });

export class NativeTunDevice implements TunDevice {
  readonly name: string;
  readonly ifindex: number;
  readonly queues: readonly NativePacketQueue[];
  readonly readBack: KernelView | undefined;
  #persistent: boolean;
  #mtu: number;
  #openQueues: number;
  #offload: OffloadState;
  readonly #onClosed: (device: NativeTunDevice) => void;

  /** `prepared` holds queue objects made ahead (index i for raw queue i); missing ones are made here. */
  constructor(raw: RawDevice, persistent: boolean, onClosed: (device: NativeTunDevice) => void,
    prepared: readonly NativePacketQueue[] = [], readBack?: KernelView, offload: OffloadState = PLAIN) {
    this.#offload = offload;
    this.name = raw.name;
    this.readBack = readBack;
    this.ifindex = raw.ifindex;
    this.#mtu = raw.mtu;
    this.#persistent = persistent;
    this.#onClosed = onClosed;
    this.#openQueues = raw.queues.length;
    const queues = new Array<NativePacketQueue>(raw.queues.length);
    for (let i = 0; i < queues.length; i++) {
      const queue = prepared[i] ?? new NativePacketQueue(i);
      queue.attach(raw.queues[i]!, this);
      queues[i] = queue;
    }
    this.queues = Object.freeze(queues);
  }

  get persistent(): boolean {
    return this.#persistent;
  }

  /** @internal The fd's framing: fixed at open (the per-packet paths read this, not the state). */
  get framing(): OffloadState['mode'] {
    return this.#offload.mode;
  }

  get offload(): OffloadState {
    const now = this.#offload;
    // A queue that met a refused superframe turned its coalescing off natively.
    if (probeApplies(now) && this.queues.some((q) => !q.closed && !q.handedOff && (q.stats().coalesceRefusals ?? 0) > 0)) {
      this.#offload = switchCoalescing(now, { tcp: false, udp: false },
        'the kernel refused a coalesced write (EINVAL) after the probe passed: coalescing off, its packets written alone');
      for (const queue of this.queues) queue.setCoalesce(false, false);
    }
    return this.#offload;
  }

  setOffload(switches: { tcp?: boolean; udp?: boolean }, reason?: string): OffloadState {
    this.#offload = switchCoalescing(this.#offload, validateSwitches(switches), reason);
    for (const queue of this.queues) queue.setCoalesce(this.#offload.coalesce.tcp, this.#offload.coalesce.udp);
    return this.#offload;
  }

  probeOffload(): OffloadState {
    if (!probeApplies(this.#offload)) return this.#offload;
    const queue = this.queues.find((q) => !q.closed && !q.handedOff);
    const errno = queue?.probeCoalesce() ?? 0;
    if (errno === 0) return this.#offload;
    this.#offload = probeRefused(this.#offload, new TunSystemError({ errno, syscall: 'writev' }).code);
    for (const q of this.queues) q.setCoalesce(false, false);
    return this.#offload;
  }

  get closed(): boolean {
    return this.#openQueues === 0;
  }

  get mtu(): number {
    return this.#mtu;
  }

  /** @internal kept current by the binding's setMtu. */
  mtuChanged(mtu: number): void {
    this.#mtu = mtu;
  }

  /** @internal */
  queueClosed(): void {
    this.#openQueues--;
    if (this.#openQueues === 0) this.#onClosed(this);
  }

  async setPersist(persist: boolean): Promise<void> {
    validateBoolean(persist, 'persist');
    const queue = this.queues.find((q) => !q.closed);
    if (!queue) throw new TunSystemError({ code: 'EBADF', syscall: 'ioctl(TUNSETPERSIST)', interfaceName: this.name });
    await queue.setPersist(persist);
    this.#persistent = persist;
  }

  close(): void {
    for (const queue of this.queues) queue.close();
  }
}
