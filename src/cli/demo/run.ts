// `tun-lifecycle demo` / `npm run demo`: choose where the story runs. As
// root, re-run this same program under `unshare -n` (a private network
// namespace that vanishes with it) and tell the story on the real kernel;
// without root (or without /dev/net/tun or unshare), tell it on the
// simulated binding and say so (TUN_LIFECYCLE_DEMO_SIMULATED=1 forces that).
// With --inspect the offline inspector follows along; across the namespace
// boundary its feed comes over a pipe (fd 3) and the page is served on the
// host's loopback, then stays open until Ctrl-C.

import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, readlinkSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { createNativeBinding } from '../../binding/native/binding.js';
import { InspectorFeed } from '../../inspect/feed.js';
import { RelayFeed, pipeFeed } from '../../inspect/relay-feed.js';
import { serveInspector } from '../../inspect/server.js';
import type { InspectorServer } from '../../inspect/server.js';
import { ExitCode } from '../exit-codes.js';
import type { Output } from '../output.js';
import { createOutput } from '../output.js';
import { kernelWorld } from './kernel-world.js';
import { DEMO } from './plan.js';
import { simulatedWorld } from './simulated-world.js';
import { tellStory } from './story.js';
import type { DemoWorld } from './world.js';

const IN_NAMESPACE = 'TUN_LIFECYCLE_DEMO_NETNS';
const HOST_NETNS = 'TUN_LIFECYCLE_DEMO_HOST_NETNS';
const FEED_FD = 'TUN_LIFECYCLE_DEMO_FEED_FD';
const PACE_MS = 1200;

export interface DemoOptions {
  inspectPort?: number | undefined;
  out?: Output;
}

export async function runDemo(options: DemoOptions = {}): Promise<number> {
  const out = options.out ?? createOutput(false);
  if (process.env[IN_NAMESPACE] === '1') return inNamespace(out);
  const why = kernelUnavailable();
  if (why) return runHere(simulatedWorld(why), out, options.inspectPort);
  return runInNamespace(out, options.inspectPort);
}

function kernelUnavailable(): string | undefined {
  if (process.env.TUN_LIFECYCLE_DEMO_SIMULATED === '1') return 'TUN_LIFECYCLE_DEMO_SIMULATED=1 asked for it';
  if (process.platform !== 'linux') return 'not Linux';
  if (process.getuid?.() !== 0) return 'not running as root';
  if (!existsSync('/dev/net/tun')) return '/dev/net/tun is missing';
  const probe = spawnSync('unshare', ['-n', '--', 'true'], { stdio: 'ignore' });
  if (probe.error || probe.status !== 0) return 'cannot make a private network namespace (unshare -n failed)';
  try {
    createNativeBinding();
  } catch (error) {
    return `the native addon is not available: ${(error as Error).message.split('\n')[0]}`;
  }
  return undefined;
}

async function runHere(world: DemoWorld, out: Output, inspectPort: number | undefined): Promise<number> {
  let server: InspectorServer | undefined;
  const ok = await tellStory(world, out, {
    pace: inspectPort === undefined ? 0 : PACE_MS,
    attach: async (adapter) => {
      if (inspectPort === undefined) return;
      server = await serveInspector(adapter, { port: inspectPort, title: `tun-lifecycle demo · ${DEMO.name} (simulated)`, details: details(world.kind) });
      out.say(`  inspector: ${server.url}  (steps are paced ${PACE_MS} ms apart so you can follow)`);
    },
  });
  if (server) await holdOpen(server, out);
  return ok ? ExitCode.Ok : ExitCode.Failed;
}

async function runInNamespace(out: Output, inspectPort: number | undefined): Promise<number> {
  const script = process.argv[1]!;
  const child = spawn('unshare', ['-n', '--', process.execPath, ...process.execArgv, script, ...process.argv.slice(2)], {
    stdio: ['inherit', 'inherit', 'inherit', inspectPort === undefined ? 'ignore' : 'pipe'],
    env: {
      ...process.env, [IN_NAMESPACE]: '1', [HOST_NETNS]: readlinkSync('/proc/self/ns/net'),
      ...(inspectPort === undefined ? {} : { [FEED_FD]: '3' }),
    },
  });
  // Ctrl-C reaches the child too (same process group); we just wait for it.
  const ignore = () => undefined;
  process.on('SIGINT', ignore);
  let server: InspectorServer | undefined;
  try {
    if (inspectPort !== undefined) {
      const relay = new RelayFeed(child.stdio[3] as Readable);
      await relay.ready;
      server = await serveInspector(relay, { port: inspectPort });
      out.say(`  inspector: ${server.url}  (served on the host's loopback, fed from the namespace; steps paced ${PACE_MS} ms apart)`);
    }
    const code = await new Promise<number>((resolve) => child.on('close', (status) => resolve(status ?? ExitCode.Failed)));
    process.off('SIGINT', ignore);
    if (server) await holdOpen(server, out);
    return code;
  } finally {
    process.off('SIGINT', ignore);
  }
}

async function inNamespace(out: Output): Promise<number> {
  const netns = readlinkSync('/proc/self/ns/net');
  if (netns === process.env[HOST_NETNS]) {
    out.say('tun-lifecycle demo: refusing to run: this is still the host network namespace');
    return ExitCode.Failed;
  }
  const world = kernelWorld(createNativeBinding(), netns);
  const feedFd = process.env[FEED_FD];
  const ok = await tellStory(world, out, {
    pace: feedFd ? PACE_MS : 0,
    attach: (adapter) => {
      if (!feedFd) return;
      const feed = new InspectorFeed(adapter, { title: `tun-lifecycle demo · ${DEMO.name}`, details: details('kernel') });
      pipeFeed(feed, createWriteStream('', { fd: Number(feedFd) }));
    },
  });
  return ok ? ExitCode.Ok : ExitCode.Failed;
}

function details(kind: string): Record<string, unknown> {
  return { binding: kind, mtu: DEMO.mtu, addresses: DEMO.addresses, routes: DEMO.routes, retryDelay: '50 ms' };
}

function holdOpen(server: InspectorServer, out: Output): Promise<void> {
  out.say(`\ninspector still open at ${server.url} — press Ctrl-C to exit`);
  return new Promise((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      void server.close().then(resolve);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
