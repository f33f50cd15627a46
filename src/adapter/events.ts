// The events a TunAdapter emits, as one map from name to listener arguments:
// `on`, `once`, `off` … accept only these names and type each listener's
// arguments from it (Node's own generic EventEmitter still accepts any string,
// so a misspelled name would compile). A new event is one line here.

import type { EventEmitter } from 'node:events';
import type { ReconfigureDiff } from '../lifecycle/reconfigure.js';
import type { OffloadState } from '../binding/contract/types.js';
import type { PacketSourceEvents } from './packet-source.js';

export interface AlertInfo {
  interfaceName: string;
  consecutiveFailures: number;
  /** The latest failure. */
  error: Error | undefined;
  /** Where it happened ('initializing', 'ready', 'stopping', 'error' = during recovery). */
  state: string | undefined;
}

/** 'state', 'packet' and 'drain' (what the packet iterator and the Duplex read), 'alert', 'reconfiguring', 'reconfigured' and 'offload'. */
export interface TunAdapterEvents extends PacketSourceEvents {
  /** Every alertThreshold-th consecutive failure. */
  alert: [info: AlertInfo];
  /** A reconfiguration is about to apply this diff (it may still fail and be rolled back). */
  reconfiguring: [diff: ReconfigureDiff];
  /** A reconfiguration was applied: what it added and removed, the MTU from → to. */
  reconfigured: [diff: ReconfigureDiff];
  /** The offload in force changed: a device was made (ready), the probe or setOffload() turned coalescing off. */
  offload: [state: OffloadState];
}

export type TunAdapterEventName = keyof TunAdapterEvents;
export type TunAdapterListener<E extends TunAdapterEventName> = (...args: TunAdapterEvents[E]) => void;

/** EventEmitter with its listener methods narrowed to TunAdapterEvents: what TunAdapter extends. */
export type TypedEmitterClass = new () => TypedEmitter;

export interface TypedEmitter extends Omit<EventEmitter, ListenerMethod> {
  on<E extends TunAdapterEventName>(event: E, listener: TunAdapterListener<E>): this;
  addListener<E extends TunAdapterEventName>(event: E, listener: TunAdapterListener<E>): this;
  prependListener<E extends TunAdapterEventName>(event: E, listener: TunAdapterListener<E>): this;
  once<E extends TunAdapterEventName>(event: E, listener: TunAdapterListener<E>): this;
  prependOnceListener<E extends TunAdapterEventName>(event: E, listener: TunAdapterListener<E>): this;
  off<E extends TunAdapterEventName>(event: E, listener: TunAdapterListener<E>): this;
  removeListener<E extends TunAdapterEventName>(event: E, listener: TunAdapterListener<E>): this;
  removeAllListeners(event?: TunAdapterEventName): this;
  emit<E extends TunAdapterEventName>(event: E, ...args: TunAdapterEvents[E]): boolean;
  listenerCount(event: TunAdapterEventName): number;
  listeners<E extends TunAdapterEventName>(event: E): Array<TunAdapterListener<E>>;
}

type ListenerMethod = 'on' | 'addListener' | 'prependListener' | 'once' | 'prependOnceListener' | 'off' | 'removeListener'
  | 'removeAllListeners' | 'emit' | 'listenerCount' | 'listeners';
