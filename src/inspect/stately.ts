// Stately's inspector (stately.ai/inspect) for a running adapter, through
// @statelyai/inspect's WebSocket inspector: pass `inspect` to createAdapter
// and the actor's snapshots and events stream to a WebSocket relay (by
// default ws://127.0.0.1:8080, e.g. @statelyai/inspect/server's
// createInspectorServer, which opens the inspector page and relays to it).
// @statelyai/inspect and ws are optional peers, imported only here, when asked
// for: without them the rest of the package works and this says what to install.

import type { InspectionEvent, Observer } from 'xstate';
import { toJsonSafe } from './json-safe.js';
import { importPeer } from './optional-peer.js';
import type { Importer } from './optional-peer.js';

export const STATELY_INSTALL = 'npm install @statelyai/inspect ws';

/** The part of @statelyai/inspect used here (typed locally, so the types do not need the peer either). */
interface StatelyModule {
  createWebSocketInspector(options: {
    url: string;
    sanitizeContext: (context: Record<string, unknown>) => Record<string, unknown>;
    sanitizeEvent: <E>(event: E) => E;
  }): { inspect: Partial<Observer<InspectionEvent>>; stop(): void; adapter?: unknown };
}

/** @statelyai/inspect, or a MissingPeerError naming STATELY_INSTALL. importer: the test's seam. */
export function loadStately(importer?: Importer): Promise<StatelyModule> {
  return importPeer<StatelyModule>('@statelyai/inspect', "Stately's inspector", STATELY_INSTALL, importer);
}

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

/** Rejects with a MissingPeerError (code ERR_TUN_MISSING_PEER) when @statelyai/inspect is not installed. */
export async function createStatelyInspector(options: StatelyInspectorOptions = {}): Promise<StatelyInspector> {
  const { createWebSocketInspector } = await loadStately();
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
  const connected = () => (inspector.adapter as { status?: string } | undefined)?.status === 'open';
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
