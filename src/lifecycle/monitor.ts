// The link-monitor actor invoked in `ready`: turns changes made from outside
// (interface deleted or set down, one of our addresses or routes removed, the
// MTU changed from the desired one, a queue fd failing) into one FAULT event for
// the statechart. "Ours" is the desired configuration read at event time
// (reconfigure() replaces it): what someone else added, or what a
// reconfiguration removed, is never a fault.
//
// A link deleted from outside is first closed by the kernel, its addresses
// dropped and its queues failed (EBADFD), so an admin-down, address-removed or
// queue error arrives before RTM_DELLINK: every fault but 'deleted' is named
// only after asking the kernel whether the link is still there (absent →
// 'deleted').

import type { LinkEvent, MonitorBaseline } from '../binding/contract/types.js';
import type { LifecycleActorImplementations } from '../../machines/tunLifecycle.js';
import type { InterfaceSession } from './session.js';
import { routeKey, routeKeys } from '../binding/contract/route-metric.js';
import { differencesOf, type Difference } from './verify.js';

/**
 * `getSession` maps the invoking actor system to its adapter's session; it is
 * read at each invocation (the session exists by the time ready is entered).
 */
export function linkMonitorActor(getSession: (system: unknown) => InterfaceSession): LifecycleActorImplementations['linkMonitor'] {
  return ({ sendBack, system }) => {
    const session = getSession(system);
    let done = false;
    const fault = (reason: string, error?: Error) => {
      if (done) return;
      done = true;
      session.log('warn', { interface: session.name, reason, error }, `tun-lifecycle: ${session.name} fault: ${reason}`);
      // Never send from inside the actor's own start: let the invoke finish first.
      queueMicrotask(() => sendBack(error ? { type: 'FAULT', reason, error } : { type: 'FAULT', reason }));
    };
    const ifindex = session.ifindex!;

    /**
     * Ask the kernel about the link, one question at a time: gone → 'deleted';
     * else the first suspect reason seen meanwhile (a fault a deletion also
     * causes), else 'down' when the link is down. Asked with a link dump, not
     * getLink: a fault is rare, one request at a time keeps the binding's
     * socket pool as it was, and the recovery's own getLink stays the next one
     * the binding sees (the model replay holds it at a gate).
     */
    let checking = false;
    let suspect: { reason: string; error: Error | undefined } | undefined;
    const checkLink = () => {
      if (checking) return;
      checking = true;
      const askedAbout = suspect;
      session.binding.listLinks().then(
        (links) => {
          checking = false;
          const link = links.find((l) => l.ifindex === ifindex);
          if (!link) fault('deleted');
          // A suspect seen after the question was sent: the answer may predate a deletion, ask again.
          else if (suspect !== askedAbout) checkLink();
          else if (suspect) fault(suspect.reason, suspect.error);
          else if (!link.up) fault('down');
          else if (session.link.mtu !== undefined && link.mtu !== session.link.mtu) fault(faultReason({ kind: 'mtu', mtu: link.mtu, wanted: session.link.mtu }));
        },
        () => { checking = false; if (suspect) fault(suspect.reason, suspect.error); },
      );
    };
    const unlessDeleted = (reason: string, error?: Error) => {
      suspect ??= { reason, error };
      checkLink();
    };

    // The desired routes' keys, made once per desired list (a burst may remove thousands).
    const ownRouteKeys = () => routeKeys(session.link.routes);
    const onEvent = (event: LinkEvent) => {
      if (event.ifindex !== ifindex) return;
      if (event.type === 'deleted') fault('deleted');
      else if (event.type === 'admin' && !event.up) unlessDeleted('down');
      else if (event.type === 'address-removed' && session.link.addresses.some((a) => a.address === event.address.address && a.prefixLength === event.address.prefixLength)) {
        unlessDeleted(faultReason({ kind: 'address', cidr: event.address.cidr }));
      } else if (event.type === 'route-removed' && ownRouteKeys().has(routeKey(event.route.destination, event.route.metric))) {
        unlessDeleted(faultReason({ kind: 'route', destination: event.route.destination, metric: event.route.metric }));
      } else if (event.type === 'mtu' && session.link.mtu !== undefined && event.mtu !== session.link.mtu) {
        unlessDeleted(faultReason({ kind: 'mtu', mtu: event.mtu, wanted: session.link.mtu }));
      }
    };
    const onQueueError = (error: Error) => unlessDeleted('queue-error', error);
    session.on('queue-error', onQueueError);

    // Attached off the critical path: `ready` is reported (and the caller's
    // await resumes) first; the listener and its baselines follow in the
    // next turn of the event loop. Nothing is missed meanwhile: the monitor
    // subscribes first and then takes its baselines (the link, our addresses
    // and routes: one request and two dumps the kernel filters to this link,
    // in the listener's own stream), which it hands here once (onSynced); so
    // a change made any time after verification's read-back is either an
    // event after subscribing or a difference in that baseline against the
    // desired configuration. Queue errors are listened to at once.
    let monitor: { close(): void } | undefined;
    const onSynced = (baseline: MonitorBaseline) => {
      if (done) return;
      const [first] = differencesOf(baseline, session.link);
      if (first) unlessDeleted(faultReason(first));
    };
    const attach = () => {
      if (done) return;
      try {
        // A baseline that cannot be read (the link gone aside) is an error here: the suspect's link dump follows.
        monitor = session.binding.monitor(ifindex, onEvent, (error) => unlessDeleted('monitor-error', error), onSynced);
      } catch (error) {
        fault('monitor-error', error as Error);
        return;
      }
      if (session.device?.queues.some((queue) => queue.closed)) unlessDeleted('queue-closed');
    };
    const attaching = setImmediate(attach);

    return () => {
      done = true;
      clearImmediate(attaching);
      session.off('queue-error', onQueueError);
      monitor?.close();
    };
  };
}

/** A difference from the desired configuration (seen in a baseline or an event), as the monitor names the fault it is. */
function faultReason(difference: Difference): string {
  switch (difference.kind) {
    case 'down': return 'down';
    case 'mtu': return `mtu ${difference.mtu}, desired ${difference.wanted}`;
    case 'address': return `address-removed ${difference.cidr}`;
    case 'route': return `route-removed ${difference.destination} metric ${difference.metric}`;
  }
}
