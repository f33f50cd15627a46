// What the packet iterator and the Duplex need from an adapter, and nothing
// more: its packets and state changes as events, a way to hold the queues
// back, and a write path. Written against this rather than TunAdapter, they
// can be tested with a fake and without a lifecycle behind them.

import type { InterfaceState } from '../../machines/types.js';

export interface PacketSourceEvents {
  /** One packet read from a queue. */
  packet: [packet: Buffer, queue: number];
  /** A top-level transition; once `to` is stopped no packet comes again. */
  state: [to: InterfaceState, from: InterfaceState];
  /** A queue flushed its write backlog. */
  drain: [queue: number];
}

export type PacketSourceListener<E extends keyof PacketSourceEvents> = (...args: PacketSourceEvents[E]) => void;

export interface PacketSource {
  on<E extends keyof PacketSourceEvents>(event: E, listener: PacketSourceListener<E>): unknown;
  off<E extends keyof PacketSourceEvents>(event: E, listener: PacketSourceListener<E>): unknown;
  /** Already stopped: a reader made now ends at once. */
  readonly stopped: boolean;
  /** Stop reading the queues (backpressure) until resume(). Both are idempotent. */
  pause(): void;
  resume(): void;
}

/** A source that can also be written to, as a Duplex needs. */
export interface PacketPort extends PacketSource {
  /** Write one packet; false when it had to be queued (wait for 'drain'). Throws outside ready. */
  write(packet: Uint8Array): boolean;
}
