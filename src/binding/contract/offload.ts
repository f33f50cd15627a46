// The offload rules both bindings share: what the option may be, what the
// process-wide switch does, what the kernel's accepted mask means, and the
// state a device reports. Policy only; the kernel conversation is native/tun.cc.

import { InvalidArgumentTypeError, InvalidArgumentValueError, OutOfRangeError } from './validate.js';
import type { OffloadOption, OffloadState } from './types.js';

/** The environment variable that turns offload off for the whole process (0, false, off, no). */
export const OFFLOAD_ENV = 'TUN_LIFECYCLE_OFFLOAD';

const OFF_WORDS = new Set(['0', 'false', 'off', 'no']);

/** TUN_F_* bits (linux/if_tun.h). */
export const TUN_F = { CSUM: 0x01, TSO4: 0x02, TSO6: 0x04, USO4: 0x20, USO6: 0x40 } as const;

/** Queue framing the addon knows (QueueMode in native/queue.h). */
export const QueueMode = { Plain: 0, Segmented: 1, Raw: 2 } as const;
export type QueueMode = (typeof QueueMode)[keyof typeof QueueMode];

export function validateOffload(value: unknown, argument = 'options.offload'): OffloadOption {
  if (value === true || value === false || value === 'auto' || value === 'raw') return value;
  throw new InvalidArgumentValueError(argument, "must be false, true, 'auto' or 'raw'", value);
}

/** True when the environment switched offload off for this process. */
export function offloadDisabledByEnv(env: NodeJS.ProcessEnv = process.env): boolean {
  const value = env[OFFLOAD_ENV];
  return value !== undefined && OFF_WORDS.has(value.trim().toLowerCase());
}

/** The framing a device is opened with, and why it is less than asked. */
export function chooseMode(asked: OffloadOption): { mode: QueueMode; reason: string | undefined } {
  if (asked === false) return { mode: QueueMode.Plain, reason: 'offload not asked' };
  if (offloadDisabledByEnv()) return { mode: QueueMode.Plain, reason: `${OFFLOAD_ENV}=${process.env[OFFLOAD_ENV]} turns offload off for this process` };
  return { mode: asked === 'raw' ? QueueMode.Raw : QueueMode.Segmented, reason: undefined };
}

/** The state of a freshly opened device from its mode and the mask the kernel accepted. */
export function initialState(mode: QueueMode, mask: number, reason: string | undefined, refusal?: string): OffloadState {
  const tso = mode !== QueueMode.Plain && (mask & (TUN_F.CSUM | TUN_F.TSO4 | TUN_F.TSO6)) === (TUN_F.CSUM | TUN_F.TSO4 | TUN_F.TSO6);
  const uso = tso && (mask & (TUN_F.USO4 | TUN_F.USO6)) === (TUN_F.USO4 | TUN_F.USO6);
  const segmented = mode === QueueMode.Segmented;
  if (mode !== QueueMode.Plain && !tso) reason = `the kernel refused TUNSETOFFLOAD(CSUM|TSO4|TSO6)${refusal ? `: ${refusal}` : ''}`;
  return {
    mode: mode === QueueMode.Plain ? 'off' : segmented ? 'segmented' : 'raw',
    tso,
    uso,
    coalesce: { tcp: segmented && tso, udp: segmented && uso },
    reason,
    probeFailures: 0,
  };
}

/** Bytes of the virtio_net_hdr in front of every frame in 'raw' mode. */
export const VNET_HDR_LEN = 10;
/** The largest frame a TUN takes after its header (a 64 KiB superframe). */
export const MAX_FRAME = 65535;

/**
 * A pass-through frame: its virtio header, then an IPv4/IPv6 packet or
 * superframe (whose length fields the kernel rewrites per segment, so only
 * the size and the version nibble are checked here).
 */
export function validateRawFrame(frame: unknown, argument = 'frame'): Uint8Array {
  if (!(frame instanceof Uint8Array)) throw new InvalidArgumentTypeError(argument, 'a Buffer or Uint8Array', frame);
  if (frame.length <= VNET_HDR_LEN + 20 || frame.length > VNET_HDR_LEN + MAX_FRAME) {
    throw new OutOfRangeError(`${argument}.length`, `> ${VNET_HDR_LEN + 20} and <= ${VNET_HDR_LEN + MAX_FRAME} (virtio header + frame)`, frame.length);
  }
  const version = frame[VNET_HDR_LEN]! >> 4;
  if (version !== 4 && version !== 6) {
    throw new InvalidArgumentValueError(argument, `must be a virtio_net_hdr then an IPv4 or IPv6 packet (version nibble ${version})`, frame);
  }
  return frame;
}

/** Checks setOffload()'s argument. */
export function validateSwitches(switches: unknown): { tcp?: boolean; udp?: boolean } {
  if (switches === null || typeof switches !== 'object') throw new InvalidArgumentTypeError('switches', 'an object { tcp?, udp? }', switches);
  const s = switches as Record<string, unknown>;
  for (const key of ['tcp', 'udp']) {
    if (s[key] !== undefined && typeof s[key] !== 'boolean') throw new InvalidArgumentTypeError(`switches.${key}`, 'a boolean', s[key]);
  }
  return s as { tcp?: boolean; udp?: boolean };
}

/**
 * The state after setOffload(switches): only segmented mode coalesces, and a
 * protocol the kernel cannot take stays off whatever is asked. Turning one
 * off records why.
 */
export function switchCoalescing(now: OffloadState, switches: { tcp?: boolean; udp?: boolean }, reason = 'coalescing switched off by setOffload()'): OffloadState {
  if (now.mode !== 'segmented') return now;
  const tcp = now.tso && (switches.tcp ?? now.coalesce.tcp);
  const udp = now.uso && (switches.udp ?? now.coalesce.udp);
  if (tcp === now.coalesce.tcp && udp === now.coalesce.udp) return now;
  const lost = (now.coalesce.tcp && !tcp) || (now.coalesce.udp && !udp);
  return { ...now, coalesce: { tcp, udp }, reason: lost ? reason : now.reason };
}

/** Whether the coalesced-write probe has anything to say about this state. */
export function probeApplies(now: OffloadState): boolean {
  return now.mode === 'segmented' && (now.coalesce.tcp || now.coalesce.udp);
}

/** The state after the probe was refused with `code` (tailscale#13041): coalescing off, reads still split. */
export function probeRefused(now: OffloadState, code: string): OffloadState {
  const off = switchCoalescing(now, { tcp: false, udp: false },
    `the kernel refused a coalesced write (${code}; Linux 6.6.44 and kin, tailscale#13041): coalescing off, reads still split`);
  return { ...off, probeFailures: now.probeFailures + 1 };
}
