// The link-monitor actor invoked in `ready`: turns changes made from outside
// (interface deleted or set down, one of our addresses removed, the MTU
// changed from the desired one, a queue fd failing) into one FAULT event for
// the statechart. "Ours" is the desired configuration read at event time
// (reconfigure() replaces it): what someone else added, or what a
// reconfiguration removed, is never a fault.

import { fromCallback } from 'xstate';
import type { LinkEvent } from '../binding/contract/types.js';
import type { TunLifecycleEvent } from '../../machines/types.js';
import type { InterfaceSession } from './session.js';
import { isGone } from './kernel-errors.js';

/**
 * `getSession` maps the invoking actor system to its adapter's session; it is
 * read at each invocation (the session exists by the time ready is entered).
 */
export function linkMonitorActor(getSession: (system: unknown) => InterfaceSession) {
  return fromCallback<TunLifecycleEvent, void>(({ sendBack, system }) => {
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

    const onEvent = (event: LinkEvent) => {
      if (event.ifindex !== ifindex) return;
      if (event.type === 'deleted') fault('deleted');
      else if (event.type === 'admin' && !event.up) fault('down');
      else if (event.type === 'address-removed' && session.link.addresses.some((a) => a.address === event.address.address && a.prefixLength === event.address.prefixLength)) {
        fault(`address-removed ${event.address.cidr}`);
      } else if (event.type === 'mtu' && session.link.mtu !== undefined && event.mtu !== session.link.mtu) {
        fault(`mtu ${event.mtu}, desired ${session.link.mtu}`);
      }
    };
    const onQueueError = (error: Error) => fault('queue-error', error);
    session.on('queue-error', onQueueError);

    let monitor: { close(): void } | undefined;
    try {
      monitor = session.binding.monitor(ifindex, onEvent, (error) => fault('monitor-error', error));
    } catch (error) {
      fault('monitor-error', error as Error);
    }

    // Whatever changed between verification and the monitor starting.
    if (session.device?.queues.some((queue) => queue.closed)) fault('queue-closed');
    session.binding.getLink(ifindex).then(
      (link) => {
        if (!link.up) fault('down');
        else if (session.link.mtu !== undefined && link.mtu !== session.link.mtu) fault(`mtu ${link.mtu}, desired ${session.link.mtu}`);
      },
      (error) => { if (isGone(error)) fault('deleted', error); },
    );

    return () => {
      done = true;
      session.off('queue-error', onQueueError);
      monitor?.close();
    };
  });
}
