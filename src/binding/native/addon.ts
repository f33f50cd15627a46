// Finding and loading the compiled addon, and the shape of what it exports.
// The addon is loaded once per thread (ESM module state is per worker), and
// handed the TunSystemError constructor so every error it makes is one.

import { createRequire } from 'node:module';
import { fs, path, url } from '../contract/builtins.js';
import { TunSystemError, type TunSystemErrorInit } from '../contract/system-error.js';
import type { QueueStats } from '../contract/types.js';
import type { QueueMode } from '../contract/offload.js';
import type { LinkListener, OnListenerFailed, OnListenerRecords } from '../contract/link-records.js';

export interface RawLink {
  name: string;
  ifindex: number;
  flags: number;
  mtu: number;
  /** IF_OPER_* number */
  operstate: number;
  alias: string;
  group: number;
  /** rx/tx packets, rx/tx bytes, rx/tx errors, rx/tx dropped */
  stats: bigint[];
}

export interface RawAddress {
  family: 4 | 6;
  address: Buffer;
  prefixLength: number;
  scope: number;
  flags: number;
}

/**
 * Routes as the addon hands them over: one buffer of ROUTE_RECORD_BYTES
 * records (native/ops.cc RoutesToJs), decoded by toRoutes in binding.ts.
 */
export type RawRoutes = Uint8Array;

/** The addon's queue counters are the public QueueStats, field for field. */
export type RawQueueStats = QueueStats;

export interface RawQueue {
  /** onPackets(batch, count): packet i is lengths[i] bytes, packed back to back in batch. */
  bind(
    onPackets: (batch: Buffer, count: number) => void,
    onError: (err: TunSystemError) => void,
    onDrain: () => void,
    lengths: Uint32Array,
  ): void;
  /** 1 written, 0 queued behind a backlog (wait for drain), negative errno refused. */
  write(packet: Uint8Array): number;
  /** Segmented mode: coalesced per flow, one writev per frame. Same result as write(). */
  writeBatch(packets: readonly Uint8Array[]): number;
  /** 0 when the kernel takes a coalesced write; else its errno (or the fault hook's). */
  probeCoalesce(): number;
  /** The coalescing switches now in force. */
  setCoalesce(tcp: boolean, udp: boolean): { tcp: boolean; udp: boolean };
  /** true: every batch is a view of one reused read slab (valid during the call); false: handed over or copied. */
  reuseReadBuffer(on: boolean): void;
  pause(): void;
  resume(): void;
  close(): void;
  /** The fd, duplicated, into the process-wide handoff registry (native/handoff.h); this queue closes. */
  handOff(): number;
  stats(): RawQueueStats;
  setPersist(persist: boolean): Promise<void>;
  readonly closed: boolean;
}

/** openDevice's read-back (native/ops.cc ReadBackLink): what getLink, listAddresses and listRoutes answer. */
export interface RawReadBack {
  link: RawLink;
  addresses: RawAddress[];
  routes: RawRoutes;
}

export interface RawDevice {
  name: string;
  ifindex: number;
  mtu: number;
  /** false when an existing interface was attached to */
  created: boolean;
  /** TUN_F_* bits TUNSETOFFLOAD accepted (0 without offload). */
  offloadMask: number;
  /** Why TUNSETOFFLOAD(CSUM|TSO4|TSO6) was refused (0 when it was not). */
  offloadErrno: number;
  queues: RawQueue[];
  /** With readBack asked and every read answered. */
  readBack?: RawReadBack;
}

/** The addon's link listener (native/monitor.h): the LinkListener of link-records.ts. */
export interface RawLinkListener extends LinkListener {
  readonly closed: boolean;
}

/**
 * The packed step layout, as the addon exports it (`stepLayout`): word
 * positions, step kinds and flags by name. Defined once, in native/ops.h
 * (kStepLayout, which says what each word holds); the packer
 * (src/binding/native/step-packer.ts) reads the names it packs with and
 * refuses a layout that lacks one.
 */
export type StepLayout = Readonly<Record<string, number>>;

/** A plan packed for the addon: `count` steps in `words`; the plan's one alias travels beside them. */
export interface RawLinkSteps {
  words: Uint32Array;
  count: number;
  alias: string | undefined;
}

/** The kernel operations, each talking to one network namespace (the environment's own on TunAddon). */
export interface AddonOps {
  /**
   * TUNSETIFF (and owner/group/persist), then `steps` when given, in the same
   * worker; all or nothing: a failing step rolls the device back and the
   * error gets `step`. `mtu` is the device's MTU once the steps ran. With
   * readBack the same worker then reads the link, its addresses and routes.
   */
  openDevice(name: string, queues: number, multiQueue: boolean, persist: boolean, owner: number, group: number,
    attachExisting: boolean, steps: Uint32Array | undefined, stepCount: number, alias: string | undefined,
    readBack: boolean, offload: QueueMode): Promise<RawDevice>;
  getLink(link: number | string): Promise<RawLink>;
  listLinks(): Promise<RawLink[]>;
  /** mtu 0 keeps it; up -1 keeps it; alias/group undefined keep them. One RTM_NEWLINK. */
  changeLink(ifindex: number, mtu: number, up: number, alias: string | undefined, group: number | undefined): Promise<void>;
  deleteLink(ifindex: number): Promise<void>;
  deleteLinkGroup(group: number): Promise<void>;
  changeAddress(add: boolean, ifindex: number, family: 4 | 6, bytes: Uint8Array, prefixLength: number): Promise<void>;
  listAddresses(ifindex: number): Promise<RawAddress[]>;
  changeRoute(add: boolean, ifindex: number, family: 4 | 6, bytes: Uint8Array, prefixLength: number, metric: number): Promise<void>;
  /** Main-table routes whose RTA_OIF is ifindex, every protocol and type. */
  listRoutes(ifindex: number): Promise<RawRoutes>;
  /**
   * The steps in order, in one worker; stops at the first failure (the error
   * gets `step`). With readBack the worker then reads the link, its addresses
   * and routes (undefined when a read failed).
   */
  configureLink(ifindex: number, steps: Uint32Array, stepCount: number, alias: string | undefined, readBack?: boolean): Promise<RawReadBack | undefined>;
}

/** A handle on another network namespace (native/ops.cc openNamespace): the operations, inside it. */
export interface RawNamespace extends AddonOps {
  readonly id: number;
  /** 'dev:ino' of the namespace's nsfs inode: equal keys, the same namespace. */
  readonly key: string;
}

/** What the addon (build/Release/tun_lifecycle.node or a prebuild) exports. Each function is one kernel conversation. */
export interface TunAddon extends AddonOps {
  init(makeError: (init: TunSystemErrorInit) => Error): void;
  readonly stepLayout: StepLayout;
  /** fd (kept by the caller) must be a network namespace (EINVAL); EPERM without privilege over it. */
  openNamespace(fd: number): Promise<RawNamespace>;
  /** A queue handed off (by any thread) becomes this environment's; EBADF for an unknown token. */
  adoptQueue(token: number): RawQueue;
  /** Closes a handed-off queue nobody adopted; false when it was adopted (or never existed). */
  reclaimQueue(token: number): boolean;
  /** Lets go of the handle: its idle sockets and its namespace fd close. */
  closeNamespace(id: number): void;
  /** Test hook (process-wide): a nonzero errno makes every offload probe fail with it; 0 clears. */
  setOffloadProbeFault(errno: number): void;
  /** Test hook (process-wide): a nonzero errno makes every superframe write fail with it; 0 clears. */
  setOffloadWriteFault(errno: number): void;
  /** Queue and monitor fds plus netlink sockets (in use or idle in the pool). */
  fdCount(): number;
  /** Idle netlink sockets kept for reuse (default 2; 0 = one socket per request). */
  setPoolSize(n: number): void;
  /** One NETLINK_ROUTE socket in the link and address groups; throws when it cannot be made. */
  LinkListener: new (onRecords: OnListenerRecords, onFailed: OnListenerFailed, namespace?: RawNamespace) => RawLinkListener;
  /** Test-only (native/offload): one TUN read (virtio header first) split into packets; TunSystemError EINVAL / ENOBUFS. */
  offloadSplit(frame: Uint8Array, maxPackets?: number): RawSplit;
  /** Test-only (native/offload): packets coalesced into the frames a TUN write gets, each frame's iovecs concatenated. */
  offloadCoalesce(packets: readonly Uint8Array[], options?: { tcp?: boolean; udp?: boolean }): Buffer[];
}

/** Packet i is lengths[i] bytes, packed back to back in data. */
export interface RawSplit {
  data: Buffer;
  lengths: number[];
}

export const PACKAGE_NAME = 'tun-lifecycle';

/** The directory holding this package's package.json, found by walking up from this file. */
export function findPackageRoot(from: string = path.dirname(url.fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json');
    if (fs.existsSync(manifest)) {
      try {
        if ((JSON.parse(fs.readFileSync(manifest, 'utf8')) as { name?: string }).name === PACKAGE_NAME) return dir;
      } catch {
        // an unreadable manifest is not ours; keep walking
      }
    }
    if (path.dirname(dir) === dir) throw new Error(`${PACKAGE_NAME}: cannot find the package root above ${from}`);
  }
}

const require = createRequire(import.meta.url);

/**
 * The addon file to load: a local build (build/Release, what `npm run install`
 * or a fallback compile makes; preferred, so a checkout runs what it built),
 * else the prebuild shipped for this platform, arch and libc
 * (prebuilds/linux-x64/, prebuilds/linux-arm64/; Node-API, any Node >= 20).
 * node-gyp-build does the choosing, the same way the install script did.
 */
export function findAddon(root: string = findPackageRoot()): string {
  const direct = usualAddon(root);
  if (direct) return direct;
  const gypBuild = require('node-gyp-build') as { path(dir: string): string };
  try {
    return gypBuild.path(root);
  } catch (cause) {
    throw new Error(
      `${PACKAGE_NAME}: no native addon for ${process.platform}-${process.arch} in ${root} ` +
        '(no build/Release/tun_lifecycle.node and no matching prebuilds/). ' +
        `Build it with \`npm rebuild ${PACKAGE_NAME}\` (needs python3, make and g++; uses the local Node headers).`,
      { cause },
    );
  }
}

/**
 * node-gyp-build's first choices, looked at directly: the local build, else the
 * glibc prebuild for this arch (the name scripts/prebuild.mjs gives it). Its
 * directory walk costs about 2 ms of the first create; anything unusual
 * (musl, other names) still goes through it.
 */
function usualAddon(root: string): string | undefined {
  const local = path.join(root, 'build', 'Release', 'tun_lifecycle.node');
  if (fs.existsSync(local)) return local;
  if (fs.existsSync('/etc/alpine-release')) return undefined;
  const shipped = path.join(root, 'prebuilds', `${process.platform}-${process.arch}`, 'tun-lifecycle.napi.glibc.node');
  return fs.existsSync(shipped) ? shipped : undefined;
}

let addon: TunAddon | undefined;

/** Loads the addon (once per thread). Throws a message saying how to build it when it is missing. */
export function loadAddon(): TunAddon {
  if (addon) return addon;
  const file = findAddon();
  let loaded: TunAddon;
  try {
    // process.dlopen is what require() of a .node file ends in; called
    // directly it skips the CommonJS loader's resolve and its first-run
    // compile (about 0.5 ms of a cold start). The file is an absolute path.
    const module = { exports: {} as TunAddon };
    process.dlopen(module, file);
    loaded = module.exports;
  } catch (cause) {
    throw new Error(`${PACKAGE_NAME}: cannot load ${file}: ${(cause as Error).message}. ` +
      `Rebuild it for this machine with \`npm rebuild ${PACKAGE_NAME}\`.`, { cause });
  }
  loaded.init((init) => new TunSystemError(init));
  addon = loaded;
  return addon;
}
