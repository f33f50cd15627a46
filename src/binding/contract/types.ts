// The one contract through which the rest of the package reaches the kernel.
// Two implementations keep it: the native addon (src/binding/native/binding.ts) and the
// in-memory twin (src/binding/simulated/binding.ts). The contract suite in test/contract
// runs the same assertions against both, so anything written here is a promise
// that both keep.

import type { EventEmitter } from 'node:events';

/** Address family, as the kernel numbers it (AF_INET, AF_INET6). */
export type Family = 4 | 6;

export interface OpenOptions {
  /**
   * Interface name (1–15 bytes, no '/', ':', whitespace, not '.' or '..').
   * A name holding one '%d' lets the kernel choose (e.g. 'tun%d').
   * Default: 'tun%d'.
   */
  name?: string;
  /** Number of queue fds. More than 1 sets IFF_MULTI_QUEUE. Default 1. */
  queues?: number;
  /** Set IFF_MULTI_QUEUE even with a single queue (so more can attach later). */
  multiQueue?: boolean;
  /** TUNSETPERSIST: the interface outlives its fds. Default false. */
  persist?: boolean;
  /** TUNSETOWNER / TUNSETGROUP for a persistent interface. */
  owner?: number;
  group?: number;
  /**
   * Attach to an interface that already exists (a persistent TUN).
   * Without it, an existing name fails with EEXIST naming the interface.
   */
  attachExisting?: boolean;
  /**
   * Apply this LinkPlan as part of the open, all or nothing (validated whole
   * before anything is made). The native binding runs it in the SAME threadpool
   * round trip as TUNSETIFF. If a step fails, the device is rolled back — its
   * fds closed, and a persistent interface this call created deleted — and the
   * promise rejects with that step's error plus `step` (as configure() does).
   * An existing interface attached to (attachExisting) is only detached: what
   * the steps before the failing one changed on it stays.
   */
  configure?: LinkPlan;
  /**
   * Read the link, its addresses and its routes back once `configure` ran, in
   * the same kernel conversation (the native binding: one threadpool round
   * trip for open, plan and the verification's reads), onto device.readBack.
   * A binding may leave readBack undefined (the simulated one does, and so
   * does a read that failed): the caller then asks getLink/listAddresses/
   * listRoutes itself. Default false.
   */
  readBack?: boolean;
  /**
   * The network namespace the interface is made in (see NetnsTarget). The
   * same as `(await binding.namespace(netns)).open(rest)`: later calls about
   * the device go to that namespaced binding, not this one.
   */
  netns?: NetnsTarget;
  /**
   * Offload (IFF_VNET_HDR + TUNSETOFFLOAD; see the README's offload section):
   *  - false: none, and the device's offload mask is cleared (a persistent
   *    device keeps the mask a previous owner set).
   *  - true / 'auto': segmented — reads split natively into ordinary packets,
   *    writes of one turn coalesced per flow; packets look as without offload.
   *  - 'raw': pass-through for relays — each packet handed out and written
   *    carries its 10-byte virtio_net_hdr in front and may be a 64 KiB superframe.
   * TUN_LIFECYCLE_OFFLOAD=0 in the environment turns every mode off. Default false
   * at the binding (the adapter's default is 'auto').
   */
  offload?: OffloadOption;
}

export type OffloadOption = boolean | 'auto' | 'raw';

/** What a device got: the mode in force, what the kernel accepted, why it is less than asked. */
export interface OffloadState {
  /** 'off': plain packets; 'segmented'; 'raw': pass-through, header in front. */
  mode: 'off' | 'segmented' | 'raw';
  /** TUNSETOFFLOAD took CSUM|TSO4|TSO6: the kernel hands TCP superframes over. */
  tso: boolean;
  /** TUNSETOFFLOAD also took USO4|USO6 (Linux 6.2+): UDP superframes too. */
  uso: boolean;
  /** Coalescing of writes in force (segmented mode), per protocol. */
  coalesce: { tcp: boolean; udp: boolean };
  /** Why offload or coalescing is less than asked (env switch, kernel refusal, probe, setOffload), else undefined. */
  reason: string | undefined;
  /** Coalesced-write probes the kernel refused on this device (each turned coalescing off; 0 or 1 unless probed again). */
  probeFailures: number;
}

/**
 * A network namespace: a path ('/var/run/netns/NAME', '/proc/PID/ns/net'), a
 * bare name meaning /var/run/netns/NAME, or an open fd of one (the caller
 * keeps it). A missing path is ENOENT naming it; a file that is not a network
 * namespace, EINVAL; no privilege over it, EPERM.
 */
export type NetnsTarget = string | number;

export interface LinkStats {
  rxPackets: bigint;
  txPackets: bigint;
  rxBytes: bigint;
  txBytes: bigint;
  rxErrors: bigint;
  txErrors: bigint;
  rxDropped: bigint;
  txDropped: bigint;
}

export interface LinkInfo {
  name: string;
  ifindex: number;
  /** IFF_* flags word (IFF_UP = 0x1, IFF_RUNNING = 0x40, IFF_LOWER_UP = 0x10000 …). */
  flags: number;
  /** Administratively up (IFF_UP). */
  up: boolean;
  /** Carrier present (IFF_LOWER_UP). */
  carrier: boolean;
  mtu: number;
  /** RFC 2863 operstate, lower-case: 'up', 'down', 'unknown', 'lowerlayerdown', … */
  operstate: string;
  /** IFLA_IFALIAS, '' when unset. */
  alias: string;
  /** IFLA_GROUP. */
  group: number;
  stats: LinkStats;
}

export interface AddressInfo {
  family: Family;
  /** Textual address, canonical form ('10.0.0.1', 'fd00::1'). */
  address: string;
  prefixLength: number;
  /** `${address}/${prefixLength}` */
  cidr: string;
}

export interface RouteSpec {
  /** Destination in CIDR form; 'default' is not accepted (use 0.0.0.0/0 or ::/0). */
  destination: string;
  /** Route metric (RTA_PRIORITY). Default 0 for IPv4; the kernel's 1024 for IPv6 when 0. */
  metric?: number;
}

/**
 * A configuration applied by TunBinding.configure, always in this order: each
 * route removed (before the addresses it may depend on), each address
 * removed, one RTM_NEWLINK for mtu/alias/group (after IPv6 addresses left,
 * before new ones need its ≥ 1280), each address added, the link up (or down),
 * each route added (after `up`, because the kernel refuses a route through a
 * down link). The native binding sends runs of address and route requests
 * batched (many per sendmsg, acknowledged in one pass).
 */
export interface LinkPlan {
  /** Routes to delete (RTM_DELROUTE; metric 0 matches the lowest-metric route of that destination). */
  removeRoutes?: RouteSpec[];
  /** CIDRs to delete. */
  removeAddresses?: string[];
  mtu?: number;
  alias?: string;
  group?: number;
  /** CIDRs to add ('10.0.0.1/24', 'fd00::1/64'). */
  addresses?: string[];
  up?: boolean;
  routes?: RouteSpec[];
}

/** The kernel's answers about one link: getLink, listAddresses and listRoutes, asked at one moment. */
/** What configure() may do besides its plan. */
export interface ConfigureOptions {
  /** Read the kernel back after the plan (see configure). Default false. */
  readBack?: boolean;
}

export interface KernelView {
  link: LinkInfo;
  addresses: AddressInfo[];
  routes: RouteInfo[];
}

export interface RouteInfo {
  family: Family;
  /** Canonical network CIDR ('10.1.0.0/16'). */
  destination: string;
  metric: number;
}

export interface QueueStats {
  rxPackets: number;
  rxBytes: number;
  txPackets: number;
  txBytes: number;
  /** Packets refused before or at the syscall (bad size, queue closed, write error). */
  txErrors: number;
  rxErrors: number;
  /** Writes currently waiting for the fd to become writable. */
  pendingWrites: number;
  /** Offload: frames read and written that carried more than one packet; frames the split refused (dropped). */
  rxSuperframes?: number;
  txSuperframes?: number;
  splitErrors?: number;
  /** Superframes the kernel refused (EINVAL) after the probe passed: coalescing went off, their packets were written alone. */
  coalesceRefusals?: number;
}

/**
 * One TUN queue fd. Starts paused: call resume() (or attach a 'packets'
 * listener, which resumes) to begin reading. Events:
 *  - 'packets' (packets: Buffer[]) — one call per batch read from the fd
 *  - 'drain' () — the write backlog has been flushed after write() returned false
 *  - 'error' (err: TunSystemError) — a read/write error that ends the queue (e.g. EBADFD
 *    after the interface was deleted under it); the queue is closed after it
 *  - 'close' () — once, when the queue closes for any reason
 */
export interface PacketQueue extends EventEmitter {
  readonly index: number;
  readonly closed: boolean;
  /**
   * Write one IP packet. Returns false when it had to be queued (backpressure);
   * wait for 'drain'. Throws TypeError/RangeError for a packet that is not
   * bytes, is empty, exceeds the MTU, or is not IPv4/IPv6 — before any syscall.
   * Throws TunSystemError (EBADF) when the queue is closed.
   */
  write(packet: Uint8Array): boolean;
  /**
   * Write several packets at once: in segmented mode they are coalesced per
   * flow into superframes now (write() gathers those of one turn and does the
   * same right after the current callback). Same checks and result as write().
   */
  writeBatch?(packets: readonly Uint8Array[]): boolean;
  pause(): void;
  resume(): void;
  stats(): QueueStats;
  /** Idempotent. Stops polling, closes the fd, emits 'close'. */
  close(): void;
}

export interface TunDevice {
  /** The real name (the kernel's choice when a pattern was given). */
  readonly name: string;
  readonly ifindex: number;
  readonly queues: readonly PacketQueue[];
  readonly persistent: boolean;
  readonly closed: boolean;
  /** MTU the device validates packet sizes against (kept current by setMtu). */
  readonly mtu: number;
  /** What open({ readBack: true }) read after the plan, when the binding did (see OpenOptions.readBack). */
  readonly readBack?: KernelView | undefined;
  /** TUNSETPERSIST on (or off) through the first queue's fd. */
  setPersist(persist: boolean): Promise<void>;
  /** The offload in force (absent: a binding without offload). */
  readonly offload?: OffloadState;
  /**
   * Coalescing switches on a running device (segmented mode; a protocol the
   * kernel cannot take stays off). Returns the state now in force.
   */
  setOffload?(switches: { tcp?: boolean; udp?: boolean }, reason?: string): OffloadState;
  /**
   * After link-up: one coalesced write of two TTL-0 TCP segments (dropped by
   * the stack). A kernel that refuses it (EINVAL: Linux 6.6.44 and kin,
   * tailscale#13041) gets coalescing off, with the reason. Returns the state.
   */
  probeOffload?(): OffloadState;
  /** Closes every queue fd. Idempotent. A non-persistent interface then vanishes. */
  close(): void;
}

export type LinkEvent =
  | { type: 'deleted'; ifindex: number; name: string }
  | { type: 'admin'; ifindex: number; name: string; up: boolean }
  | { type: 'carrier'; ifindex: number; name: string; carrier: boolean }
  | { type: 'mtu'; ifindex: number; name: string; mtu: number }
  | { type: 'address-added'; ifindex: number; name: string; address: AddressInfo }
  | { type: 'address-removed'; ifindex: number; name: string; address: AddressInfo }
  /** A main-table unicast route out of the link, not one the kernel made for an address (as listRoutes lists). */
  | { type: 'route-added'; ifindex: number; name: string; route: RouteInfo }
  | { type: 'route-removed'; ifindex: number; name: string; route: RouteInfo };

/**
 * What a monitor's baselines found (its onSynced): the link and what it
 * holds, as read after the monitor subscribed, so anything changed later is
 * one of its events. Addresses and routes as listAddresses and listRoutes list them.
 */
export interface MonitorBaseline {
  up: boolean;
  mtu: number;
  addresses: AddressInfo[];
  routes: RouteInfo[];
}

export interface LinkMonitor {
  /** Idempotent. */
  close(): void;
  readonly closed: boolean;
}

/**
 * Every method validates its arguments first (TypeError / RangeError with a
 * Node-style `code`, naming the argument) and only then talks to the kernel.
 * Kernel failures reject with TunSystemError (code = errno name).
 */
export interface TunBinding {
  /** 'native' or 'simulated'. */
  readonly kind: 'native' | 'simulated';
  open(options?: OpenOptions): Promise<TunDevice>;
  /** By name or ifindex. ENODEV when absent. */
  getLink(link: string | number): Promise<LinkInfo>;
  /** Every link in the namespace (name + ifindex), for leak checks and reclaiming. */
  listLinks(): Promise<LinkInfo[]>;
  setMtu(ifindex: number, mtu: number): Promise<void>;
  setUp(ifindex: number, up: boolean): Promise<void>;
  /** IFLA_IFALIAS; '' clears it. Used to tag interfaces this package made. */
  setAlias(ifindex: number, alias: string): Promise<void>;
  /** IFLA_GROUP, so a set of links can be deleted by one request. */
  setGroup(ifindex: number, group: number): Promise<void>;
  addAddress(ifindex: number, cidr: string): Promise<void>;
  deleteAddress(ifindex: number, cidr: string): Promise<void>;
  /**
   * Every address the kernel holds on the interface, IPv4 and IPv6, omitting
   * nothing: the IPv6 link-local fe80::/64 address the kernel adds at link-up
   * is included (callers that want only what they configured filter it).
   */
  listAddresses(ifindex: number): Promise<AddressInfo[]>;
  addRoute(ifindex: number, route: RouteSpec): Promise<void>;
  deleteRoute(ifindex: number, route: RouteSpec): Promise<void>;
  /**
   * Routes whose output interface is ifindex, in the main table, IPv4 and IPv6 unicast,
   * EXCLUDING the routes the kernel makes itself (protocol RTPROT_KERNEL: the prefix
   * route of each address, fe80::/64). So it lists exactly the routes someone added
   * (through addRoute or `ip route add`). Metrics as the kernel stores them (an IPv6
   * route added with metric 0 reads 1024). The kernel refuses a route through a link
   * that is down (ENETDOWN), and drops a link's routes when it goes down.
   */
  listRoutes(ifindex: number): Promise<RouteInfo[]>;
  deleteLink(ifindex: number): Promise<void>;
  /** One RTM_DELLINK carrying IFLA_GROUP: deletes every link of that group. group must be > 0. */
  deleteLinkGroup(group: number): Promise<void>;
  /**
   * This binding's operations in another network namespace: every call of the
   * binding it returns (open, links, addresses, routes, monitor) talks to that
   * namespace. Rejects as OpenOptions.netns says, before anything changes.
   */
  namespace(netns: NetnsTarget): Promise<TunBinding>;
  /**
   * Link, address and route notifications about one interface, changes only.
   * onSynced, when given, is called once with what the monitor's own
   * baselines found (not at all if the link is gone first: that is 'deleted').
   */
  monitor(ifindex: number, onEvent: (event: LinkEvent) => void, onError?: (err: Error) => void, onSynced?: (baseline: MonitorBaseline) => void): LinkMonitor;
  /**
   * Apply a LinkPlan (validated whole first: a bad plan is refused before any
   * kernel call) with the same requests the single calls make, in the order
   * LinkPlan documents, stopping at the first failure. The rejection is that
   * request's error plus `step` (its index in the plan's order; see planOps in
   * src/binding/contract/link-plan.ts); the steps before it stay applied, none
   * after it does. The native binding runs the whole plan in one threadpool
   * round trip (requests of a batch after the failing one, which the kernel
   * carried out too, are undone before it rejects); the simulated one runs its single operations, each
   * through its fault injector (so a fault armed on `addAddress` fails a plan
   * that adds an address), and counts the call as `configure`.
   * With `readBack` a binding may read the link, its addresses and routes
   * right after the plan and resolve with them (the native one does, in the
   * same round trip); undefined means it did not (the simulated binding never
   * does): the caller then reads on its own.
   */
  configure(ifindex: number, plan: LinkPlan, options?: ConfigureOptions): Promise<KernelView | undefined>;
  /** Number of fds this binding holds open (queues + netlink sockets), for leak checks. */
  openFdCount(): number;
}
