// createStatelyInspector: a running adapter's snapshots and events reach a
// WebSocket receiver the way Stately's inspector relay would get them. The
// receiver is a real `ws` server on 127.0.0.1; the lifecycle is a real one
// (simulated binding, and the native one in the kernel namespace).

import { expect } from 'chai';
import { WebSocketServer } from 'ws';
import type { AddressInfo } from 'node:net';
import { SimulatedBinding } from '../../src/testing.js';
import { createAdapter } from '../../src/index.js';
import type { TunAdapter, TunBinding } from '../../src/index.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createStatelyInspector, MissingPeerError, STATELY_INSTALL } from '../../src/inspect/index.js';
import { loadStately } from '../../src/inspect/stately.js';
import { describeKernel } from '../helpers/netns.js';
import { ip } from '../helpers/iproute.js';
import { loadNativeBinding } from '../helpers/native-binding.js';

interface Received { type: string; [key: string]: any }

async function receiver(): Promise<{ url: string; messages: Received[]; close(): Promise<void>; waitFor(pred: (m: Received) => boolean, ms?: number): Promise<Received> }> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const messages: Received[] = [];
  const waiters = new Set<() => void>();
  server.on('connection', (socket) => {
    socket.on('message', (data) => {
      messages.push(JSON.parse(data.toString()) as Received);
      for (const wake of waiters) wake();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `ws://127.0.0.1:${port}`,
    messages,
    waitFor(pred, ms = 5000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = messages.find(pred);
          if (!found) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(found);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`not received within ${ms} ms; got ${messages.map((m) => m.type + (m.event?.type ? `(${m.event.type})` : '')).join(', ')}`));
        }, ms);
        waiters.add(check);
        check();
      });
    },
    close: () => new Promise((resolve) => {
      for (const client of server.clients) client.terminate();
      server.close(() => resolve());
    }),
  };
}

const rootSnapshots = (messages: Received[], sessionId: string) =>
  messages.filter((m) => m.type === '@xstate.snapshot' && m.sessionId === sessionId).map((m) => JSON.stringify(m.snapshot.value));

async function followLifecycle(binding: TunBinding, name: string, deleteFromOutside: () => void): Promise<void> {
  const rx = await receiver();
  const inspector = await createStatelyInspector({ url: rx.url });
  let adapter: TunAdapter | undefined;
  try {
    adapter = await createAdapter(name, { binding, addresses: ['10.233.0.1/24'], retryDelay: 20, inspect: inspector.inspect });
    const actorEvent = await rx.waitFor((m) => m.type === '@xstate.actor' && m.name === 'tunLifecycle');
    const root = actorEvent.sessionId as string;
    expect(actorEvent.sessionId).to.equal(adapter.actor.sessionId);
    expect(JSON.parse(actorEvent.definition).id, 'the machine definition travels with the actor').to.equal('tunLifecycle');
    await rx.waitFor((m) => m.type === '@xstate.event' && m.sessionId === root && m.event.type === 'START');
    await rx.waitFor((m) => m.type === '@xstate.snapshot' && m.sessionId === root && m.snapshot.value === 'ready');

    const recovered = new Promise<void>((resolve) => adapter!.on('state', (to: string) => { if (to === 'ready') resolve(); }));
    deleteFromOutside();
    await recovered;
    const fault = await rx.waitFor((m) => m.type === '@xstate.event' && m.sessionId === root && m.event.type === 'FAULT');
    expect(fault.event.reason).to.be.a('string');
    const inError = await rx.waitFor((m) => m.type === '@xstate.snapshot' && m.sessionId === root && m.snapshot.value?.error !== undefined);
    // The error in the context arrives readable, not as {} (what plain JSON makes of an Error).
    expect(inError.snapshot.context.lastError.code).to.equal('ERR_INTERFACE_FAULT');
    expect(inError.snapshot.context.lastError.message).to.match(/interface fault/u);

    await adapter.cleanup();
    await rx.waitFor((m) => m.type === '@xstate.snapshot' && m.sessionId === root && m.snapshot.value === 'stopped');
    const values = rootSnapshots(rx.messages, root);
    const order = ['"ready"', '{"error":{"recovering":"attempt"}}', '{"stopping":"round"}', '"stopped"'].map((v) => values.indexOf(v));
    expect(order.every((i) => i >= 0), `snapshots seen: ${values.join(' ')}`).to.equal(true);
    expect([...order].sort((a, b) => a - b)).to.deep.equal(order);
    const eventTypes = rx.messages.filter((m) => m.type === '@xstate.event' && m.sessionId === root).map((m) => m.event.type);
    expect(eventTypes).to.include.members(['START', 'xstate.done.actor.create', 'FAULT', 'xstate.done.actor.recover', 'CLEANUP', 'xstate.done.actor.cleanup']);
  } finally {
    inspector.stop();
    if (adapter && adapter.state !== 'stopped') await adapter.cleanup().catch(() => undefined);
    await rx.close();
  }
}

describe('inspect: Stately WebSocket inspector wiring', () => {
  it('without @statelyai/inspect installed, says in one line what to install', async () => {
    // A real resolution that finds nothing: the import runs from a module in an empty temp directory.
    const dir = mkdtempSync(join(tmpdir(), 'tl-no-peer-'));
    try {
      writeFileSync(join(dir, 'probe.mjs'), 'export const load = (specifier) => import(specifier);\n');
      const probe = await import(pathToFileURL(join(dir, 'probe.mjs')).href) as { load(s: string): Promise<unknown> };
      const error = await loadStately(probe.load).then(() => undefined, (e: unknown) => e);
      expect(error).to.be.instanceOf(MissingPeerError);
      expect((error as MissingPeerError).code).to.equal('ERR_TUN_MISSING_PEER');
      expect((error as Error).message).to.equal(`Stately's inspector needs @statelyai/inspect, which is not installed: run \`${STATELY_INSTALL}\``);
      expect(STATELY_INSTALL).to.equal('npm install @statelyai/inspect ws');
      expect(((error as Error).cause as { code: string }).code).to.equal('ERR_MODULE_NOT_FOUND');
      // Installed (here, as a devDependency), the same loader finds it.
      expect((await loadStately()).createWebSocketInspector).to.be.a('function');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });


  it('streams the actor, its events and its snapshots (errors readable) of a simulated lifecycle with a fault and recovery', async () => {
    const binding = new SimulatedBinding();
    await followLifecycle(binding, 'tlinsp0', () => binding.world.deleteLink('tlinsp0'));
  });
});

describeKernel('inspect: Stately WebSocket inspector on the native binding', () => {
  it('streams a real lifecycle: ip link del → FAULT → recovery → cleanup', async () => {
    const binding = await loadNativeBinding();
    await followLifecycle(binding, 'tlinsp1', () => ip('link', 'del', 'tlinsp1'));
  });
});
