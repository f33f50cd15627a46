// The one table of the binding's operations: what each one says to the kernel
// and what it needs. Fault injection, the simulated privilege check and the
// faulty-binding wrapper read their lists from here, so a new TunBinding
// method is one row (the compiler refuses the table until the row is there).

import type { TunBinding } from './types.js';

/**
 * TunBinding members that are bookkeeping, not kernel conversations: no
 * syscall, never counted, never faultable.
 */
export const BOOKKEEPING = ['openFdCount'] as const;

/** The binding's operations: every TunBinding method that talks to the kernel. */
export type BindingOp = Exclude<keyof TunBinding & string, 'kind' | (typeof BOOKKEEPING)[number]>;

export interface Operation {
  /** The netlink/ioctl conversation it stands for, as errors name it in `syscall`. */
  readonly syscall: string;
  /**
   * Refused with EPERM at once without CAP_NET_ADMIN. (configure is not: each
   * of its steps is the single operation it stands for and is refused as that,
   * so the error carries `step`. open may still attach, unprivileged, to a
   * persistent TUN the caller owns.)
   */
  readonly privileged: boolean;
  /** Returns its result at once instead of a promise. */
  readonly sync: boolean;
}

function request(syscall: string, privileged: boolean): Operation {
  return { syscall, privileged, sync: false };
}

export const OPERATIONS: Readonly<Record<BindingOp, Operation>> = {
  open: request('ioctl(TUNSETIFF)', true),
  getLink: request('RTM_GETLINK', false),
  listLinks: request('RTM_GETLINK', false),
  setMtu: request('RTM_NEWLINK', true),
  setUp: request('RTM_NEWLINK', true),
  setAlias: request('RTM_NEWLINK', true),
  setGroup: request('RTM_NEWLINK', true),
  addAddress: request('RTM_NEWADDR', true),
  deleteAddress: request('RTM_DELADDR', true),
  listAddresses: request('RTM_GETADDR', false),
  addRoute: request('RTM_NEWROUTE', true),
  deleteRoute: request('RTM_DELROUTE', true),
  listRoutes: request('RTM_GETROUTE', false),
  deleteLink: request('RTM_DELLINK', true),
  deleteLinkGroup: request('RTM_DELLINK', true),
  configure: request('RTM_NEWLINK', false),
  // Entering another namespace needs CAP_SYS_ADMIN over it.
  namespace: request('setns(CLONE_NEWNET)', true),
  // Joining the multicast groups needs no privilege.
  monitor: { syscall: 'socket(AF_NETLINK)', privileged: false, sync: true },
};

/** Every operation, in the table's order. */
export const BINDING_OPS: readonly BindingOp[] = Object.keys(OPERATIONS) as BindingOp[];

export function isBindingOp(name: unknown): name is BindingOp {
  return typeof name === 'string' && Object.hasOwn(OPERATIONS, name);
}

export function syscallOf(op: BindingOp): string {
  return OPERATIONS[op].syscall;
}
