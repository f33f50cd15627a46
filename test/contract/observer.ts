// What the contract suite needs from each world besides the binding under
// test: an independent reading (so a binding is never its own witness), an
// admin's hands from outside, and a way to send a packet into a TUN.

import type { FaultInjector } from '../../src/binding/simulated/faults.js';
import type { Family, TunBinding } from '../../src/binding/contract/types.js';

export interface ObservedLink {
  name: string;
  ifindex: number;
  up: boolean;
  /** IFF_LOWER_UP */
  carrier: boolean;
  mtu: number;
  /** lower-case RFC 2863 operstate */
  operstate: string;
  alias: string;
  group: number;
}

export interface ObservedAddress {
  family: Family;
  address: string;
  prefixLength: number;
}

export interface ObservedRoute {
  family: Family;
  destination: string;
  metric: number;
}

export interface ObservedStats {
  rxPackets: bigint;
  txPackets: bigint;
  rxBytes: bigint;
  txBytes: bigint;
}

export interface WorldObserver {
  link(name: string): ObservedLink | undefined;
  /** Addresses without the kernel's own fe80:: link-local ones. */
  addresses(name: string): ObservedAddress[];
  /** Routes added by someone: without the ones the kernel derives (proto kernel). */
  routes(name: string): ObservedRoute[];
  stats(name: string): ObservedStats;
  // an admin acting from outside the binding
  setUp(name: string, up: boolean): void;
  setMtu(name: string, mtu: number): void;
  deleteLink(name: string): void;
  addAddress(name: string, cidr: string): void;
  removeAddress(name: string, cidr: string): void;
  /** A route out of `name` in the main table (metric as given: IPv6's 0 is stored as 1024). */
  addRoute(name: string, destination: string, metric: number): void;
  removeRoute(name: string, destination: string, metric: number): void;
  /**
   * Make the kernel route one UDP datagram into the TUN `name` (which has
   * `localAddress` and is up): from localAddress to `to`, an address routed
   * through it.
   */
  sendUdpInto(name: string, localAddress: string, to: string, port: number, payload: Buffer): Promise<void>;
}

export interface ContractWorld {
  binding: TunBinding;
  observer: WorldObserver;
  /** Calls that reached the kernel so far, when the world can count them (the simulated one can). */
  kernelCalls?: () => number;
  /** The binding's fault injector, in worlds whose harness says `injectsFaults`. */
  faults?: FaultInjector;
  /** Release whatever the world holds (not the interfaces: the suite deletes those). */
  dispose?: () => void | Promise<void>;
}

export interface ContractHarness {
  /** Its worlds carry `faults`: the suite then also checks that plans run through the fault injector. */
  readonly injectsFaults?: boolean;
  /** A world for one test: fresh for the simulated binding, the run's namespace for the native one. */
  setup(): Promise<ContractWorld>;
}
