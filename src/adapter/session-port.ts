// The adapter's side of the packet port: its session's queues and its own
// events, seen as one PacketPort, and the relay that turns the session's
// packet batches and drains into the adapter's 'packet' and 'drain' events.

import type { EventEmitter } from 'node:events';
import { InterfaceState } from '../../machines/types.js';
import type { PacketPort, PacketSource, PacketSourceEvents } from './packet-source.js';

/**
 * What the port needs of the lifecycle session (written structurally: only
 * actors.ts imports src/lifecycle): its 'packets' (batch, queue) and
 * 'drain' (queue) events, and pause/resume over all its queues.
 */
export interface PacketQueues extends EventEmitter {
  pause(): void;
  resume(): void;
}

export interface PortOwner extends Pick<PacketSource, 'on' | 'off'> {
  emit<E extends keyof PacketSourceEvents>(event: E, ...args: PacketSourceEvents[E]): boolean;
  readonly state: InterfaceState;
  write(packet: Uint8Array): boolean;
}

/** `session()` is read at each call: the session is made on the first attempt, after the port. */
export function sessionPort(owner: PortOwner, session: () => PacketQueues | undefined): PacketPort {
  return {
    on: (event, listener) => owner.on(event, listener),
    off: (event, listener) => owner.off(event, listener),
    get stopped() { return owner.state === InterfaceState.Stopped; },
    pause: () => session()?.pause(),
    resume: () => session()?.resume(),
    write: (packet) => owner.write(packet),
  };
}

/** Re-emit the session's packets (one event per packet) and drains on `owner`; returns the undo. */
export function relayPackets(session: PacketQueues, owner: Pick<PortOwner, 'emit'>): () => void {
  const onPackets = (batch: Buffer[], queue: number) => { for (const packet of batch) owner.emit('packet', packet, queue); };
  const onDrain = (queue: number) => owner.emit('drain', queue);
  session.on('packets', onPackets);
  session.on('drain', onDrain);
  return () => {
    session.off('packets', onPackets);
    session.off('drain', onDrain);
  };
}
