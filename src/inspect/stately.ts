// Stately's inspector (stately.ai/inspect) for a running adapter, through
// @statelyai/inspect's WebSocket inspector: pass `inspect` to createAdapter
// and the actor's snapshots and events stream to a WebSocket relay (by
// default ws://127.0.0.1:8080, e.g. @statelyai/inspect/server's
// createInspectorServer, which opens the inspector page and relays to it).

import { createWebSocketInspector } from '@statelyai/inspect';
import type { InspectionEvent, Observer } from 'xstate';
import { toJsonSafe } from './json-safe.js';

export interface StatelyInspectorOptions {
  /** WebSocket relay to send to. Default ws://127.0.0.1:8080. */
  url?: string;
}

export interface StatelyInspector {
  /** Give this to createAdapter(name, { inspect }) (or createActor(machine, { inspect })). */
  readonly inspect: Observer<InspectionEvent>;
  /** Whether the WebSocket to the relay is open now (it retries every 5 s while nothing listens). */
  connected(): boolean;
  /** Close the WebSocket. */
  stop(): void;
}

export function createStatelyInspector(options: StatelyInspectorOptions = {}): StatelyInspector {
  const inspector = createWebSocketInspector({
    url: options.url ?? 'ws://127.0.0.1:8080',
    // The context holds Error objects (lastError) that plain JSON would turn into {}.
    sanitizeContext: (context) => toJsonSafe(context) as Record<string, unknown>,
    sanitizeEvent: (event) => toJsonSafe(event) as typeof event,
  });
  // Snapshots are stringified before sanitizeContext sees them, so errors are
  // made JSON-safe here, before they reach the inspector at all.
  const inspect: Observer<InspectionEvent> = {
    next: (event) => inspector.inspect.next?.(withSafeData(event)),
  };
  // @statelyai/inspect keeps the socket's state on its adapter ('open' | 'closed'), untyped.
  const connected = () => (inspector.adapter as unknown as { status?: string }).status === 'open';
  return { inspect, connected, stop: () => inspector.stop() };
}

function withSafeData(event: InspectionEvent): InspectionEvent {
  if (event.type === '@xstate.snapshot') {
    const snapshot = event.snapshot as unknown as Record<string, unknown>;
    return {
      ...event,
      event: toJsonSafe(event.event) as typeof event.event,
      snapshot: { ...snapshot, context: toJsonSafe(snapshot.context) } as unknown as typeof event.snapshot,
    };
  }
  if (event.type === '@xstate.event') return { ...event, event: toJsonSafe(event.event) as typeof event.event };
  return event;
}
