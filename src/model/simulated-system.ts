// The event executors' view of a SimulatedBinding: its faults, the world's
// outside changes, and observations read from the simulated namespace (not
// from the adapter). Plus `replayOnSimulated`, which builds an adapter over a
// fresh simulated binding and replays one model path against it.

import { TunAdapter } from '../adapter/index.js';
import type { AdapterOptions } from '../options.js';
import { SimulatedBinding } from '../binding/simulated/binding.js';
import type { LifecyclePath } from './test-model.js';
import { LifecycleReplay } from './replay.js';
import type { FaultReason, LifecycleSystem, ReplayConfig, SystemObservation } from './replay.js';

export interface SimulatedSystemOptions {
  /** Fire due timers (e.g. node:test's `mock.timers.tick`, sinon's `clock.tick`); default: really wait. */
  advanceTime?: (ms: number) => void | Promise<void>;
}

export function simulatedSystem(binding: SimulatedBinding, options: SimulatedSystemOptions = {}): LifecycleSystem {
  const { world } = binding;
  return {
    faults: binding.faults,
    deleteLink: (name) => world.deleteLink(name),
    setDown: (name) => world.setUp(name, false),
    removeAddress: (name, cidr) => world.removeAddress(name, cidr),
    observe: (name): SystemObservation => {
      const link = world.link(name);
      return {
        links: world.links().filter((l) => l.kind !== 'loopback').map((l) => l.name),
        queueFds: world.openFds().length,
        link: link && {
          up: link.up,
          mtu: link.mtu,
          addresses: link.addresses.filter((a) => a.scope !== 'link').map((a) => a.cidr),
          routes: link.routes.map((r) => r.destination),
        },
      };
    },
    advanceTime: options.advanceTime ?? ((ms) => new Promise<void>((resolve) => setTimeout(resolve, ms))),
  };
}

export const DEFAULT_REPLAY_CONFIG: Readonly<ReplayConfig> = Object.freeze({
  name: 'mbt0',
  mtu: 1400,
  addresses: ['10.77.0.1/24', 'fd77::1/64'],
  routes: ['10.78.0.0/16', 'fd78::/64'],
  retryAttempts: 1,
  retryDelay: 100,
  cleanupTimeout: 10_000,
  faultReason: 'deleted' as FaultReason,
});

/** The adapter options that make an adapter behave as the model (same policy, same configuration). */
export function adapterOptionsFor(config: ReplayConfig): AdapterOptions {
  return {
    mtu: config.mtu,
    addresses: config.addresses,
    routes: config.routes,
    retryAttempts: config.retryAttempts,
    retryDelay: config.retryDelay,
    cleanupTimeout: config.cleanupTimeout,
    // The model's graph is bounded by retryAttempts, not by alerts; keep alerts on so they are compared too.
    alertThreshold: 3,
  };
}

export interface ReplayResult {
  replay: LifecycleReplay;
  /** What the namespace held after the final cleanup. */
  after: SystemObservation;
}

/** Replay one model path on an adapter over a fresh SimulatedBinding; throws ModelReplayError on disagreement. */
export async function replayOnSimulated(
  path: LifecyclePath, config: Partial<ReplayConfig> = {}, options: SimulatedSystemOptions = {},
): Promise<ReplayResult> {
  const full: ReplayConfig = { ...DEFAULT_REPLAY_CONFIG, ...config };
  const binding = new SimulatedBinding();
  const adapter = new TunAdapter(full.name, { ...adapterOptionsFor(full), binding });
  const replay = new LifecycleReplay(adapter, simulatedSystem(binding, options), full);
  let failure: unknown;
  try {
    await replay.run(path);
  } catch (error) {
    failure = error;
  }
  // Always let go and clean up, even after a disagreement, so a failing path leaves nothing running.
  let after: SystemObservation | undefined;
  try {
    after = await replay.dispose();
  } catch (error) {
    failure ??= error;
  }
  if (failure !== undefined) throw failure;
  return { replay, after: after! };
}
