// serveInspector over HTTP, without a browser: loopback only, a page that
// loads nothing from elsewhere, the diagram drawn on the server, and a pushed feed
// (server-sent events) that carries the lifecycle's snapshots, events with
// timestamps, the machine's own diagram, pending timers and stats.

import { expect } from 'chai';
import { get } from 'node:http';
import type { IncomingMessage } from 'node:http';
import { SimulatedBinding } from '../../src/testing.js';
import { TunAdapter, toMermaid, tunLifecycleMachine } from '../../src/index.js';
import { mermaidStateIds } from '../../src/inspect/state-ids.js';
import { serveInspector } from '../../src/inspect/index.js';
import type { InspectorServer, SnapshotMessage, WelcomeMessage } from '../../src/inspect/index.js';

function fetchText(url: string): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    get(url, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => { body += chunk; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }));
    }).on('error', reject);
  });
}

/** Reads the SSE stream into parsed messages. */
function openStream(url: string): Promise<{ messages: any[]; close(): void; waitFor(pred: (m: any) => boolean, ms?: number): Promise<any> }> {
  return new Promise((resolve, reject) => {
    const messages: any[] = [];
    const waiters = new Set<() => void>();
    const request = get(url, (res: IncomingMessage) => {
      expect(res.headers['content-type']).to.equal('text/event-stream');
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (frame.startsWith('data: ')) messages.push(JSON.parse(frame.slice(6)));
          for (const wake of waiters) wake();
        }
      });
      resolve({
        messages,
        close: () => request.destroy(),
        waitFor(pred, ms = 3000) {
          return new Promise((ok, fail) => {
            const check = () => {
              const found = messages.find(pred);
              if (found === undefined) return;
              waiters.delete(check);
              clearTimeout(timer);
              ok(found);
            };
            const timer = setTimeout(() => { waiters.delete(check); fail(new Error(`not pushed within ${ms} ms: ${JSON.stringify(messages.map((m) => m.kind + ':' + (m.state ?? m.type ?? '')))}`)); }, ms);
            waiters.add(check);
            check();
          });
        },
      });
    });
    request.on('error', reject);
  });
}

describe('inspect: serveInspector (HTTP + server-sent events)', () => {
  let server: InspectorServer | undefined;
  let adapter: TunAdapter | undefined;
  afterEach(async () => {
    await server?.close();
    if (adapter && adapter.state !== 'stopped' && adapter.state !== 'uninitialized') await adapter.cleanup().catch(() => undefined);
    server = undefined;
    adapter = undefined;
  });

  it('listens on loopback, serves a self-contained page and the diagram drawn on the server', async () => {
    adapter = new TunAdapter('tlpage0', { binding: new SimulatedBinding() });
    server = await serveInspector(adapter, { port: 0 });
    expect(server.url).to.match(/^http:\/\/127\.0\.0\.1:\d+\/$/u);
    const page = await fetchText(server.url);
    expect(page.status).to.equal(200);
    expect(page.type).to.match(/text\/html/u);
    // Nothing the page loads may come from elsewhere: every src/href is relative.
    const refs = [...page.body.matchAll(/(?:src|href)="([^"]*)"/gu)].map((m) => m[1]);
    expect(refs).to.deep.equal([]);
    expect(page.body).to.not.match(/https?:\/\//u);
    // The script (src/inspect/browser/page.js, copied by the build) is inline, whole, as a module.
    const script = /<script type="module">([\s\S]*?)<\/script>/u.exec(page.body)?.[1] ?? '';
    expect(script).to.contain("new EventSource('events')").and.to.contain("fetch('diagram.svg')").and.to.match(/export \{\};\s*$/u);
    expect(script, 'no source map comment pointing nowhere').to.not.contain('sourceMappingURL');
    // The first response already shows the machine: the drawing inline and the welcome the script starts from.
    expect(page.body).to.match(/<div id="diagram"><svg [\s\S]*<\/svg><\/div>/u);
    const served = JSON.parse(/<script type="application\/json" id="tl-welcome">([\s\S]*?)<\/script>/u.exec(page.body)?.[1] ?? 'null');
    expect(served?.kind).to.equal('welcome');
    expect(served?.snapshot?.state).to.equal('uninitialized');
    // The diagram: Graphviz's SVG of the machine's Mermaid text, one element per state under its Mermaid id.
    const diagram = await fetchText(`${server.url}diagram.svg`);
    expect(diagram.status).to.equal(200);
    expect(diagram.type).to.match(/image\/svg\+xml/u);
    expect(diagram.body).to.match(/^<\?xml[\s\S]*<svg [\s\S]*<\/svg>\s*$/u);
    for (const id of Object.values(mermaidStateIds(tunLifecycleMachine))) {
      expect(diagram.body, `the element of state ${id}`).to.match(new RegExp(`<g id="${id}" class="(node|cluster)"`, 'u'));
    }
    expect(diagram.body).to.contain('>error(create) [canRetry]<');
    expect((await fetchText(`${server.url}nope`)).status).to.equal(404);
  });

  it('pushes the diagram generated from the machine, then every snapshot and event of a lifecycle with a fault', async () => {
    const binding = new SimulatedBinding();
    adapter = new TunAdapter('tlpage1', { binding, addresses: ['10.234.0.1/24'], retryDelay: 10 });
    server = await serveInspector(adapter, { details: { addresses: ['10.234.0.1/24'] }, statsIntervalMs: 50 });
    const stream = await openStream(`${server.url}events`);
    try {
      const welcome = await stream.waitFor((m) => m.kind === 'welcome') as WelcomeMessage;
      expect(welcome.diagram).to.equal(toMermaid(tunLifecycleMachine));
      expect(welcome.snapshot.state).to.equal('uninitialized');
      expect(welcome.stateIds['error.recovering.attempt']).to.equal('error_recovering_attempt');
      expect(welcome.details).to.deep.equal({ addresses: ['10.234.0.1/24'] });

      const before = Date.now();
      await adapter.start();
      const ready = await stream.waitFor((m) => m.kind === 'snapshot' && m.state === 'ready') as SnapshotMessage;
      expect(ready.active).to.deep.equal(['ready']);
      expect((ready.context as any).ifindex).to.equal(adapter.ifindex);
      const start = await stream.waitFor((m) => m.kind === 'event' && m.type === 'START');
      expect(start.at).to.be.within(before, Date.now());
      const stats = await stream.waitFor((m) => m.kind === 'stats' && m.stats.state === 'ready');
      expect(stats.stats.attempts).to.equal(1);

      binding.world.deleteLink('tlpage1');
      const inError = await stream.waitFor((m) => m.kind === 'snapshot' && m.state === 'error') as SnapshotMessage;
      expect(inError.paths).to.deep.equal(['error', 'error.recovering', 'error.recovering.attempt']);
      expect(inError.active).to.deep.equal(['error', 'recovering', 'error_recovering_attempt']);
      expect((inError.context as any).lastError.code).to.equal('ERR_INTERFACE_FAULT');
      await stream.waitFor((m) => m.kind === 'event' && m.type === 'FAULT');
      await stream.waitFor((m) => m.kind === 'snapshot' && m.state === 'ready' && m.seq > inError.seq);

      await adapter.cleanup();
      await stream.waitFor((m) => m.kind === 'snapshot' && m.state === 'stopped');
      const states = [welcome.snapshot, ...stream.messages.filter((m) => m.kind === 'snapshot')].map((m) => m.state);
      const collapsed = states.filter((s, i) => s !== states[i - 1]);
      expect(collapsed).to.deep.equal(['uninitialized', 'initializing', 'ready', 'error', 'ready', 'stopping', 'stopped']);
      const seqs = stream.messages.slice(1).map((m) => m.seq);
      expect(seqs).to.deep.equal([...seqs].sort((a, b) => a - b));
      // A page connecting now gets the whole log.
      const late = JSON.parse((await fetchText(`${server.url}state.json`)).body) as WelcomeMessage;
      expect(late.snapshot.state).to.equal('stopped');
      expect(late.log.filter((m) => m.kind === 'event').map((m) => (m as any).type)).to.include.members(['START', 'FAULT', 'CLEANUP']);
    } finally {
      stream.close();
    }
  });

  it('shows the diff a reconfiguration applies: applying, then applied', async () => {
    const binding = new SimulatedBinding();
    adapter = new TunAdapter('tlpage3', { binding, addresses: ['10.235.0.1/24'] });
    await adapter.start();
    server = await serveInspector(adapter, { statsIntervalMs: 50 });
    const stream = await openStream(`${server.url}events`);
    try {
      await stream.waitFor((m) => m.kind === 'welcome');
      await adapter.reconfigure({ routes: ['10.236.0.0/16'] });
      const applying = await stream.waitFor((m) => m.kind === 'reconfigure' && (m as any).phase === 'applying');
      expect((applying as any).diff.routes.added).to.deep.equal([{ destination: '10.236.0.0/16', metric: 0 }]);
      const applied = await stream.waitFor((m) => m.kind === 'reconfigure' && (m as any).phase === 'applied');
      expect(applied.seq).to.be.above(applying.seq);
      const late = JSON.parse((await fetchText(`${server.url}state.json`)).body) as WelcomeMessage;
      expect(late.log.filter((m) => m.kind === 'reconfigure')).to.have.length(2);
      await adapter.cleanup();
    } finally {
      stream.close();
    }
  });

  it('shows pending timers: the next retry while backing off, the cleanup deadline while stopping', async () => {
    const binding = new SimulatedBinding();
    binding.faults.fail('open', 'EBUSY', 1);
    adapter = new TunAdapter('tlpage2', { binding, retryDelay: 300, cleanupTimeout: 4000 });
    server = await serveInspector(adapter);
    const stream = await openStream(`${server.url}events`);
    try {
      const t0 = Date.now();
      const started = adapter.start();
      const backoff = await stream.waitFor((m) => m.kind === 'snapshot' && m.paths.includes('initializing.backoff')) as SnapshotMessage;
      expect(backoff.timers.map((t) => t.label)).to.deep.equal(['next retry']);
      expect(backoff.timers[0]!.delay).to.equal(300);
      expect(backoff.timers[0]!.dueAt).to.be.within(t0 + 300, Date.now() + 300);
      expect((backoff.context as any).lastError.code).to.equal('EBUSY');
      await started;
      const ready = await stream.waitFor((m) => m.kind === 'snapshot' && m.state === 'ready') as SnapshotMessage;
      expect(ready.timers, 'the retry timer is gone once it fired').to.deep.equal([]);

      const release = binding.faults.hang('setUp');
      const t1 = Date.now();
      const cleaning = adapter.cleanup();
      const stopping = await stream.waitFor((m) => m.kind === 'snapshot' && m.state === 'stopping') as SnapshotMessage;
      expect(stopping.timers.map((t) => t.label)).to.deep.equal(['cleanup deadline']);
      expect(stopping.timers[0]!.dueAt).to.be.within(t1 + 4000, Date.now() + 4000);
      release();
      await cleaning;
      const stopped = await stream.waitFor((m) => m.kind === 'snapshot' && m.state === 'stopped') as SnapshotMessage;
      expect(stopped.timers).to.deep.equal([]);
    } finally {
      stream.close();
    }
  });

  it('refuses a port out of range, and a target that is not an actor', async () => {
    const adapter2 = new TunAdapter('tlpage3', { binding: new SimulatedBinding() });
    let error: unknown;
    try { await serveInspector(adapter2, { port: 70000 }); } catch (e) { error = e; }
    expect(error).to.be.instanceOf(RangeError);
    error = undefined;
    try { await serveInspector({} as never); } catch (e) { error = e; }
    expect(error).to.be.instanceOf(TypeError);
  });
});
