// `tun-lifecycle up NAME …` (and `inspect NAME …`): bring an interface up
// under the statechart, print every transition with its timing, hold it
// until Ctrl-C/SIGTERM, then clean up and say what was verified.

import { tunFdsOpen } from '../tun-fds.js';
import { performance } from 'node:perf_hooks';
import { TunAdapter } from '../../adapter/index.js';
import type { TunBinding } from '../../binding/contract/types.js';
import { InterfaceState } from '../../../machines/types.js';
import { serveInspector } from '../../inspect/server.js';
import type { InspectorServer } from '../../inspect/server.js';
import { createStatelyInspector } from '../../inspect/stately.js';
import { MissingPeerError } from '../../inspect/optional-peer.js';
import type { StatelyInspector } from '../../inspect/stately.js';
import { ownTag } from '../../lifecycle/ownership.js';
import type { ParsedArgs } from '../args.js';
import { describeError, loadBinding } from '../bindings.js';
import { CliError, ExitCode } from '../exit-codes.js';
import { ms } from '../output.js';
import type { Output } from '../output.js';
import { privilegeErrorFrom, requireTunPrivilege } from '../privilege.js';
import { followTransitions } from '../transitions.js';

export async function runUp(args: ParsedArgs, out: Output): Promise<ExitCode> {
  const requested = args.name!;
  const what = `tun-lifecycle ${args.command} ${requested}`;
  if (!args.simulated) requireTunPrivilege(what);
  const binding = await loadBinding(args.simulated, args.netns);
  const stately: StatelyInspector | undefined = args.statelyUrl ? await statelyFor(args.statelyUrl) : undefined;
  let adapter: TunAdapter;
  try {
    adapter = new TunAdapter(requested, {
      binding,
      addresses: args.addresses,
      routes: args.routes,
      ...(args.mtu === undefined ? {} : { mtu: args.mtu }),
      ...(args.offload === undefined ? {} : { offload: args.offload }),
      ...(stately ? { inspect: stately.inspect } : {}),
    });
  } catch (error) {
    stately?.stop();
    // Options validated as a whole (a repeated address, IPv6 with an MTU below 1280): the command line is at fault.
    const code = (error as { code?: string }).code ?? '';
    if (code.startsWith('ERR_INVALID_ARG') || code === 'ERR_OUT_OF_RANGE') {
      const flag: Record<string, string> = { addresses: '--address', routes: '--route', mtu: '--mtu' };
      const message = (error as Error).message.replace(/options\.(\w+)(?:\[(\d+)\])?/u,
        (whole, key: string, index: string | undefined) => (flag[key] ? `${flag[key]}${index === undefined ? '' : ` #${Number(index) + 1}`}` : whole));
      throw new CliError(message, ExitCode.Usage, 'Run `tun-lifecycle --help` for usage.');
    }
    throw error;
  }
  const follow = followTransitions(adapter, out);
  let server: InspectorServer | undefined;
  let statelyWatch: { stop(): void } | undefined;
  const stop = stopRequests(out);
  // A simulated (or idle) interface holds no handle open: keep the process alive until asked to stop.
  const keepAlive = setInterval(() => undefined, 1 << 30);
  try {
    if (args.inspectPort !== undefined) {
      server = await serveInspector(adapter, {
        port: args.inspectPort,
        title: `tun-lifecycle · ${requested}`,
        details: { binding: binding.kind, addresses: args.addresses, routes: args.routes, mtu: args.mtu ?? 'kernel default' },
      }).catch((error: Error & { code?: string }) => {
        throw new CliError(`cannot serve the inspector on 127.0.0.1:${args.inspectPort}: ${error.message}`, ExitCode.Usage);
      });
      out.emit('inspector', { url: server.url }, `inspector: ${server.url}`);
    }
    if (stately) statelyWatch = watchStately(stately, args.statelyUrl!, out);
    out.emit('starting', { name: requested, binding: binding.kind },
      `bringing up ${requested} under the lifecycle statechart (${binding.kind} binding)`);

    const startedAt = performance.now();
    const started = adapter.start().then(() => true, (error: unknown) => error);
    const first = await Promise.race([started, stop.requested.then(() => 'stop' as const)]);
    if (first !== true && first !== 'stop') return await failStart(adapter, first, out, what);
    if (first === 'stop') {
      // Ctrl-C during bring-up: cleanup() waits for the attempt in flight.
      await settleQuietly(started);
    } else {
      const name = adapter.name;
      const readBack = await describeKernel(binding, adapter.ifindex!);
      out.emit('ready', { name, ifindex: adapter.ifindex, elapsedMs: performance.now() - startedAt, ...readBack },
        `ready in ${ms(performance.now() - startedAt)}: ${name} (ifindex ${adapter.ifindex}), ${readBack.up ? 'up' : 'down'}, ` +
        `mtu ${readBack.mtu}\n  addresses: ${readBack.addresses.join(', ') || 'none'}\n  routes:    ${readBack.routes.join(', ') || 'none'}\n` +
        `  (configuration read back from the kernel and checked by the lifecycle)`);
      const offload = (await adapter.stats()).offload;
      if (offload !== undefined) {
        out.emit('offload', { name, ...offload }, `  offload: ${offload.mode}` +
          (offload.mode === 'segmented' ? ` (coalescing tcp ${offload.coalesce.tcp ? 'on' : 'off'}, udp ${offload.coalesce.udp ? 'on' : 'off'})` : '') +
          (offload.reason ? ` — ${offload.reason}` : ''));
      }
      out.emit('holding', { name }, `holding ${name}: press Ctrl-C (or send SIGTERM) to clean up`);
      adapter.on('state', (to: InterfaceState) => {
        if (to === InterfaceState.Error) out.say(`  ${name} failed: ${describeError(adapter.lastError)}; recovering…`);
      });
      await stop.requested;
    }
    return await cleanUp(adapter, binding, out);
  } finally {
    clearInterval(keepAlive);
    stop.dispose();
    follow.stop();
    statelyWatch?.stop();
    stately?.stop();
    await server?.close();
  }
}

/**
 * Say that events wait for Stately's relay until it listens, and say when it
 * connects (or drops): @statelyai/inspect holds them meanwhile and retries.
 */
function watchStately(stately: StatelyInspector, url: string, out: Output): { stop(): void } {
  let connected = false;
  out.emit('stately', { url, connected }, `waiting for Stately's inspector relay at ${url} (events are held until it connects)`);
  const timer = setInterval(() => {
    if (stately.connected() === connected) return;
    connected = !connected;
    out.emit('stately', { url, connected },
      connected ? `connected to Stately's inspector relay at ${url}: streaming` : `Stately's inspector relay at ${url} went away; waiting for it`);
  }, 100);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

async function settleQuietly(promise: Promise<unknown>): Promise<void> {
  await promise.catch(() => undefined);
}

async function failStart(adapter: TunAdapter, error: unknown, out: Output, what: string): Promise<ExitCode> {
  if (adapter.state === InterfaceState.Error) await adapter.cleanup().catch(() => undefined);
  const privilege = privilegeErrorFrom(error, what);
  if (privilege) throw privilege;
  throw new CliError(`${adapter.name} could not be brought up: ${describeError(error)}`, ExitCode.Failed,
    adapter.state === InterfaceState.Stopped ? 'Nothing was left behind (cleanup verified).' : undefined);
}

interface KernelView {
  up: boolean;
  mtu: number;
  operstate: string;
  addresses: string[];
  routes: string[];
}

async function describeKernel(binding: TunBinding, ifindex: number): Promise<KernelView> {
  const link = await binding.getLink(ifindex);
  const addresses = (await binding.listAddresses(ifindex)).filter((a) => !a.address.startsWith('fe80:')).map((a) => a.cidr);
  const routes = (await binding.listRoutes(ifindex)).map((r) => (r.metric ? `${r.destination} metric ${r.metric}` : r.destination));
  return { up: link.up, mtu: link.mtu, operstate: link.operstate, addresses, routes };
}

async function cleanUp(adapter: TunAdapter, binding: TunBinding, out: Output): Promise<ExitCode> {
  const name = adapter.name;
  const ifindex = adapter.ifindex;
  if (adapter.state === InterfaceState.Stopped || adapter.state === InterfaceState.Uninitialized) return ExitCode.Ok;
  out.emit('stopping', { name }, `cleaning up ${name}…`);
  const t0 = performance.now();
  try {
    await adapter.cleanup();
  } catch (error) {
    throw new CliError(`cleanup of ${name} failed: ${describeError(error)}`, ExitCode.Failed);
  }
  const verified = await verifyGone(binding, name, ifindex);
  const stats = await adapter.stats();
  out.emit('stopped', { name, elapsedMs: performance.now() - t0, verified, counters: stats },
    `stopped in ${ms(performance.now() - t0)}. Verified: ${verified.linkGone ? `${name} is gone from the kernel (getLink → ENODEV)` : `${name} STILL EXISTS`}, ` +
    `${verified.taggedLeft === 0 ? 'no interface tagged by this process remains' : `${verified.taggedLeft} tagged interface(s) remain`}, ` +
    `${verified.queueFdsOpen} queue fd(s) open.\n` +
    `  counters: ${stats.attempts} attempt(s), ${stats.retries} retries, ${stats.faults} fault(s), ${stats.recoveries} recovery(ies), ${stats.cleanups} cleanup(s)`);
  return verified.linkGone && verified.taggedLeft === 0 && verified.queueFdsOpen === 0 ? ExitCode.Ok : ExitCode.Failed;
}

async function verifyGone(binding: TunBinding, name: string, ifindex: number | undefined) {
  let linkGone = false;
  try {
    const link = await binding.getLink(ifindex ?? name);
    linkGone = link.name !== name;
  } catch (error) {
    linkGone = (error as { code?: string }).code === 'ENODEV';
  }
  const tag = ownTag();
  const taggedLeft = (await binding.listLinks()).filter((l) => l.alias === tag).length;
  // Native: ask the kernel which of our fds still point at /dev/net/tun. Simulated: its own count of queue fds.
  const queueFdsOpen = binding.kind === 'native' ? tunFdsOpen() : binding.openFdCount();
  return { linkGone, taggedLeft, queueFdsOpen };
}

function stopRequests(out: Output) {
  let resolveStop!: () => void;
  const requested = new Promise<void>((resolve) => { resolveStop = resolve; });
  let count = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    count += 1;
    if (count === 1) {
      out.emit('signal', { signal }, `\n${signal}: cleaning up (send it again to exit at once)`);
      resolveStop();
    } else {
      out.emit('signal', { signal, again: true }, `${signal} again: exiting without waiting for cleanup`);
      process.exit(ExitCode.Interrupted);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    requested,
    dispose() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

/** --stately: before anything is created, so a missing optional peer is one line and nothing to clean up. */
async function statelyFor(url: string): Promise<StatelyInspector> {
  try {
    return await createStatelyInspector({ url });
  } catch (error) {
    if (error instanceof MissingPeerError) throw new CliError(error.message, ExitCode.Failed);
    throw error;
  }
}
