// A feed that arrives as JSON lines (a welcome, then FeedMessages) from
// another process — the demo runs in a private network namespace, where the
// host's browser cannot reach its loopback, so it streams its feed to the
// parent over a pipe and the parent serves the page on the host's loopback.

import { EventEmitter } from 'node:events';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import type { AlertMessage, EventMessage, FeedMessage, InspectorFeed, ReconfigureMessage, WelcomeMessage } from './feed.js';

/** What serveInspector serves: an InspectorFeed or a relay of one. Events: 'message' (FeedMessage). */
export interface FeedSource extends EventEmitter {
  welcome(): WelcomeMessage;
  close(): void;
}

/** Write a feed to a stream as JSON lines (the other end makes a RelayFeed of it). */
export function pipeFeed(feed: InspectorFeed, stream: Writable): () => void {
  const write = (message: unknown) => { if (!stream.destroyed) stream.write(`${JSON.stringify(message)}\n`); };
  write(feed.welcome());
  const onMessage = (message: FeedMessage) => write(message);
  feed.on('message', onMessage);
  return () => feed.off('message', onMessage);
}

export class RelayFeed extends EventEmitter implements FeedSource {
  #welcome: WelcomeMessage | undefined;
  readonly ready: Promise<void>;

  constructor(stream: Readable) {
    super();
    let markReady!: () => void;
    this.ready = new Promise((resolve) => { markReady = resolve; });
    const lines = createInterface({ input: stream });
    lines.on('line', (line) => {
      let message: WelcomeMessage | FeedMessage;
      try {
        message = JSON.parse(line) as WelcomeMessage | FeedMessage;
      } catch {
        return;
      }
      if (message.kind === 'welcome') {
        this.#welcome = message;
        markReady();
        return;
      }
      const w = this.#welcome;
      if (!w) return;
      if (message.kind === 'snapshot') w.snapshot = message;
      else if (message.kind === 'stats') w.stats = message;
      else w.log.push(message as EventMessage | AlertMessage | ReconfigureMessage);
      this.emit('message', message);
    });
  }

  welcome(): WelcomeMessage {
    if (!this.#welcome) throw new Error('RelayFeed: nothing received yet');
    return { ...this.#welcome, log: [...this.#welcome.log] };
  }

  close(): void {
    this.removeAllListeners('message');
  }
}
