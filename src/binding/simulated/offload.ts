// Offload in the twin: a simulated kernel that takes TUNSETOFFLOAD (when the
// binding was made with `offload: { ... }`), superframes a test injects, and
// the coalesced frames the app's writes turn into, observed.
//
// The split and the coalescing are the native addon's own functions
// (native/offload, through its test-only offloadSplit / offloadCoalesce), not
// a second implementation in TypeScript: a user's test then exercises the
// very rules production runs, and there is one place where they can be wrong.
// Without the addon (a machine where it cannot build) the twin still runs
// offload's state, switches and probe; only injecting a superframe or
// observing coalesced frames needs it, and says so.

import { loadAddon, type TunAddon } from '../native/addon.js';
import { initialState, QueueMode, TUN_F, VNET_HDR_LEN } from '../contract/offload.js';
import { TunSystemError } from '../contract/system-error.js';
import type { OffloadOption, OffloadState } from '../contract/types.js';
import { chooseMode } from '../contract/offload.js';

/** What the simulated kernel offers; mutable, so a test can change it between opens. */
export interface SimOffloadKernel {
  /** TUNSETOFFLOAD takes USO4|USO6 (Linux 6.2+). Default true. */
  uso?: boolean;
  /** The coalesced-write probe fails with this errno code (e.g. 'EINVAL', as on Linux 6.6.44). */
  probe?: string;
}

let addon: TunAddon | undefined;

function segmentation(what: string): TunAddon {
  try {
    addon ??= loadAddon();
    return addon;
  } catch (error) {
    throw new Error(`${what} in the simulated binding uses the native addon's split/coalesce, which did not load: ${(error as Error).message}`);
  }
}

/** The state a simulated open gets: the same rules as the native one, over the simulated kernel's mask. */
export function simulatedOffload(asked: OffloadOption, kernel: SimOffloadKernel | undefined): OffloadState {
  if (asked !== false && kernel === undefined) {
    return initialState(QueueMode.Plain, 0, 'the simulated kernel has no offload (SimulatedBinding option offload)');
  }
  const { mode, reason } = chooseMode(asked);
  const mask = TUN_F.CSUM | TUN_F.TSO4 | TUN_F.TSO6 | (kernel?.uso === false ? 0 : TUN_F.USO4 | TUN_F.USO6);
  return initialState(mode, mode === QueueMode.Plain ? 0 : mask, reason);
}

/** A frame read in `mode`: raw keeps its header, segmented is split into packets. */
export function framesToRead(frame: Buffer, mode: OffloadState['mode']): Buffer[] {
  if (mode === 'raw') return [frame];
  const { data, lengths } = segmentation('Splitting an injected superframe').offloadSplit(frame);
  const out: Buffer[] = [];
  let offset = 0;
  for (const length of lengths) {
    out.push(data.subarray(offset, offset + length));
    offset += length;
  }
  return out;
}

/** An ordinary packet as a raw-mode read hands it out: an all-zero (GSO_NONE) header in front. */
export function withNoneHeader(packet: Buffer): Buffer {
  return Buffer.concat([Buffer.alloc(VNET_HDR_LEN), packet]);
}

/** The frames a batch of segmented writes becomes (each its virtio header then the packet or superframe). */
export function coalesce(packets: readonly Uint8Array[], switches: { tcp: boolean; udp: boolean }): Buffer[] {
  return segmentation('Coalescing writes').offloadCoalesce(packets, switches);
}

/** The packets the kernel receives for one raw-mode write (split when it is a superframe). */
export function packetsOfRawWrite(frame: Uint8Array): Buffer[] {
  const buffer = Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
  if (buffer[1] === 0 && (buffer[0]! & 1) === 0) return [buffer.subarray(VNET_HDR_LEN)];
  return framesToRead(buffer, 'segmented');
}

/** The probe's verdict in the twin: the errno the simulated kernel refuses coalesced writes with, if any. */
export function probeRefusal(kernel: SimOffloadKernel | undefined): TunSystemError | undefined {
  return kernel?.probe === undefined ? undefined : new TunSystemError({ code: kernel.probe, syscall: 'writev' });
}
