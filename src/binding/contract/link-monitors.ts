// The monitors of one environment over ONE listener: TunBinding.monitor() for
// both bindings. The listener opens with the first monitor and closes with the
// last; records go through LinkChanges (the meaning), and each monitor gets
// its own events. A callback may close any monitor, its own included: each is
// looked up again before it is called.

import { LinkChanges, type LinkChangesOutput } from './link-changes.js';
import type { LinkListener, ListenerBurst, ListenerRecord, ListenerRequest, OpenLinkListener } from './link-records.js';
import { TunSystemError } from './system-error.js';
import type { LinkEvent, LinkMonitor, MonitorBaseline } from './types.js';
import { InvalidArgumentTypeError, validateIfindex } from './validate.js';

interface Subscriber {
  readonly ifindex: number;
  readonly onEvent: (event: LinkEvent) => void;
  readonly onError: ((err: Error) => void) | undefined;
  readonly onSynced: ((baseline: MonitorBaseline) => void) | undefined;
  closed: boolean;
}

export class LinkMonitors {
  readonly #open: OpenLinkListener;
  readonly #enter: () => void;
  // Made afresh with each listener: answers still due to a closed one never come.
  #changes = new LinkChanges();
  readonly #subscribers = new Map<number, Subscriber>();
  #listener: LinkListener | undefined;
  /** Bursts read and not yet judged, oldest first (a request may read ahead: see LinkListener.request). */
  #bursts: ListenerBurst[] = [];

  /** enter: runs for each monitor() once its arguments are valid (the simulated binding's fault injection). */
  constructor(open: OpenLinkListener, enter: () => void = () => {}) {
    this.#open = open;
    this.#enter = enter;
  }

  /** The listener is open (it holds a socket). */
  get listening(): boolean {
    return this.#listener !== undefined;
  }

  /** Arguments checked as every binding method checks them; throws when the listener cannot be opened or asked. */
  monitor(ifindex: number, onEvent: (event: LinkEvent) => void, onError?: (err: Error) => void, onSynced?: (baseline: MonitorBaseline) => void): LinkMonitor {
    validateIfindex(ifindex);
    if (typeof onEvent !== 'function') throw new InvalidArgumentTypeError('onEvent', 'a function', onEvent);
    if (onError !== undefined && typeof onError !== 'function') throw new InvalidArgumentTypeError('onError', 'a function', onError);
    if (onSynced !== undefined && typeof onSynced !== 'function') throw new InvalidArgumentTypeError('onSynced', 'a function', onSynced);
    this.#enter();
    const listener = this.#listener ?? this.#openListener();
    const first = !this.#changes.watching(ifindex);
    const { id, requests } = this.#changes.watch(ifindex);
    try {
      if (first) listener.setInterest(ifindex, true);
      for (const request of requests) this.#readAhead(listener.request(request));
    } catch (error) {
      // An answer already asked for finds no watch and is dropped.
      this.#forget(id, ifindex);
      throw error;
    }
    const subscriber: Subscriber = { ifindex, onEvent, onError, onSynced, closed: false };
    this.#subscribers.set(id, subscriber);
    return {
      close: () => {
        if (subscriber.closed) return;
        subscriber.closed = true;
        this.#subscribers.delete(id);
        this.#forget(id, ifindex);
      },
      get closed() {
        return subscriber.closed;
      },
    };
  }

  #openListener(): LinkListener {
    const listener = this.#open(
      (records, overrun) => {
        if (this.#listener === listener) this.#receive(records, overrun);
      },
      (error) => {
        if (this.#listener === listener) this.#failed(error);
      },
    );
    this.#listener = listener;
    return listener;
  }

  #forget(id: number, ifindex: number): void {
    this.#changes.unwatch(id);
    const listener = this.#listener;
    if (listener === undefined) return;
    if (this.#changes.size === 0) {
      this.#reset();
      listener.close();
    } else if (!this.#changes.watching(ifindex)) {
      listener.setInterest(ifindex, false);
    }
  }

  #reset(): void {
    this.#listener = undefined;
    this.#changes = new LinkChanges();
    this.#bursts = [];
  }

  /** Records a request read ahead are judged a moment later (never inside monitor()), before any read after them. */
  #readAhead(burst: ListenerBurst | undefined): void {
    if (burst === undefined || (burst.records.length === 0 && !burst.overrun)) return;
    if (this.#bursts.length === 0) queueMicrotask(() => this.#judge());
    this.#bursts.push(burst);
  }

  #receive(records: ListenerRecord[], overrun: boolean): void {
    this.#bursts.push({ records, overrun });
    this.#judge();
  }

  #judge(): void {
    for (let burst = this.#bursts.shift(); burst !== undefined; burst = this.#bursts.shift()) {
      this.#deliver(this.#send(this.#changes.receive(burst.records, burst.overrun)));
    }
  }

  /** Sends what the output asks for; a refused send is answered as the kernel would have. */
  #send(output: LinkChangesOutput): LinkChangesOutput {
    const pending: ListenerRequest[] = [...output.requests];
    for (let request = pending.shift(); request !== undefined; request = pending.shift()) {
      try {
        const burst = this.#listener?.request(request);
        if (burst) this.#bursts.push(burst); // judged next, in this same loop
      } catch (error) {
        const refused = this.#changes.refused(request, error instanceof TunSystemError ? error.errno : 5 /* EIO */);
        output.deliveries.push(...refused.deliveries);
        pending.push(...refused.requests);
      }
    }
    return output;
  }

  #deliver(output: LinkChangesOutput): void {
    for (const delivery of output.deliveries) {
      const subscriber = this.#subscribers.get(delivery.watch);
      if (!subscriber) continue;
      for (const event of delivery.events) {
        if (subscriber.closed) break;
        subscriber.onEvent(event);
      }
      if (delivery.synced && !subscriber.closed) subscriber.onSynced?.(delivery.synced);
      if (delivery.error && !subscriber.closed) report(subscriber, delivery.error);
    }
  }

  /** The listener is gone for good: every monitor closes, and hears why. */
  #failed(error: Error): void {
    this.#reset();
    const subscribers = [...this.#subscribers.values()];
    this.#subscribers.clear();
    for (const subscriber of subscribers) subscriber.closed = true;
    for (const subscriber of subscribers) report(subscriber, error);
  }
}

function report(subscriber: Subscriber, error: Error): void {
  if (subscriber.onError) subscriber.onError(error);
  else process.emitWarning(`tun-lifecycle link monitor (ifindex ${subscriber.ifindex}): ${error.message}`);
}
