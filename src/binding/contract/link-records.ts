// What a netlink listener hands over: the kernel's link, address and route messages
// as records, nothing judged yet. The native addon's listener (native/monitor.cc)
// parses them off its socket; the simulated kernel queues the same records
// for its listeners. What the records mean for a monitor is decided in one
// place, src/binding/contract/link-changes.ts.

import type { Family } from './types.js';

/**
 * RTM_NEWLINK / RTM_DELLINK. `seq` is the sequence number of the request it
 * answers (0 for a multicast notification).
 */
export interface LinkRecord {
  type: 'link';
  seq: number;
  deleted: boolean;
  ifindex: number;
  name: string;
  /** IFF_* flags word */
  flags: number;
  mtu: number;
}

/** RTM_NEWADDR / RTM_DELADDR (a dump answer or a notification). */
export interface AddressRecord {
  type: 'address';
  seq: number;
  deleted: boolean;
  ifindex: number;
  family: Family;
  /** network-order bytes: 4 or 16 */
  address: Uint8Array;
  prefixLength: number;
}

/**
 * RTM_NEWROUTE / RTM_DELROUTE of a route whose output interface (RTA_OIF) is
 * `ifindex`, as the kernel sent it: which of them count (main table, unicast,
 * not the kernel's own prefix routes) is the meaning's to decide.
 */
export interface RouteRecord {
  type: 'route';
  seq: number;
  deleted: boolean;
  ifindex: number;
  family: Family;
  /** network-order bytes: 4 or 16 */
  destination: Uint8Array;
  prefixLength: number;
  /** RTA_PRIORITY as the kernel stores it (IPv6's 0 reads back 1024) */
  metric: number;
  /** RTA_TABLE (254: main) */
  table: number;
  /** rtm_protocol (2: kernel) */
  protocol: number;
  /** rtm_type (1: unicast) */
  routeType: number;
}

/** The end of an answer: NLMSG_DONE (errno 0) or NLMSG_ERROR (errno > 0). */
export interface DoneRecord {
  type: 'done';
  seq: number;
  errno: number;
  extack: string;
}

export type ListenerRecord = LinkRecord | AddressRecord | RouteRecord | DoneRecord;

/**
 * A request sent on the listener's own socket, so its answer is queued in
 * the stream behind every notification that came before it:
 *  - 'link': RTM_GETLINK for ifindex (one RTM_NEWLINK back, or an error)
 *  - 'addresses': RTM_GETADDR dump of ifindex's addresses, then DONE
 *  - 'routes': RTM_GETROUTE dump of the main table's routes out of ifindex, then DONE
 */
export interface ListenerRequest {
  type: 'link' | 'addresses' | 'routes';
  seq: number;
  ifindex: number;
}

/** One receive burst: its records in socket order, and whether the socket overran (ENOBUFS) meanwhile. */
export type OnListenerRecords = (records: ListenerRecord[], overrun: boolean) => void;

/** Records read ahead by a request (see LinkListener.request), not yet delivered. */
export interface ListenerBurst {
  records: ListenerRecord[];
  overrun: boolean;
}

/** The socket failed for good: the listener has closed itself. */
export type OnListenerFailed = (error: Error) => void;

/** A listener in the link, address and route multicast groups. */
export interface LinkListener {
  /**
   * Sends the request; throws (a TunSystemError) when the kernel refuses the
   * send. A socket runs one dump at a time (a second is refused with EBUSY
   * until the first has been read), so before a dump the listener reads what
   * its socket holds up to the end of the previous one, without waiting, and
   * returns it: those records come before any it delivers later.
   */
  request(request: ListenerRequest): ListenerBurst | undefined;
  /** Notifications about ifindex are delivered (true) or dropped unparsed (false, the default). */
  setInterest(ifindex: number, interested: boolean): void;
  /** Idempotent; nothing is delivered after it. */
  close(): void;
}

/** Opens a listener (throws when the socket cannot be made). */
export type OpenLinkListener = (onRecords: OnListenerRecords, onFailed: OnListenerFailed) => LinkListener;
