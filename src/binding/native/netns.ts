// A network namespace the native binding works in: the addon's handle on it
// (native/ops.cc openNamespace: a dup of the namespace fd and a netlink pool
// whose sockets were born inside it) is held while anything of the namespace
// is open (a device, the link listener) or a request is in flight, and let go
// of afterwards. Holding it longer would keep the namespace alive after
// `ip netns del` (an nsfs fd and a netlink socket each hold a reference), so a
// test rig making and deleting namespaces would pile up dead ones.

import { fs } from '../contract/builtins.js';
import { TunSystemError } from '../contract/system-error.js';
import { validateNetns, type NormalizedNetns } from '../contract/validate.js';
import type { NetnsTarget } from '../contract/types.js';
import type { AddonOps, RawNamespace, TunAddon } from './addon.js';

/** The AddonOps names, so a lease can stand in for the addon's own operations. */
const OP_NAMES = [
  'openDevice', 'getLink', 'listLinks', 'changeLink', 'deleteLink', 'deleteLinkGroup',
  'changeAddress', 'listAddresses', 'changeRoute', 'listRoutes', 'configureLink',
] as const satisfies readonly (keyof AddonOps)[];
type Missing = Exclude<keyof AddonOps, (typeof OP_NAMES)[number]>;
const everyOp: [Missing] extends [never] ? true : never = true;
void everyOp;

export class NamespaceLease {
  readonly #addon: TunAddon;
  readonly #target: NormalizedNetns;
  /** What the user named, for errors. */
  readonly label: string;
  #handle: Promise<RawNamespace> | undefined;
  #ready: RawNamespace | undefined;
  #users = 0;
  /** The namespace was entered once: its name vanishing since means it is gone. */
  #entered = false;
  /** The addon's operations, each run inside the namespace. */
  readonly ops: AddonOps;

  constructor(addon: TunAddon, netns: NetnsTarget) {
    this.#addon = addon;
    this.#target = validateNetns(netns, 'netns');
    this.label = typeof netns === 'number' ? `fd ${netns}` : this.#target.path!;
    const ops: Record<string, unknown> = {};
    for (const name of OP_NAMES) {
      ops[name] = (...args: unknown[]) => this.use((handle) => (handle[name] as (...a: unknown[]) => Promise<unknown>)(...args));
    }
    this.ops = ops as unknown as AddonOps;
  }

  /** Opens the handle now: the namespace's errors (ENOENT, EINVAL, EPERM) surface here. */
  async check(): Promise<void> {
    await this.use(async () => undefined);
  }

  /** Runs fn with the handle held for its duration. */
  async use<T>(fn: (handle: RawNamespace) => Promise<T>): Promise<T> {
    this.#users += 1;
    try {
      return await fn(await this.#acquire());
    } finally {
      this.#release();
    }
  }

  /** Keeps the handle (already open: called inside use()) until the returned function runs. */
  hold(): { handle: RawNamespace; release: () => void } {
    const handle = this.#ready;
    if (handle === undefined) throw new Error('the namespace handle is not open');
    this.#users += 1;
    let released = false;
    return {
      handle,
      release: () => {
        if (released) return;
        released = true;
        this.#release();
      },
    };
  }

  #acquire(): Promise<RawNamespace> {
    this.#handle ??= this.#open().then((handle) => {
      this.#ready = handle;
      this.#entered = true;
      return handle;
    });
    const handle = this.#handle;
    handle.catch(() => { if (this.#handle === handle) this.#handle = undefined; });
    return handle;
  }

  #release(): void {
    this.#users -= 1;
    if (this.#users > 0 || this.#handle === undefined) return;
    const ready = this.#ready;
    this.#handle = undefined;
    this.#ready = undefined;
    if (ready !== undefined) this.#addon.closeNamespace(ready.id);
  }

  async #open(): Promise<RawNamespace> {
    const target = this.#target;
    if (target.fd !== undefined) return this.#handleOf(target.fd);
    let fd: number;
    try {
      fd = fs.openSync(target.path, fs.constants.O_RDONLY);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'EIO';
      // Deleted (ip netns del) after we worked in it: once our last fd closed
      // the namespace died, and every interface in it with it. Operations
      // about its links answer as for a link that is gone.
      if (code === 'ENOENT' && this.#entered) {
        throw new TunSystemError({ code: 'ENODEV', syscall: `open(${target.path})`, message: 'the network namespace is gone, and its interfaces with it' });
      }
      throw new TunSystemError({ code, syscall: `open(${target.path})` });
    }
    try {
      return await this.#handleOf(fd);
    } finally {
      fs.closeSync(fd);
    }
  }

  /** The addon's errors (EINVAL: not a network namespace; EPERM from setns) name the namespace. */
  async #handleOf(fd: number): Promise<RawNamespace> {
    try {
      return await this.#addon.openNamespace(fd);
    } catch (error) {
      if (!(error instanceof TunSystemError)) throw error;
      throw new TunSystemError({ code: error.code, syscall: `${error.syscall} on ${this.label}` });
    }
  }
}
