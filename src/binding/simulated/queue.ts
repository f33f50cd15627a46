// One simulated TUN queue fd: the app's side of a kernel ring. Same event
// semantics as the native queue: starts paused, a 'packets' listener resumes
// it, packets arrive in batches, write() returns false under backpressure and
// 'drain' follows, a device deleted underneath gives 'error' (EBADFD) then
// 'close', and 'close' comes exactly once.

import { EventEmitter } from 'node:events';
import { TunSystemError } from '../contract/system-error.js';
import { validatePacket } from '../contract/validate.js';
import type { SimKernel, SimLink, TunFdEndpoint } from './kernel.js';
import type { OffloadState, PacketQueue, QueueStats } from '../contract/types.js';
import { validateRawFrame } from '../contract/offload.js';
import { coalesce, framesToRead, packetsOfRawWrite, withNoneHeader } from './offload.js';

/** Written frames a queue keeps for a test to look at. */
export const FRAMES_KEPT = 1024;

/** Frames a test injected as superframes (virtio header first): read as such, not as one packet. */
export const SUPERFRAMES = new WeakSet<Buffer>();

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
  readonly #offload: () => OffloadState;
  /** Segmented mode: the writes of this turn, coalesced right after the current callback (as the native queue does). */
  #gathered: Uint8Array[] = [];
  /**
   * Segmented and raw writes as the fd got them, newest last (the last
   * FRAMES_KEPT): each frame its virtio header, then the packet or superframe.
   */
  readonly frames: Buffer[] = [];
  #closed = false;
  #flowing = false;
  #scheduled = false;
  #blocked = false;
  #pending: Buffer[] = [];
  #owesDrain = false;
  /** set when the device was deleted under this fd: every read or write now fails with EBADFD */
  #gone: TunSystemError | undefined;
  #failing = false;
  readonly #stats: QueueStats = {
    rxPackets: 0, rxBytes: 0, txPackets: 0, txBytes: 0, txErrors: 0, rxErrors: 0, pendingWrites: 0, rxSuperframes: 0, txSuperframes: 0, splitErrors: 0,
  };

  constructor(kernel: SimKernel, link: SimLink, index: number, mtu: () => number, onClosed: () => void, offload: () => OffloadState) {
    super();
    this.#offload = offload;
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

  get vnetHdr(): boolean {
    return this.#offload().mode !== 'off';
  }

  write(packet: Uint8Array): boolean {
    const mode = this.#offload().mode;
    if (mode === 'raw') validateRawFrame(packet, 'packet');
    else validatePacket(packet, this.#mtu());
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
    if (mode === 'segmented') {
      if (this.#gathered.length === 0) process.nextTick(() => this.#flushGathered());
      this.#gathered.push(Buffer.from(packet));
      return true;
    }
    if (mode === 'raw') {
      this.#sendFrame(Buffer.from(packet));
      return true;
    }
    this.#send(packet);
    return true;
  }

  writeBatch(packets: readonly Uint8Array[]): boolean {
    let all = true;
    for (const packet of packets) all = this.write(packet) && all;
    if (this.#offload().mode === 'segmented') this.#flushGathered();
    return all;
  }

  /** The turn's segmented writes: the frames the fd gets are recorded, the kernel receives every packet. */
  #flushGathered(): void {
    const batch = this.#gathered;
    this.#gathered = [];
    if (batch.length === 0 || this.#closed) return;
    const state = this.#offload();
    const frames = state.coalesce.tcp || state.coalesce.udp
      ? coalesce(batch, state.coalesce)
      : batch.map((packet) => withNoneHeader(packet as Buffer));
    for (const frame of frames) this.#record(frame);
    for (const packet of batch) {
      try {
        this.#send(packet);
      } catch {
        // counted in txErrors by #send; nobody is on the stack to throw to
      }
    }
  }

  #record(frame: Buffer): void {
    if (this.frames.push(frame) > FRAMES_KEPT) this.frames.shift();
    if (frame[1] !== 0) this.#stats.txSuperframes! += 1;
  }

  #sendFrame(frame: Buffer): void {
    this.#record(frame);
    for (const packet of packetsOfRawWrite(frame)) this.#send(packet);
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

  /** One ring entry as a read in `mode` hands it out. */
  #asRead(item: Buffer, mode: OffloadState['mode']): Buffer[] {
    if (!SUPERFRAMES.has(item)) return [mode === 'raw' ? withNoneHeader(item) : item];
    if (mode === 'off') return [item.subarray(10)];  // never injected so: world.injectSuperframe refuses
    this.#stats.rxSuperframes! += 1;
    try {
      return framesToRead(item, mode);
    } catch (error) {
      if (!(error instanceof TunSystemError)) throw error;
      this.#stats.splitErrors! += 1;
      this.#stats.rxErrors += 1;
      return [];
    }
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
      const mode = this.#offload().mode;
      const batch: Buffer[] = [];
      for (const item of this.ring.splice(0, READ_BATCH)) {
        this.#kernel.countRead(this.#link, item);
        for (const packet of this.#asRead(item, mode)) {
          batch.push(packet);
          this.#stats.rxPackets += 1;
          this.#stats.rxBytes += packet.length;
        }
      }
      if (batch.length > 0) this.emit('packets', batch);
      this.#schedule();
    });
  }
}
