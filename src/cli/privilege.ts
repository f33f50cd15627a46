// What creating a TUN needs, checked before trying, so the error says exactly
// what is missing instead of a bare EPERM: CAP_NET_ADMIN (root has it) and a
// read/write /dev/net/tun.

import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { CliError, ExitCode } from './exit-codes.js';

const CAP_NET_ADMIN = 12n;

export function hasNetAdmin(): boolean {
  if (process.getuid?.() === 0) return true;
  try {
    const line = readFileSync('/proc/self/status', 'utf8').split('\n').find((l) => l.startsWith('CapEff:'));
    return line !== undefined && ((BigInt(`0x${line.slice(7).trim()}`) >> CAP_NET_ADMIN) & 1n) === 1n;
  } catch {
    return false;
  }
}

export const PRIVILEGE_HINT =
  'Creating or deleting a TUN interface needs CAP_NET_ADMIN: run as root (e.g. `sudo tun-lifecycle …`) or grant the ' +
  'capability to node (`sudo setcap cap_net_admin+ep "$(command -v node)"`), and read/write access to /dev/net/tun ' +
  '(if it is missing: `sudo modprobe tun`).';

/** Throws a CliError (exit 3) naming what is missing. */
export function requireTunPrivilege(what: string): void {
  const missing: string[] = [];
  if (!hasNetAdmin()) missing.push('CAP_NET_ADMIN (this process is not root and lacks the capability)');
  if (!existsSync('/dev/net/tun')) missing.push('/dev/net/tun (the tun module is not loaded)');
  else {
    try {
      accessSync('/dev/net/tun', constants.R_OK | constants.W_OK);
    } catch {
      missing.push('read/write access to /dev/net/tun');
    }
  }
  if (missing.length) throw new CliError(`${what} needs ${missing.join(' and ')}.`, ExitCode.NoPrivilege, PRIVILEGE_HINT);
}

/** A kernel refusal for lack of privilege, turned into the same message. */
export function privilegeErrorFrom(error: unknown, what: string): CliError | undefined {
  for (let e: unknown = error; e; e = (e as { cause?: unknown }).cause) {
    const code = (e as { code?: unknown }).code;
    if (code === 'EPERM' || code === 'EACCES') {
      return new CliError(`${what}: the kernel refused (${(e as Error).message}).`, ExitCode.NoPrivilege, PRIVILEGE_HINT);
    }
  }
  return undefined;
}
