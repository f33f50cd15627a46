// A simulated NETLINK_ROUTE socket in the link, address and route groups: the kernel
// queues each notification to every open socket when the change happens, and
// answers a request by queueing the answer behind what is already there, so
// the stream has the real kernel's order. The queue is read in one burst a
// microtask later (like a poll callback), and the records go to the same
// meaning as the native listener's (src/binding/contract/link-changes.ts).

import type {
  LinkListener, ListenerRecord, ListenerRequest, OnListenerRecords,
} from '../contract/link-records.js';

/** What the socket asks of the kernel to answer a request. */
export type SimRequestAnswerer = (request: ListenerRequest) => ListenerRecord[];

export class SimNetlinkSocket implements LinkListener {
  readonly #onRecords: OnListenerRecords;
  readonly #answer: SimRequestAnswerer;
  readonly #onClose: () => void;
  readonly #interest = new Set<number>();
  #queue: ListenerRecord[] = [];
  #overrun = false;
  #closed = false;

  constructor(onRecords: OnListenerRecords, answer: SimRequestAnswerer, onClose: () => void) {
    this.#onRecords = onRecords;
    this.#answer = answer;
    this.#onClose = onClose;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** A multicast notification (seq 0); dropped unless its link is of interest. */
  notify(record: ListenerRecord): void {
    if (record.type !== 'done' && this.#interest.has(record.ifindex)) this.#enqueue([record]);
  }

  /** Answered at once, behind what is queued (the twin has no dump in progress to read ahead of). */
  request(request: ListenerRequest): undefined {
    this.#enqueue(this.#answer(request).filter((r) => r.type === 'done' || r.type === 'link' || this.#interest.has(r.ifindex)));
    return undefined;
  }

  setInterest(ifindex: number, interested: boolean): void {
    if (interested) this.#interest.add(ifindex);
    else this.#interest.delete(ifindex);
  }

  /** The receive buffer overflowed: what was queued is lost, and the next read says ENOBUFS. */
  overrun(): void {
    if (this.#closed) return;
    if (this.#queue.length === 0 && !this.#overrun) queueMicrotask(() => this.#read());
    this.#queue = [];
    this.#overrun = true;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue = [];
    this.#onClose();
  }

  #enqueue(records: ListenerRecord[]): void {
    if (this.#closed || records.length === 0) return;
    if (this.#queue.length === 0 && !this.#overrun) queueMicrotask(() => this.#read());
    this.#queue.push(...records);
  }

  #read(): void {
    const burst = this.#queue;
    const overrun = this.#overrun;
    this.#queue = [];
    this.#overrun = false;
    if (!this.#closed && (burst.length > 0 || overrun)) this.#onRecords(burst, overrun);
  }
}
