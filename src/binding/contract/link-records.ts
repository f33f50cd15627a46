// What a netlink listener hands over: the kernel's link and address messages
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

/** The end of an answer: NLMSG_DONE (errno 0) or NLMSG_ERROR (errno > 0). */
export interface DoneRecord {
  type: 'done';
  seq: number;
  errno: number;
  extack: string;
}

export type ListenerRecord = LinkRecord | AddressRecord | DoneRecord;

/**
 * A request sent on the listener's own socket, so its answer is queued in
 * the stream behind every notification that came before it:
 *  - 'link': RTM_GETLINK for ifindex (one RTM_NEWLINK back, or an error)
 *  - 'addresses': RTM_GETADDR dump of ifindex's addresses, then DONE
 */
export interface ListenerRequest {
  type: 'link' | 'addresses';
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

/** A listener in the link and address multicast groups. */
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
