// Two network namespaces joined by this package's relay: a TUN in each (A
// 10.230.0.1/30, B 10.230.0.2/30), opened through binding.namespace(), every
// batch read from one written to the other by this process. Transfers run in
// child processes inside the namespaces (async spawn: this event loop keeps
// relaying) and report a SHA-256 of what they sent and received.

import { spawn } from 'node:child_process';
import type { OffloadOption, PacketQueue, TunBinding, TunDevice } from '../../src/binding/contract/types.js';
import type { NativePacketQueue } from '../../src/binding/native/device.js';
import { ip } from './iproute.js';
import { deleteNamespace, makeNamespace } from './namespaces.js';

export const A_ADDR = '10.230.0.1';
export const B_ADDR = '10.230.0.2';



/** How the relay hands a batch over: one write() per packet (gathered per turn in segmented mode) or one writeBatch(). */
export type RelayWrites = 'write' | 'writeBatch';

export interface Relay {
  a: TunDevice;
  b: TunDevice;
  close(): void;
}

/** reuse: the queues lend every batch from one reused read buffer (reuseReadBuffer(true)): the relay writes inside the listener. */
export async function startRelay(binding: TunBinding, nsA: string, nsB: string, offload: OffloadOption, writes: RelayWrites,
  reuse = false): Promise<Relay> {
  const open = (ns: string, address: string) => binding.open({
    netns: ns, name: 'tlof0', offload, configure: { up: true, addresses: [`${address}/30`] },
  });
  const [a, b] = await Promise.all([open(nsA, A_ADDR), open(nsB, B_ADDR)]);
  const pipe = (from: PacketQueue, to: PacketQueue) => {
    if (reuse) (from as NativePacketQueue).reuseReadBuffer(true);
    from.on('packets', (batch: Buffer[]) => {
      try {
        if (writes === 'writeBatch') to.writeBatch!(batch);
        else for (const packet of batch) to.write(packet);
      } catch {
        // EIO while the far side is not up yet: dropped, as a link would.
      }
    });
  };
  pipe(a.queues[0]!, b.queues[0]!);
  pipe(b.queues[0]!, a.queues[0]!);
  return { a, b, close: () => { a.close(); b.close(); } };
}

/** Runs `node -e script` inside ns; resolves with its stdout (rejects on a nonzero exit). */
export function nodeIn(ns: string, script: string, timeoutMs = 120_000): { ready: Promise<void>; done: Promise<string> } {
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let onReady!: () => void;
  const ready = new Promise<void>((resolve) => { onReady = resolve; });
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => { out += chunk; if (out.includes('READY')) onReady(); });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => { err += chunk; });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const done = new Promise<string>((resolve, reject) => child.on('close', (code, signal) => {
    clearTimeout(timer);
    onReady();
    if (code === 0) resolve(out);
    else reject(new Error(`node in ${ns} ended with ${signal ?? code}: ${err.trim() || out.trim()}`));
  }));
  return { ready, done };
}

/** A TCP server in B that hashes everything it receives, and a client in A that sends `bytes` random bytes and hashes them. */
export async function tcpTransfer(nsA: string, nsB: string, bytes: number, port = 5201): Promise<{ sent: string; received: string; receivedBytes: number }> {
  const server = nodeIn(nsB, `
    const h = require('crypto').createHash('sha256'); let n = 0;
    const srv = require('net').createServer((c) => {
      c.on('data', (d) => { h.update(d); n += d.length; });
      c.on('end', () => { process.stdout.write('SHA ' + h.digest('hex') + ' ' + n + '\\n'); c.end(); srv.close(); });
    });
    srv.listen(${port}, '${B_ADDR}', () => process.stdout.write('READY\\n'));`);
  await server.ready;
  const client = nodeIn(nsA, `
    const crypto = require('crypto'); const h = crypto.createHash('sha256');
    const chunk = 1 << 20; let left = ${bytes};
    const s = require('net').connect(${port}, '${B_ADDR}', () => {
      const pump = () => {
        while (left > 0) {
          const b = crypto.randomBytes(Math.min(chunk, left)); left -= b.length; h.update(b);
          if (!s.write(b)) return s.once('drain', pump);
        }
        s.end();
      };
      pump();
    });
    s.on('close', () => process.stdout.write('SHA ' + h.digest('hex') + '\\n'));
    s.resume();`);
  const [clientOut, serverOut] = await Promise.all([client.done, server.done]);
  const sent = /SHA (\w+)/.exec(clientOut)?.[1] ?? '';
  const match = /SHA (\w+) (\d+)/.exec(serverOut);
  return { sent, received: match?.[1] ?? '', receivedBytes: Number(match?.[2] ?? 0) };
}

/** What a suite using two fresh namespaces per test sees: set by the hooks useRelayNamespaces() installs. */
export interface RelayWorld {
  binding: TunBinding;
  nsA: string;
  nsB: string;
  relay: Relay | undefined;
}

/**
 * Mocha hooks for a suite of relay tests: the native binding once, two fresh
 * namespaces per test, and after each test the relay closed and the
 * namespaces deleted (then `cleanup`, e.g. a fault hook cleared).
 */
export function useRelayNamespaces(load: () => Promise<TunBinding>, cleanup?: () => Promise<void> | void): RelayWorld {
  const world = { relay: undefined } as RelayWorld;
  before(async function () {
    world.binding = await load();
  });
  beforeEach(function () {
    world.nsA = makeNamespace('a');
    world.nsB = makeNamespace('b');
  });
  afterEach(async function () {
    await cleanup?.();
    world.relay?.close();
    world.relay = undefined;
    deleteNamespace(world.nsA);
    deleteNamespace(world.nsB);
  });
  return world;
}
