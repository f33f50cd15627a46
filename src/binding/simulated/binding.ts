// SimulatedBinding: the TunBinding contract kept in memory, for tests, demos
// and users' own tests without root. Same argument validation as the native
// binding (it runs first, so bad input never counts as a kernel call), same
// errnos where the kernel gives them, link events delivered asynchronously
// like netlink, and two test-side handles:
//   binding.faults — make an operation fail, hang or answer late; count calls
//   binding.world  — change things as an admin with `ip` would, look at the
//                    namespace, push packets in and see what the app wrote

import { TunSystemError } from '../contract/system-error.js';
import {
  validateNetns,
  InvalidArgumentTypeError, normalizeRoute, parseCidr, validateIfindex,
  validateInteger, validateLinkKey, validateBoolean, validateMtu, validateOpenOptions,
} from '../contract/validate.js';
import { OPERATIONS, syscallOf, type BindingOp } from '../contract/operations.js';
import { FaultInjector } from './faults.js';
import { simulatedOffload, type SimOffloadKernel } from './offload.js';
import { SimKernel, type SimLink, type SimKernelOptions } from './kernel.js';
import { SimulatedPacketQueue } from './queue.js';
import { SimulatedTunDevice } from './device.js';
import { SimulatedWorld } from './world.js';
import { LinkMonitors } from '../contract/link-monitors.js';
import { callsOfStep, planSteps, validateAlias, type PlanStep } from '../contract/link-plan.js';
import type {
  NetnsTarget,
  AddressInfo, ConfigureOptions, LinkEvent, LinkInfo, LinkMonitor, LinkPlan, MonitorBaseline, OpenOptions, RouteInfo, RouteSpec, TunBinding, TunDevice,
} from '../contract/types.js';

export interface SimulatedBindingOptions extends SimKernelOptions {
  /** false: act like a process without CAP_NET_ADMIN (changes fail with EPERM). Default true. */
  privileged?: boolean;
  /** uid/gid of the simulated process, for attaching to a persistent TUN it owns without privilege. */
  uid?: number;
  gid?: number;
  /** Share one simulated namespace between several bindings (like two processes in one netns). */
  kernel?: SimKernel;
  /**
   * The simulated kernel takes TUNSETOFFLOAD (without it, every offload
   * option opens with offload off and says why). `probe: 'EINVAL'` makes the
   * coalesced-write probe fail, as on Linux 6.6.44. See src/binding/simulated/offload.ts.
   */
  offload?: SimOffloadKernel;
}

export class SimulatedBinding implements TunBinding {
  readonly kind = 'simulated' as const;
  readonly faults = new FaultInjector();
  readonly kernel: SimKernel;
  readonly world: SimulatedWorld;
  readonly #privileged: boolean;
  readonly #uid: number;
  readonly #gid: number;
  readonly #options: SimulatedBindingOptions;
  /** Other namespaces, one simulated kernel each, by the path (or fd) that names them. */
  readonly #namespaces: Map<string, SimKernel>;
  #openFds = 0;
  readonly #monitors = new LinkMonitors((onRecords) => {
    this.#openFds += 1;
    return this.kernel.listen(onRecords, () => { this.#openFds -= 1; });
  }, () => this.faults.enterSync('monitor'));

  constructor(options: SimulatedBindingOptions = {}, namespaces = new Map<string, SimKernel>()) {
    this.#options = options;
    this.#namespaces = namespaces;
    this.kernel = options.kernel ?? new SimKernel(options);
    this.world = new SimulatedWorld(this.kernel);
    this.#privileged = options.privileged ?? true;
    this.#uid = options.uid ?? 1000;
    this.#gid = options.gid ?? 1000;
  }

  /**
   * Count the call, apply injected faults, then check privilege: what the kernel
   * would do first. (open checks its own, as it may attach to a TUN we own.)
   */
  async #enter(op: BindingOp, interfaceName?: string): Promise<void> {
    await this.faults.enter(op, interfaceName);
    if (!this.#privileged && OPERATIONS[op].privileged) {
      throw new TunSystemError({ code: 'EPERM', syscall: syscallOf(op), ...(interfaceName ? { interfaceName } : {}) });
    }
  }

  #link(ifindex: number, op: BindingOp): SimLink {
    return this.kernel.require(ifindex, syscallOf(op));
  }

  /**
   * A world per namespace: the same name (or path, or fd number) gives the
   * same simulated kernel, made on first use — there is no /var/run/netns
   * here, so a missing namespace is never ENOENT (the native binding's tests
   * cover those errors). Namespaces of a binding and of the bindings it
   * returns are one set, as in a real process.
   */
  async namespace(netns: NetnsTarget): Promise<TunBinding> {
    const target = validateNetns(netns, 'netns');
    await this.#enter('namespace');
    const key = target.path ?? `fd:${target.fd}`;
    let kernel = this.#namespaces.get(key);
    if (kernel === undefined) {
      kernel = new SimKernel({ ...this.#options, kernel: undefined } as SimKernelOptions);
      this.#namespaces.set(key, kernel);
    }
    return new SimulatedBinding({ ...this.#options, kernel }, this.#namespaces);
  }

  async open(options?: OpenOptions): Promise<TunDevice> {
    const opts = validateOpenOptions(options);
    if (opts.netns !== undefined) return (await this.namespace(opts.netns)).open({ ...options, netns: undefined });
    const fixedName = opts.name.includes('%d') ? undefined : opts.name;
    // Validated whole before anything is made, like every other argument.
    const steps = options?.configure === undefined ? undefined : planSteps(options.configure, 'options.configure');
    await this.faults.enter('open', fixedName);
    if (!this.#privileged) {
      // Without CAP_NET_ADMIN only an existing persistent TUN owned by us may be attached (tun_not_capable).
      const existing = fixedName === undefined ? undefined : this.kernel.find(fixedName);
      const owned = existing !== undefined && opts.attachExisting
        && (existing.owner === this.#uid || existing.ownerGroup === this.#gid);
      if (!owned) throw new TunSystemError({ code: 'EPERM', syscall: syscallOf('open'), ...(fixedName ? { interfaceName: fixedName } : {}) });
    }
    const existed = fixedName !== undefined && this.kernel.find(fixedName) !== undefined;
    const offload = simulatedOffload(opts.offload, this.#options.offload);
    let device: SimulatedTunDevice | undefined;
    const queues: SimulatedPacketQueue[] = [];
    const link = this.kernel.openTun(opts, (joined) => {
      for (let i = 0; i < opts.queues; i++) {
        queues.push(new SimulatedPacketQueue(this.kernel, joined, i, () => device?.mtu ?? joined.mtu, () => { this.#openFds -= 1; },
          () => device?.offload ?? offload));
      }
      return queues;
    });
    this.#openFds += queues.length;
    device = new SimulatedTunDevice(this.kernel, link, queues, offload, this.#options.offload);
    if (steps !== undefined) {
      try {
        await this.#runSteps(device.ifindex, steps);
      } catch (error) {
        // All or nothing, as the native open does it: a persistent link this
        // call made loses persistence first, so closing its fds deletes it.
        if (!existed && this.kernel.find(link.ifindex) === link) this.kernel.setPersist(link, false);
        device.close();
        throw error;
      }
      if (options?.configure?.up === true) device.probeOffload();
    }
    return device;
  }

  /** Never reads back (options.readBack): the caller's reads go through the fault injector one by one. */
  async configure(ifindex: number, plan: LinkPlan, options?: ConfigureOptions): Promise<undefined> {
    validateIfindex(ifindex);
    const steps = planSteps(plan);
    if (options?.readBack !== undefined) validateBoolean(options.readBack, 'options.readBack');
    await this.#enter('configure');
    await this.#runSteps(ifindex, steps);
    return undefined;
  }

  /**
   * Each step as the single operations it stands for, each through the fault
   * injector; a failure gets `step` (its index in the plan), as the native
   * binding's error does.
   */
  async #runSteps(ifindex: number, steps: PlanStep[]): Promise<void> {
    for (const [index, step] of steps.entries()) {
      try {
        for (const call of callsOfStep(step)) {
          await (this[call.op] as (ifindex: number, arg: unknown) => Promise<void>).call(this, ifindex, call.arg);
        }
      } catch (error) {
        if (error !== null && typeof error === 'object') Object.assign(error, { step: index });
        throw error;
      }
    }
  }

  async getLink(link: string | number): Promise<LinkInfo> {
    const key = validateLinkKey(link);
    await this.#enter('getLink', typeof key === 'string' ? key : undefined);
    return this.kernel.info(this.kernel.require(key, syscallOf('getLink')));
  }

  async listLinks(): Promise<LinkInfo[]> {
    await this.#enter('listLinks');
    return this.kernel.all().map((link) => this.kernel.info(link));
  }

  async setMtu(ifindex: number, mtu: number): Promise<void> {
    validateIfindex(ifindex);
    validateMtu(mtu);
    await this.#enter('setMtu');
    this.kernel.setMtu(this.#link(ifindex, 'setMtu'), mtu);
  }

  async setUp(ifindex: number, up: boolean): Promise<void> {
    validateIfindex(ifindex);
    validateBoolean(up, 'up');
    await this.#enter('setUp');
    this.kernel.setUp(this.#link(ifindex, 'setUp'), up);
  }

  async setAlias(ifindex: number, alias: string): Promise<void> {
    validateIfindex(ifindex);
    validateAlias(alias);
    await this.#enter('setAlias');
    this.kernel.setAlias(this.#link(ifindex, 'setAlias'), alias);
  }

  async setGroup(ifindex: number, group: number): Promise<void> {
    validateIfindex(ifindex);
    validateInteger(group, 'group', 0, 0xffffffff);
    await this.#enter('setGroup');
    this.kernel.setGroup(this.#link(ifindex, 'setGroup'), group);
  }

  async addAddress(ifindex: number, cidr: string): Promise<void> {
    validateIfindex(ifindex);
    const parsed = parseCidr(cidr, 'cidr');
    await this.#enter('addAddress');
    this.kernel.addAddress(this.#link(ifindex, 'addAddress'), parsed);
  }

  async deleteAddress(ifindex: number, cidr: string): Promise<void> {
    validateIfindex(ifindex);
    const parsed = parseCidr(cidr, 'cidr');
    await this.#enter('deleteAddress');
    this.kernel.deleteAddress(this.#link(ifindex, 'deleteAddress'), parsed);
  }

  async listAddresses(ifindex: number): Promise<AddressInfo[]> {
    validateIfindex(ifindex);
    await this.#enter('listAddresses');
    return this.kernel.addresses(this.#link(ifindex, 'listAddresses'));
  }

  async addRoute(ifindex: number, route: RouteSpec): Promise<void> {
    validateIfindex(ifindex);
    const normalized = normalizeRoute(route);
    await this.#enter('addRoute');
    this.kernel.addRoute(this.#link(ifindex, 'addRoute'), normalized);
  }

  async deleteRoute(ifindex: number, route: RouteSpec): Promise<void> {
    validateIfindex(ifindex);
    const normalized = normalizeRoute(route);
    await this.#enter('deleteRoute');
    this.kernel.deleteRoute(this.#link(ifindex, 'deleteRoute'), normalized);
  }

  async listRoutes(ifindex: number): Promise<RouteInfo[]> {
    validateIfindex(ifindex);
    await this.#enter('listRoutes');
    return this.kernel.routes(this.#link(ifindex, 'listRoutes'));
  }

  async deleteLink(ifindex: number): Promise<void> {
    validateIfindex(ifindex);
    await this.#enter('deleteLink');
    this.kernel.deleteLink(this.#link(ifindex, 'deleteLink'));
  }

  async deleteLinkGroup(group: number): Promise<void> {
    validateInteger(group, 'group', 1, 0xffffffff);
    await this.#enter('deleteLinkGroup');
    this.kernel.deleteLinkGroup(group);
  }

  /** Every monitor of this binding shares one simulated netlink socket, as the native ones share one per thread. */
  monitor(ifindex: number, onEvent: (event: LinkEvent) => void, onError?: (err: Error) => void, onSynced?: (baseline: MonitorBaseline) => void): LinkMonitor {
    return this.#monitors.monitor(ifindex, onEvent, onError, onSynced);
  }

  openFdCount(): number {
    return this.#openFds;
  }
}

export { SimKernel } from './kernel.js';
export type { SimulatedLinkSnapshot, AddressScope } from './kernel.js';
export { FaultInjector } from './faults.js';
export type { BindingOp } from '../contract/operations.js';
export { SimulatedWorld } from './world.js';
export type { OpenFdInfo } from './world.js';
export { SimulatedPacketQueue, READ_BATCH } from './queue.js';
export { SimulatedTunDevice } from './device.js';
