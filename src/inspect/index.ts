// Seeing a lifecycle live: the offline inspector page (serveInspector) and
// Stately's hosted inspector (createStatelyInspector).

export { serveInspector } from './server.js';
export type { InspectorServer, ServeInspectorOptions } from './server.js';
export { InspectorFeed } from './feed.js';
export type {
  FeedMessage, FeedOptions, InspectTarget, InspectableAdapter, PendingTimer, SnapshotMessage, EventMessage, AlertMessage,
  StatsMessage, WelcomeMessage,
} from './feed.js';
export { createStatelyInspector, STATELY_INSTALL } from './stately.js';
export { MissingPeerError } from './optional-peer.js';
export type { StatelyInspector, StatelyInspectorOptions } from './stately.js';
export { toJsonSafe } from './json-safe.js';
export { RelayFeed, pipeFeed } from './relay-feed.js';
export type { FeedSource } from './relay-feed.js';
