// What the demo's story needs from where it runs: the kernel in a private
// namespace, or the simulated binding when there is no root.

import type { TunBinding } from '../../binding/contract/types.js';
import type { Family } from './plan.js';

export interface PingResult {
  sent: number;
  received: number;
  /** Round trips, ms. */
  rtts: number[];
  note: string | undefined;
}

export interface DemoWorld {
  kind: 'kernel' | 'simulated';
  binding: TunBinding;
  /** One sentence: where this runs. */
  where: string;
  prepare(): Promise<void>;
  /** Send `payload` to the peer's echo port (or `to`'s) and wait for it to come back; the round trip in ms. */
  udpRoundTrip(family: Family, payload: Buffer, to?: string): Promise<number>;
  ping(family: Family): Promise<PingResult>;
  /** Delete the interface as an admin would; returns what was done. */
  deleteFromOutside(name: string): string;
  /** Delete one route through the interface as an admin would; returns what was done. */
  deleteRouteFromOutside(name: string, route: string): string;
  leftovers(): Promise<{ links: string[]; tunFds: number }>;
}
