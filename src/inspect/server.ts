// serveInspector: the offline inspector, an HTTP server on loopback that
// serves one self-contained page, the statechart drawn as SVG here on the
// server (Graphviz as WebAssembly, no CDN, no browser library), and the live
// feed as server-sent events.
//   GET /             the page, with the diagram and the welcome in it (the state shows before /events connects)
//   GET /diagram.svg  the feed's diagram laid out by Graphviz; each state's element has its Mermaid id
//   GET /events       text/event-stream: a 'welcome' (diagram, state, log), then every FeedMessage
//   GET /state.json   the welcome message, for scripts and curl

import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { InspectorFeed } from './feed.js';
import type { FeedMessage, FeedOptions, InspectTarget } from './feed.js';
import type { FeedSource } from './relay-feed.js';
import { inspectorPage } from './page.js';
import { diagramSvg } from './diagram-svg.js';

export interface ServeInspectorOptions extends FeedOptions {
  /** TCP port; 0 picks a free one. Default 0. */
  port?: number;
  /** Listen address. Default '127.0.0.1' (loopback only: the page shows the interface's configuration). */
  host?: string;
}

export interface InspectorServer {
  /** e.g. http://127.0.0.1:7357/ */
  readonly url: string;
  readonly port: number;
  readonly feed: FeedSource;
  /** Stops the feed, ends open event streams, closes the server. */
  close(): Promise<void>;
}

/** target: a TunAdapter, a lifecycle actor, or a FeedSource (an InspectorFeed, a RelayFeed). */
export async function serveInspector(target: InspectTarget | FeedSource, options: ServeInspectorOptions = {}): Promise<InspectorServer> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(`The value of "options.port" is out of range. It must be >= 0 and <= 65535. Received ${port}`);
  }
  const feed: FeedSource = isFeedSource(target) ? target : new InspectorFeed(target, options);
  const streams = new Set<ServerResponse>();
  // Drawn now (Graphviz's first load and layout take a few hundred ms), so the
  // page, which carries the drawing, is ready when the browser first asks.
  diagramSvg(feed.welcome().diagram).catch(() => undefined);

  const send = (res: ServerResponse, message: unknown) => {
    res.write(`data: ${JSON.stringify(message)}\n\n`);
  };
  const onMessage = (message: FeedMessage) => {
    for (const res of streams) send(res, message);
  };
  feed.on('message', onMessage);

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/' || path === '/index.html') {
      const welcome = feed.welcome();
      diagramSvg(welcome.diagram).then((svg) => {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
        // The welcome read again once the drawing is done: the newest state, not the one of the request's arrival.
        res.end(inspectorPage(welcome.title, { svg, welcome: feed.welcome() }));
      }, () => {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
        // Without a drawing the page still works: it fetches diagram.svg itself (and shows why it failed).
        res.end(inspectorPage(welcome.title));
      });
    } else if (path === '/diagram.svg') {
      diagramSvg(feed.welcome().diagram).then((svg) => {
        res.writeHead(200, { 'content-type': 'image/svg+xml; charset=utf-8', 'cache-control': 'no-store' });
        res.end(svg);
      }, (error: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end(`cannot draw the diagram: ${(error as Error).message}\n`);
      });
    } else if (path === '/state.json') {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify(feed.welcome()));
    } else if (path === '/events') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
      send(res, feed.welcome());
      streams.add(res);
      req.on('close', () => streams.delete(res));
    } else if (path === '/favicon.ico') {
      res.writeHead(204).end();
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    }
  };

  const server = createServer(handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  }).catch((error: unknown) => {
    feed.close();
    throw error;
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${shownHost}:${address.port}/`,
    port: address.port,
    feed,
    close() {
      closing ??= new Promise<void>((resolve) => {
        feed.off('message', onMessage);
        feed.close();
        for (const res of streams) res.end();
        streams.clear();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

function isFeedSource(target: InspectTarget | FeedSource): target is FeedSource {
  return typeof (target as FeedSource).welcome === 'function' && typeof (target as FeedSource).on === 'function';
}
