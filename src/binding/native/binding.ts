// The TunBinding that talks to the kernel: every method validates its
// arguments (src/binding/contract/validate.ts) and only then makes one call into the
// addon (native/), which does the ioctl or netlink request off the event loop.
//
// Bring-up in one threadpool round trip: open({ configure: plan }) hands the
// plan's requests to the addon with the open, and the same worker sends them
// right after TUNSETIFF (rolling the device back if one fails).
//
// What the listing methods return, exactly (the simulated binding matches it):
//  - listAddresses(ifindex): every address the kernel holds on the interface,
//    IPv4 and IPv6, in the kernel's order — including the IPv6 link-local
//    fe80::/64 address the kernel adds when the link goes up. Callers that
//    want only what they configured filter it (the contract tests do).
//  - listRoutes(ifindex): routes in the main table, type unicast, whose output
//    interface (RTA_OIF) is ifindex, EXCLUDING routes the kernel made itself
//    (protocol RTPROT_KERNEL: the prefix route of each address and the
//    fe80::/64 route). Metrics are as the kernel stores them (an IPv6 route
//    added with metric 0 reads back as 1024).

import { loadAddon, type AddonOps, type RawAddress, type RawDevice, type RawLink, type RawLinkListener, type RawReadBack, type RawRoutes, type TunAddon } from './addon.js';
import type { LinkListener, OnListenerFailed, OnListenerRecords } from '../contract/link-records.js';
import { NamespaceLease } from './netns.js';
import { NativePacketQueue, NativeTunDevice } from './device.js';
import { stepPacker, type StepPacker } from './step-packer.js';
import { LinkMonitors } from '../contract/link-monitors.js';
import { TunSystemError } from '../contract/system-error.js';
import { chooseMode, initialState } from '../contract/offload.js';
import type {
  AddressInfo,
  ConfigureOptions,
  KernelView,
  LinkEvent,
  MonitorBaseline,
  LinkInfo,
  LinkMonitor,
  LinkPlan,
  NetnsTarget,
  RouteInfo,
  RouteSpec,
  TunBinding,
  TunDevice,
  OpenOptions,
} from '../contract/types.js';
import {
  InvalidArgumentTypeError,
  formatAddress,
  normalizeRoute,
  parseCidr,
  validateBoolean,
  validateIfindex,
  validateInteger,
  validateLinkKey,
  validateMtu,
  validateOpenOptions,
} from '../contract/validate.js';
import { inversePlan, planSteps, validateAlias } from '../contract/link-plan.js';

const OPERSTATES = ['unknown', 'notpresent', 'down', 'lowerlayerdown', 'testing', 'dormant', 'up'];
const IFF_UP = 0x1;
const IFF_LOWER_UP = 0x10000;
const RT_TABLE_MAIN = 254;
const RTN_UNICAST = 1;
const RTPROT_KERNEL = 2;

function toLinkInfo(raw: RawLink): LinkInfo {
  const s = raw.stats;
  return {
    name: raw.name,
    ifindex: raw.ifindex,
    flags: raw.flags,
    up: (raw.flags & IFF_UP) !== 0,
    carrier: (raw.flags & IFF_LOWER_UP) !== 0,
    mtu: raw.mtu,
    operstate: OPERSTATES[raw.operstate] ?? 'unknown',
    alias: raw.alias,
    group: raw.group,
    stats: {
      rxPackets: s[0]!, txPackets: s[1]!, rxBytes: s[2]!, txBytes: s[3]!,
      rxErrors: s[4]!, txErrors: s[5]!, rxDropped: s[6]!, txDropped: s[7]!,
    },
  };
}

function toAddressInfo(family: 4 | 6, bytes: Uint8Array, prefixLength: number): AddressInfo {
  const address = formatAddress(bytes);
  return { family, address, prefixLength, cidr: `${address}/${prefixLength}` };
}

function toAddress(a: RawAddress): AddressInfo {
  return toAddressInfo(a.family, a.address, a.prefixLength);
}

/**
 * One route record of the addon's buffer (native/ops.cc RoutesToJs): family,
 * prefix length, protocol, type, scope, gateway (bytes 0-5), metric and table
 * (little-endian u32 at 8 and 12), the destination's bytes from 16.
 */
const ROUTE_RECORD_BYTES = 32;

/** The routes listRoutes reports: main table, unicast, not the kernel's own. */
function toRoutes(raw: RawRoutes): RouteInfo[] {
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const routes: RouteInfo[] = [];
  for (let at = 0; at + ROUTE_RECORD_BYTES <= raw.byteLength; at += ROUTE_RECORD_BYTES) {
    const type = raw[at + 3]!;
    const protocol = raw[at + 2]!;
    if (view.getUint32(at + 12, true) !== RT_TABLE_MAIN || type !== RTN_UNICAST || protocol === RTPROT_KERNEL) continue;
    const family = raw[at] as 4 | 6;
    const destination = raw.subarray(at + 16, at + 16 + (family === 4 ? 4 : 16));
    routes.push({ family, destination: `${formatAddress(destination)}/${raw[at + 1]}`, metric: view.getUint32(at + 8, true) });
  }
  return routes;
}

function kernelViewOf(raw: RawReadBack): KernelView {
  return { link: toLinkInfo(raw.link), addresses: raw.addresses.map(toAddress), routes: toRoutes(raw.routes) };
}

/** Exported for its shape (the operation table's test); make one with createNativeBinding(). */
export class NativeBinding implements TunBinding {
  readonly kind = 'native' as const;
  readonly #addon: TunAddon;
  /** The kernel operations: the addon's own, or those of the namespace this binding works in. */
  readonly #ops: AddonOps;
  /** Set when this binding works in another network namespace (binding.namespace()). */
  readonly #lease: NamespaceLease | undefined;
  /** Open devices by ifindex, so setMtu keeps their packet-size limit current. */
  readonly #devices = new Map<number, NativeTunDevice>();
  /** Plans packed in the layout this addon exports. */
  readonly #packSteps: StepPacker;

  constructor(addon: TunAddon, lease?: NamespaceLease) {
    this.#addon = addon;
    this.#lease = lease;
    this.#ops = lease?.ops ?? addon;
    this.#packSteps = stepPacker(addon.stepLayout);
  }

  async open(options?: OpenOptions): Promise<TunDevice> {
    const o = validateOpenOptions(options);
    if (o.netns !== undefined) return (await this.namespace(o.netns)).open({ ...options, netns: undefined });
    // In a namespace, the handle is held from the open to the device's close.
    return this.#lease === undefined ? this.#open(o, options) : this.#lease.use(() => this.#open(o, options));
  }

  async #open(o: ReturnType<typeof validateOpenOptions>, options: OpenOptions | undefined): Promise<TunDevice> {
    const plan = options?.configure;
    const steps = plan === undefined ? undefined : this.#packSteps(plan, 'options.configure');
    const chosen = chooseMode(o.offload);
    const opening = this.#ops.openDevice(o.name, o.queues, o.multiQueue, o.persist, o.owner ?? -1,
      o.group ?? -1, o.attachExisting, steps?.words, steps?.count ?? 0, steps?.alias, o.readBack, chosen.mode);
    // The kernel work runs on the threadpool now; the queues' JavaScript side
    // (which holds nothing of the kernel's) is built meanwhile, not after.
    const prepared = new Array<NativePacketQueue>(o.queues);
    for (let i = 0; i < o.queues; i++) prepared[i] = new NativePacketQueue(i);
    const raw: RawDevice = await opening;
    const held = this.#lease?.hold();
    // An interface that existed with no fd attached can only have been persistent.
    const refusal = raw.offloadErrno === 0 ? undefined : new TunSystemError({ errno: raw.offloadErrno, syscall: 'ioctl(TUNSETOFFLOAD)' }).code;
    const device = new NativeTunDevice(raw, o.persist || !raw.created, (d) => {
      if (this.#devices.get(d.ifindex) === d) this.#devices.delete(d.ifindex);
      held?.release();
    }, prepared, raw.readBack && kernelViewOf(raw.readBack), initialState(chosen.mode, raw.offloadMask, chosen.reason, refusal));
    this.#devices.set(device.ifindex, device);
    // The probe means something only once the link is up (the plan may bring it up).
    if (plan?.up === true) device.probeOffload();
    return device;
  }

  async getLink(link: string | number): Promise<LinkInfo> {
    return toLinkInfo(await this.#ops.getLink(validateLinkKey(link)));
  }

  async listLinks(): Promise<LinkInfo[]> {
    return (await this.#ops.listLinks()).map(toLinkInfo);
  }

  async configure(ifindex: number, plan: LinkPlan, options?: ConfigureOptions): Promise<KernelView | undefined> {
    validateIfindex(ifindex);
    const steps = this.#packSteps(plan);
    const readBack = options?.readBack === undefined ? false : validateBoolean(options.readBack, 'options.readBack');
    let raw: RawReadBack | undefined;
    try {
      raw = await this.#ops.configureLink(ifindex, steps.words, steps.count, steps.alias, readBack);
    } catch (error) {
      await this.#undoPastFailure(ifindex, plan, error);
      throw error;
    }
    if (plan.mtu !== undefined) this.#devices.get(ifindex)?.mtuChanged(plan.mtu);
    return raw && kernelViewOf(raw);
  }

  /**
   * The kernel acts on every request of a batch, so requests after the failing
   * one may have taken (the addon names them: `alsoApplied`). Undone here, so
   * that a plan stops at its first failure as configure() promises; an undo
   * that fails too is told on the error (`undoError`).
   */
  async #undoPastFailure(ifindex: number, plan: LinkPlan, error: unknown): Promise<void> {
    const also = (error as { alsoApplied?: number[] } | null)?.alsoApplied;
    if (!also) return;
    delete (error as { alsoApplied?: number[] }).alsoApplied;
    const planned = planSteps(plan);
    const undo = this.#packSteps(inversePlan(also.map((i) => planned[i]!)));
    await this.#ops.configureLink(ifindex, undo.words, undo.count, undo.alias).catch((undoError: unknown) => {
      Object.assign(error as object, { undoError });
    });
  }

  async setMtu(ifindex: number, mtu: number): Promise<void> {
    validateIfindex(ifindex);
    validateMtu(mtu);
    await this.#ops.changeLink(ifindex, mtu, -1, undefined, undefined);
    this.#devices.get(ifindex)?.mtuChanged(mtu);
  }

  async setUp(ifindex: number, up: boolean): Promise<void> {
    validateIfindex(ifindex);
    validateBoolean(up, 'up');
    await this.#ops.changeLink(ifindex, 0, up ? 1 : 0, undefined, undefined);
  }

  async setAlias(ifindex: number, alias: string): Promise<void> {
    validateIfindex(ifindex);
    validateAlias(alias);
    await this.#ops.changeLink(ifindex, 0, -1, alias, undefined);
  }

  async setGroup(ifindex: number, group: number): Promise<void> {
    validateIfindex(ifindex);
    validateInteger(group, 'group', 0, 0xffffffff);
    await this.#ops.changeLink(ifindex, 0, -1, undefined, group);
  }

  async addAddress(ifindex: number, cidr: string): Promise<void> {
    validateIfindex(ifindex);
    const c = parseCidr(cidr, 'cidr');
    await this.#ops.changeAddress(true, ifindex, c.family, c.bytes, c.prefixLength);
  }

  async deleteAddress(ifindex: number, cidr: string): Promise<void> {
    validateIfindex(ifindex);
    const c = parseCidr(cidr, 'cidr');
    await this.#ops.changeAddress(false, ifindex, c.family, c.bytes, c.prefixLength);
  }

  /** Everything on the interface, link-local fe80:: included (see the note at the top). */
  async listAddresses(ifindex: number): Promise<AddressInfo[]> {
    validateIfindex(ifindex);
    const raw: RawAddress[] = await this.#ops.listAddresses(ifindex);
    return raw.map(toAddress);
  }

  async addRoute(ifindex: number, route: RouteSpec): Promise<void> {
    validateIfindex(ifindex);
    const r = normalizeRoute(route);
    await this.#ops.changeRoute(true, ifindex, r.family, r.destination.bytes, r.destination.prefixLength, r.metric);
  }

  async deleteRoute(ifindex: number, route: RouteSpec): Promise<void> {
    validateIfindex(ifindex);
    const r = normalizeRoute(route);
    await this.#ops.changeRoute(false, ifindex, r.family, r.destination.bytes, r.destination.prefixLength, r.metric);
  }

  /** Main table, unicast, via ifindex, not made by the kernel itself (see the note at the top). */
  async listRoutes(ifindex: number): Promise<RouteInfo[]> {
    validateIfindex(ifindex);
    // A namespace whose main table was never used has none: ENOENT means no routes.
    const raw = await this.#ops.listRoutes(ifindex).catch((error: { code?: string }) => {
      if (error.code === 'ENOENT') return new Uint8Array(0);
      throw error;
    });
    return toRoutes(raw);
  }

  async deleteLink(ifindex: number): Promise<void> {
    validateIfindex(ifindex);
    await this.#ops.deleteLink(ifindex);
  }

  async deleteLinkGroup(group: number): Promise<void> {
    validateInteger(group, 'group', 1, 0xffffffff);
    await this.#ops.deleteLinkGroup(group);
  }

  /**
   * Every monitor of this thread shares one listener socket (see native/monitor.h);
   * a namespaced binding's monitors share one listener inside its namespace.
   */
  monitor(ifindex: number, onEvent: (event: LinkEvent) => void, onError?: (err: Error) => void, onSynced?: (baseline: MonitorBaseline) => void): LinkMonitor {
    if (this.#lease === undefined) return monitorsOf(this.#addon).monitor(ifindex, onEvent, onError, onSynced);
    return namespaceMonitorsOf(this.#addon, this.#lease, (monitors) => monitors.monitor(ifindex, onEvent, onError, onSynced));
  }

  /** A binding over the same addon whose every operation runs in that namespace (src/binding/native/netns.ts). */
  async namespace(netns: NetnsTarget): Promise<TunBinding> {
    const lease = new NamespaceLease(this.#addon, netns);
    await lease.check();
    return new NativeBinding(this.#addon, lease);
  }

  openFdCount(): number {
    return this.#addon.fdCount();
  }
}

// The addon is loaded once per thread (an environment), and so is this.
let monitors: LinkMonitors | undefined;

function monitorsOf(addon: TunAddon): LinkMonitors {
  monitors ??= new LinkMonitors((onRecords, onFailed) => new addon.LinkListener(onRecords, onFailed));
  return monitors;
}

// One listener per (environment, namespace): the monitors of every binding on
// one namespace (equal nsfs identity, the handle's key) share it. It is made
// inside the namespace through the lease of the binding whose monitor opened
// it, and holds that lease's handle until it closes or fails (then a later
// monitor opens a new one). The handle is open whenever a device of the
// namespace is, which is when monitors are asked for.
const namespaceMonitors = new Map<string, LinkMonitors>();
let opening: NamespaceLease | undefined;

function namespaceMonitorsOf<T>(addon: TunAddon, lease: NamespaceLease, use: (monitors: LinkMonitors) => T): T {
  const { handle, release } = lease.hold();
  try {
    let monitors = namespaceMonitors.get(handle.key);
    if (monitors === undefined) {
      monitors = new LinkMonitors((onRecords, onFailed) => listenIn(addon, opening!, onRecords, onFailed));
      namespaceMonitors.set(handle.key, monitors);
    }
    opening = lease;
    return use(monitors);
  } finally {
    opening = undefined;
    release();
  }
}

function listenIn(addon: TunAddon, lease: NamespaceLease, onRecords: OnListenerRecords, onFailed: OnListenerFailed): LinkListener {
  const held = lease.hold();
  let inner: RawLinkListener;
  try {
    inner = new addon.LinkListener(onRecords, (error) => { held.release(); onFailed(error); }, held.handle);
  } catch (error) {
    held.release();
    throw error;
  }
  return {
    request: (request) => inner.request(request),
    setInterest: (ifindex, interested) => inner.setInterest(ifindex, interested),
    close: () => { inner.close(); held.release(); },
  };
}

/**
 * A TunBinding over the native addon. Throws (with how to build it) when the
 * addon is missing. Bindings share the addon; each tracks its own devices.
 */
export function createNativeBinding(): TunBinding {
  return new NativeBinding(loadAddon());
}
