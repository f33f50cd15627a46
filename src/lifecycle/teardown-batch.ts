// Coalesced release for concurrent cleanups. Closing the last fd of a
// non-persistent TUN makes the kernel unregister it right there, inside
// close(): ~15 ms each, one by one, on the event loop. A single RTM_DELLINK
// naming an IFLA_GROUP unregisters a whole group in one pass (the kernel takes
// every member down, drops its addresses, flushes its routes, then
// unregisters them together). So cleanups that reach their release step
// while another release is in flight are gathered into one batch:
//
//   close the fds of persistent members → one RTM_DELLINK for the group →
//   close the fds of the others → one link dump verifies every member.
//
// The group: every link this process makes joins its adapter group at
// creation (ownership.ts adapterGroup), so when the batch is every such link
// (the "clean up everything" case) that group is deleted as it is. Otherwise
// the members are first moved to a fresh group of their own.
//
// A persistent member's fds are closed before its link is deleted, as the
// design asks. A non-persistent member's link is deleted under its open fds:
// RTM_DELLINK detaches the queues (no EBUSY: that came from the reference's
// TUNSETPERSIST-off path), after which closing them costs nothing; closing
// first would pay the one-by-one unregister the batch exists to avoid.
// (Measured here, 1000 links up with an address: tag + delete + close ≈ 0.33 s;
// making them persistent to close first ≈ 0.67 s; closing one by one ≈ 20 s.)
//
// A batch of one takes the ordinary path. Any step that fails for one member
// sends that member down the ordinary path, so its own cleanup reports its own
// error. Before the group request, the group's membership is listed: if any
// link there is not one of ours, the group is not deleted.

import type { TunBinding } from '../binding/contract/types.js';
import type { InterfaceSession } from './session.js';
import { adapterGroup, batchGroup, ownTag } from './ownership.js';
import { creationsRunning } from './create.js';
import { isGone } from './kernel-errors.js';
import { releaseDevice } from './release.js';

interface Request {
  session: InterfaceSession;
  resolve(): void;
  reject(error: unknown): void;
}

class TeardownBatcher {
  /** Cleanups running on this binding now. */
  active = 0;
  #pending: Request[] = [];
  #flushing = false;
  #scheduled = false;
  #counter = 0;

  constructor(readonly binding: TunBinding) {}

  release(session: InterfaceSession): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#pending.push({ session, resolve, reject });
      this.#schedule();
    });
  }

  #schedule(): void {
    if (this.#scheduled || this.#flushing) return;
    this.#scheduled = true;
    // One turn of the loop lets cleanups that are already past their last step join.
    setImmediate(() => {
      this.#scheduled = false;
      void this.#flush();
    });
  }

  async #flush(): Promise<void> {
    this.#flushing = true;
    try {
      while (this.#pending.length > 0) {
        const batch = this.#pending.splice(0);
        if (batch.length === 1) await settle(batch[0]!, () => releaseDevice(batch[0]!.session));
        else await this.#releaseGroup(batch);
      }
    } finally {
      this.#flushing = false;
    }
  }

  #nextGroup(): number {
    this.#counter = (this.#counter + 1) & 0xffff;
    return batchGroup(this.#counter);
  }

  async #releaseGroup(batch: Request[]): Promise<void> {
    const alone: Request[] = [];
    const members: Request[] = [];
    for (const request of batch) {
      const { session } = request;
      if (!session.device || session.device.closed || session.ifindex === undefined) alone.push(request);
      else members.push(request);
    }
    if (members.length > 0) await this.#deleteTogether(members, alone);
    await Promise.all(alone.map((request) => settle(request, () => releaseDevice(request.session))));
  }

  /**
   * Delete the members' links with one group request, resolving each member
   * it deleted; members it could not take are pushed onto `alone`.
   */
  async #deleteTogether(candidates: Request[], alone: Request[]): Promise<void> {
    const { binding } = this;
    let links = await binding.listLinks().catch(() => undefined);
    if (!links) {
      alone.push(...candidates);
      return;
    }
    let members = candidates;
    let group = adapterGroup();
    const wanted = new Set(members.map((m) => m.session.ifindex!));
    const groupOf = new Map(links.map((link) => [link.ifindex, link.group]));
    // The adapter group can go whole when every link in it is ours and in this
    // batch, and no create is adding a link to it meanwhile.
    const whole = creationsRunning() === 0
      && members.every((m) => groupOf.get(m.session.ifindex!) === group)
      && links.every((link) => link.group !== group || (wanted.has(link.ifindex) && link.alias === ownTag()));
    if (!whole) {
      group = this.#nextGroup();
      const tagged: Request[] = [];
      await Promise.all(members.map(async (member) => {
        try {
          await binding.setGroup(member.session.ifindex!, group);
          tagged.push(member);
        } catch {
          alone.push(member);
        }
      }));
      members = tagged;
      if (members.length === 0) return;
      links = await binding.listLinks().catch(() => undefined);
      const ours = new Set(members.map((m) => m.session.ifindex!));
      if (!links || !links.every((link) => link.group !== group || ours.has(link.ifindex))) {
        alone.push(...members);
        return;
      }
    }
    for (const member of members) {
      if (member.session.device!.persistent) member.session.closeFds();
      member.session.markReleasing();
    }
    try {
      await binding.deleteLinkGroup(group);
    } catch (error) {
      if (!isGone(error)) {
        alone.push(...members);
        return;
      }
    }
    for (const member of members) member.session.closeFds();
    // One dump after the deletion answers every member's "is my link gone?".
    const after = await binding.listLinks().catch(() => undefined);
    const present = new Set((after ?? []).map((link) => link.ifindex));
    for (const member of members) {
      const { session } = member;
      if (after && !present.has(session.ifindex!)) session.confirmGone(session.ifindex!);
      else session.forgetLink(session.ifindex!);
      member.resolve();
    }
  }
}

async function settle(request: Request, work: () => Promise<void>): Promise<void> {
  try {
    await work();
    request.resolve();
  } catch (error) {
    request.reject(error);
  }
}

const batchers = new WeakMap<TunBinding, TeardownBatcher>();

function batcherOf(binding: TunBinding): TeardownBatcher {
  let batcher = batchers.get(binding);
  if (!batcher) {
    batcher = new TeardownBatcher(binding);
    batchers.set(binding, batcher);
  }
  return batcher;
}

/** Release a session's device, batched with other releases on the same binding. */
export function releaseBatched(session: InterfaceSession): Promise<void> {
  return batcherOf(session.binding).release(session);
}

/**
 * Count a cleanup pass as running for its whole duration. After one turn of the
 * loop (so cleanups started together all count), `concurrent()` tells whether
 * others run beside it.
 */
export async function enterCleanup(binding: TunBinding): Promise<{ concurrent: boolean; leave(): void }> {
  const batcher = batcherOf(binding);
  batcher.active += 1;
  await new Promise<void>((resolve) => setImmediate(resolve));
  let left = false;
  return {
    concurrent: batcher.active > 1,
    leave: () => {
      if (left) return;
      left = true;
      batcher.active -= 1;
    },
  };
}
