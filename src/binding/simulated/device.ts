// A simulated TUN device: the set of queue fds one open() attached.

import { TunSystemError } from '../contract/system-error.js';
import { validateBoolean } from '../contract/validate.js';
import type { SimKernel, SimLink } from './kernel.js';
import { SimulatedPacketQueue } from './queue.js';
import type { OffloadState, TunDevice } from '../contract/types.js';
import { probeApplies, probeRefused, switchCoalescing, validateSwitches } from '../contract/offload.js';
import { probeRefusal, type SimOffloadKernel } from './offload.js';

export class SimulatedTunDevice implements TunDevice {
  readonly name: string;
  readonly ifindex: number;
  readonly queues: readonly SimulatedPacketQueue[];
  readonly #kernel: SimKernel;
  readonly #link: SimLink;
  #lastMtu: number;
  #offload: OffloadState;
  readonly #offloadKernel: SimOffloadKernel | undefined;

  constructor(kernel: SimKernel, link: SimLink, queues: SimulatedPacketQueue[], offload: OffloadState, offloadKernel?: SimOffloadKernel) {
    this.#offload = offload;
    this.#offloadKernel = offloadKernel;
    this.#kernel = kernel;
    this.#link = link;
    this.name = link.name;
    this.ifindex = link.ifindex;
    this.queues = Object.freeze([...queues]);
    this.#lastMtu = link.mtu;
  }

  get persistent(): boolean {
    return this.#link.persistent;
  }

  get closed(): boolean {
    return this.queues.every((q) => q.closed);
  }

  get offload(): OffloadState {
    return this.#offload;
  }

  setOffload(switches: { tcp?: boolean; udp?: boolean }, reason?: string): OffloadState {
    this.#offload = switchCoalescing(this.#offload, validateSwitches(switches), reason);
    return this.#offload;
  }

  /** The simulated kernel's verdict (SimulatedBinding option offload.probe), as the native probe gives it. */
  probeOffload(): OffloadState {
    const refusal = probeApplies(this.#offload) ? probeRefusal(this.#offloadKernel) : undefined;
    if (refusal !== undefined) this.#offload = probeRefused(this.#offload, refusal.code);
    return this.#offload;
  }

  /** The link's MTU while it exists (so changes made by anyone count), the last one seen after. */
  get mtu(): number {
    if (this.#kernel.find(this.ifindex) === this.#link) this.#lastMtu = this.#link.mtu;
    return this.#lastMtu;
  }

  async setPersist(persist: boolean): Promise<void> {
    validateBoolean(persist, 'persist');
    await Promise.resolve();
    if (!this.queues.some((q) => !q.closed)) {
      throw new TunSystemError({ code: 'EBADF', syscall: 'ioctl(TUNSETPERSIST)', interfaceName: this.name });
    }
    if (this.#kernel.find(this.ifindex) !== this.#link) {
      throw new TunSystemError({ code: 'EBADFD', syscall: 'ioctl(TUNSETPERSIST)', interfaceName: this.name });
    }
    this.#kernel.setPersist(this.#link, persist);
  }

  close(): void {
    for (const queue of this.queues) queue.close();
  }
}
