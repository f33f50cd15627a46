// The adapter's reconfigure() and its sugar: calls queued in call order, each
// validated as at creation, then carried out by the statechart — in ready as
// a reconfiguration (ready → reconfiguring → ready), in error as a new desired
// configuration that recovery converges to. Each promise settles for its own
// configuration.

import { InterfaceState } from '../../machines/types.js';
import type { RouteSpec } from '../binding/contract/types.js';
import { desiredRouteKey } from '../binding/contract/route-metric.js';
import { AbortError, InvalidStateTransitionError } from '../errors.js';
import type { ReconfigureDiff } from '../lifecycle/reconfigure.js';
import type { InterfaceSession } from '../lifecycle/session.js';
import { changeLink } from '../options.js';
import type { AdapterLink, ConfigurationChange } from '../options.js';
import type { LifecycleActor } from './actors.js';
import type { SnapshotWatch } from './snapshot-watch.js';

/** The desired configuration, canonical (as the kernel spells it) and frozen. */
export interface LinkConfig {
  readonly mtu: number | undefined;
  readonly addresses: readonly string[];
  readonly routes: ReadonlyArray<Readonly<Required<RouteSpec>>>;
}

/** What the reconfigurations need of their adapter. */
export interface ReconfigureHost {
  readonly actor: LifecycleActor;
  readonly watch: SnapshotWatch;
  readonly name: string;
  readonly lastError: Error | undefined;
  /** The session once made (undefined before the first attempt). */
  session(): InterfaceSession | undefined;
  /** The link resolved from the options, desired until a session holds it. */
  readonly initialLink: AdapterLink;
}

const configs = new WeakMap<AdapterLink, LinkConfig>();

/** The frozen, canonical view of a link's desired configuration (one object per link). */
export function configOf(link: AdapterLink): LinkConfig {
  let config = configs.get(link);
  if (!config) {
    config = Object.freeze({
      mtu: link.mtu,
      addresses: Object.freeze(link.addresses.map((a) => a.cidr)),
      routes: Object.freeze(link.routes.map((r) => Object.freeze({ destination: r.destination.cidr, metric: r.metric }))),
    });
    configs.set(link, config);
  }
  return config;
}

export class Reconfigurations {
  #tail: Promise<unknown> = Promise.resolve();
  #lastDiff: ReconfigureDiff | undefined;

  constructor(readonly host: ReconfigureHost) {}

  /** The desired configuration now. */
  get desired(): AdapterLink {
    return this.host.session()?.link ?? this.host.initialLink;
  }

  /** The reconfigure actor applied a diff (kept for the call that is waiting on it). */
  applied(diff: ReconfigureDiff): void {
    this.#lastDiff = diff;
  }

  /**
   * Queue a change computed from the desired configuration when its turn
   * comes (the sugar: add one route to whatever the earlier calls left).
   * `change` is validated now against today's configuration too, so a bad
   * argument is refused at the call.
   */
  enqueue(change: (desired: AdapterLink) => ConfigurationChange | unknown): Promise<ReconfigureDiff> {
    const base = this.desired;
    let first: AdapterLink;
    try {
      first = changeLink(base, change(base));
    } catch (error) {
      return Promise.reject(error);
    }
    const run = async () => this.#apply(this.#turn(base, first, change));
    const result = this.#tail.then(run, run);
    this.#tail = result.catch(() => undefined);
    return result;
  }

  /**
   * At its turn the change is recomputed over what earlier calls made desired;
   * when the desired configuration is still the one it was validated against,
   * that result stands (a thousand routes are not parsed twice).
   */
  #turn(base: AdapterLink, first: AdapterLink, change: (desired: AdapterLink) => unknown): AdapterLink {
    return this.desired === base ? first : changeLink(this.desired, change(this.desired));
  }

  async #apply(target: AdapterLink): Promise<ReconfigureDiff> {
    const { host } = this;
    const state = host.watch.state;
    const session = host.session();
    if (state === InterfaceState.Error && session) return this.#inError(session, target);
    if (state !== InterfaceState.Ready || !session) {
      throw new InvalidStateTransitionError('reconfigure', { state, interfaceName: host.name });
    }
    session.propose(target);
    this.#lastDiff = undefined;
    const outcome = host.watch.until<ReconfigureDiff>((to) => {
      if (to === InterfaceState.Reconfiguring) return undefined;
      if (to === InterfaceState.Ready) {
        const rejected = host.actor.getSnapshot().context.reconfigureError;
        return rejected ? { error: rejected } : { value: this.#lastDiff ?? emptyDiff() };
      }
      if (to === InterfaceState.Error) return { error: host.lastError };
      return { error: new AbortError({ state: to, interfaceName: host.name }) };
    });
    host.actor.send({ type: 'RECONFIGURE' });
    try {
      return await outcome;
    } finally {
      session.dropProposed();
    }
  }

  /**
   * In error the configuration becomes the desired one at once; recovery
   * (started if it is halted) converges to it. An attempt already in flight
   * may have read the old one: once ready, one more pass makes sure.
   */
  async #inError(session: InterfaceSession, target: AdapterLink): Promise<ReconfigureDiff> {
    const { host } = this;
    session.desire(target);
    const recovered = host.watch.until<void>(() => {
      const snapshot = host.actor.getSnapshot();
      if (snapshot.matches('ready')) return { value: undefined };
      if (snapshot.matches({ error: 'halted' })) return { error: host.lastError };
      if (snapshot.matches('stopping') || snapshot.matches('stopped')) return { error: new AbortError({ state: host.watch.state, interfaceName: host.name }) };
      return undefined;
    }, true);
    if (host.actor.getSnapshot().can({ type: 'RECOVER' })) host.actor.send({ type: 'RECOVER' });
    else if (host.actor.getSnapshot().matches({ error: 'halted' })) {
      throw new InvalidStateTransitionError('reconfigure', { state: host.watch.state, interfaceName: host.name });
    }
    await recovered;
    return this.#apply(target);
  }
}

function emptyDiff(): ReconfigureDiff {
  return { addresses: { added: [], removed: [] }, routes: { added: [], removed: [] } };
}

/** The sugar's changes: one item added to or removed from one key's desired list. */
export const sugar = {
  addRoute: (route: string | RouteSpec) => (desired: AdapterLink): ConfigurationChange => ({ routes: [...configOf(desired).routes, route] }),
  removeRoute: (route: string | RouteSpec) => (desired: AdapterLink): ConfigurationChange => {
    const spec = typeof route === 'string' ? { destination: route } : route;
    const gone = changeLink(desired, { routes: [spec] }).routes[0]!;
    // The route the kernel would hold under that key (IPv6 metric 0 is 1024).
    return { routes: desired.routes.filter((r) => desiredRouteKey(r) !== desiredRouteKey(gone)).map(specOf) };
  },
  addAddress: (cidr: string) => (desired: AdapterLink): ConfigurationChange => ({ addresses: [...configOf(desired).addresses, cidr] }),
  removeAddress: (cidr: string) => (desired: AdapterLink): ConfigurationChange => {
    const gone = changeLink(desired, { addresses: [cidr] }).addresses[0]!;
    return { addresses: configOf(desired).addresses.filter((a) => a !== gone.cidr) };
  },
};

function specOf(route: AdapterLink['routes'][number]): Required<RouteSpec> {
  return { destination: route.destination.cidr, metric: route.metric };
}
