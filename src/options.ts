// Adapter options: one table, key → default and check, and the part of the
// adapter that reads it. The known keys, DEFAULT_OPTIONS, the option types and
// the resolved object are all derived from the table; the policy defaults are
// the chart's own (DEFAULT_POLICY), never restated here. Validation runs before
// anything touches the kernel; every error names the option (TypeError for a
// wrong type or value, RangeError for a number out of range), the way Node's
// own APIs do.

import type { InspectionEvent, Observer } from 'xstate';
import { DEFAULT_POLICY } from '../machines/tunLifecycle.js';
import type { LifecyclePolicy } from '../machines/types.js';
import type { LinkPlan, NetnsTarget, OffloadOption, OpenOptions, RouteSpec, TunBinding } from './binding/contract/types.js';
import { validateOffload } from './binding/contract/offload.js';
import { desiredRouteKey, routeKeys } from './binding/contract/route-metric.js';
import {
  InvalidArgumentTypeError, InvalidArgumentValueError, MIN_IPV6_MTU, OutOfRangeError,
  normalizeRoute, parseCidr, validateBoolean, validateInteger, validateInterfaceName, validateMtu, validateNetns, validateOpenOptions,
} from './binding/contract/validate.js';
import type { NormalizedRoute, ParsedCidr } from './binding/contract/validate.js';
import type { Logger } from './log.js';

/** Which part of the adapter reads an option: the chart, the link it makes, or the wiring around them. */
export type OptionPart = 'policy' | 'link' | 'wiring';

/** The options resolved before this one (table order): what a rule across options reads. */
type Earlier = Readonly<Record<string, unknown>>;

interface OptionRow<Part extends OptionPart, Given, Value, Default extends Value | undefined> {
  part: Part;
  /**
   * What an absent option resolves to, listed in DEFAULT_OPTIONS. A row
   * without one (Default = Unset) resolves to undefined and is not listed.
   */
  default?: Default;
  /** Validates and interprets a value the user gave; `argument` is 'options.<key>'. */
  check(value: unknown, argument: string): Value;
  /**
   * A rule across options, run right after this one resolves (so errors keep
   * the table's order): may refuse, or give the value that stands.
   */
  relate?(value: Value | Default, earlier: Earlier, given: unknown): Value | Default;
  /** Type only: what the user may pass (AdapterOptions is derived from it). */
  readonly given?: Given;
}

/** The Default of a row that has none. */
type Unset = never;

/** Row builders, one per part: `policy<Given, Value, Default>({ default, check })`. */
function rowsOf<Part extends OptionPart>(part: Part) {
  return <Given, Value = Given, Default extends Value | undefined = Value>(
    row: Omit<OptionRow<Part, Given, Value, Default>, 'part'>,
  ): OptionRow<Part, Given, Value, Default> => ({ ...row, part });
}
const policy = rowsOf('policy');
const link = rowsOf('link');
const wiring = rowsOf('wiring');

/** Longest delay setTimeout honours (2^31 - 1 ms); longer ones fire at once. */
const MAX_TIMER = 0x7fffffff;

const integer = (min: number, max: number) => (value: unknown, argument: string) => validateInteger(value, argument, min, max);

function fraction(value: unknown, argument: string): number {
  if (typeof value !== 'number') throw new InvalidArgumentTypeError(argument, 'a number', value);
  if (!(value >= 0 && value <= 1)) throw new OutOfRangeError(argument, '>= 0 and <= 1', value);
  return value;
}

function listOf<T>(parse: (value: unknown, argument: string) => T) {
  return (value: unknown, argument: string): T[] => {
    if (!Array.isArray(value)) throw new InvalidArgumentTypeError(argument, 'an array', value);
    return value.map((item, i) => parse(item, `${argument}[${i}]`));
  };
}

/** The open() options are the binding's: its own validator checks them, with its own bounds. */
const openOption = <K extends 'queues' | 'multiQueue' | 'persist' | 'owner' | 'group'>(key: K) =>
  (value: unknown) => validateOpenOptions({ [key]: value })[key] as NonNullable<OpenOptions[K]>;

function noRepeats<T>(items: readonly T[], argument: string, keyOf: (item: T) => string, what: string, shown: (item: T) => string): void {
  const seen = new Set<string>();
  items.forEach((item, i) => {
    const key = keyOf(item);
    if (seen.has(key)) throw new InvalidArgumentValueError(`${argument}[${i}]`, `repeats ${what} already listed`, shown(item));
    seen.add(key);
  });
}

const OPTIONS = {
  /** Retries after a failed create/recover attempt or cleanup round (transient errnos only). Default 5. */
  retryAttempts: policy<number>({ default: DEFAULT_POLICY.retryAttempts, check: integer(0, 1000) }),
  /** First backoff in ms; doubles per retry. Default 200. */
  retryDelay: policy<number>({ default: DEFAULT_POLICY.retryDelay, check: integer(0, MAX_TIMER) }),
  /** Cap on one backoff in ms. Default 30000 (or retryDelay when that is longer). */
  retryDelayMax: policy<number>({
    default: DEFAULT_POLICY.retryDelayMax,
    check: integer(0, MAX_TIMER),
    relate: (value, earlier, given) => {
      const retryDelay = earlier.retryDelay as number;
      if (given === undefined) return Math.max(value, retryDelay);
      if (value < retryDelay) throw new OutOfRangeError('options.retryDelayMax', `>= options.retryDelay (${retryDelay})`, value);
      return value;
    },
  }),
  /** 0..1: share of each backoff taken off at random. Default 0 (exact). */
  retryJitter: policy<number>({ default: DEFAULT_POLICY.retryJitter, check: fraction }),
  /** Deadline for cleanup in ms (all its rounds together). Default 10000. */
  cleanupTimeout: policy<number>({ default: DEFAULT_POLICY.cleanupTimeout, check: integer(1, MAX_TIMER) }),
  /** Deadline for one reconfigure() in ms (every attempt of it together); past it, error. Default 10000. */
  reconfigureTimeout: policy<number>({ default: DEFAULT_POLICY.reconfigureTimeout, check: integer(1, MAX_TIMER) }),
  /** Read the kernel back after configuring and compare with what was asked. Default true. */
  validateState: link<boolean>({ default: true, check: validateBoolean }),
  /** Every this many consecutive failures emits 'alert' (0 = never). Default 3. */
  alertThreshold: policy<number>({ default: DEFAULT_POLICY.alertThreshold, check: integer(0, 1_000_000) }),
  /** Interface MTU; the kernel's default (1500) when absent. */
  mtu: link<number, number, undefined>({ default: undefined, check: validateMtu }),
  /** Addresses in CIDR form ('10.0.0.1/24', 'fd00::1/64'). */
  addresses: link<readonly string[], readonly ParsedCidr[]>({
    default: Object.freeze([]),
    check: (value, argument) => {
      const addresses = listOf(parseCidr)(value, argument);
      noRepeats(addresses, argument, (a) => a.address, 'an address', (a) => a.cidr);
      return addresses;
    },
  }),
  /** Routes through the interface: CIDR strings or { destination, metric }. */
  routes: link<ReadonlyArray<string | RouteSpec>, readonly NormalizedRoute[]>({
    default: Object.freeze([]),
    check: (value, argument) => {
      const routes = listOf(normalizeRoute)(value, argument);
      // Told apart as the kernel tells them (an IPv6 metric 0 is its 1024), by
      // the key set the diff and the monitor use: made here once, and only a
      // list with a repeat is walked again to name it.
      if (routeKeys(routes).size < routes.length) noRepeats(routes, argument, desiredRouteKey, 'a route', (r) => r.destination.cidr);
      return routes;
    },
    relate: (routes, earlier) => {
      // IPv6 is disabled by the kernel on a link below 1280 bytes: asking for both is a contradiction.
      const mtu = earlier.mtu as number | undefined;
      const usesIPv6 = (earlier.addresses as ParsedCidr[]).some((a) => a.family === 6) || routes.some((r) => r.family === 6);
      if (usesIPv6 && mtu !== undefined && mtu < MIN_IPV6_MTU) {
        throw new OutOfRangeError('options.mtu', `>= ${MIN_IPV6_MTU} when an IPv6 address or route is configured`, mtu);
      }
      return routes;
    },
  }),
  /** Queue fds (IFF_MULTI_QUEUE when > 1). Default 1. */
  queues: link<number>({ default: 1, check: openOption('queues') }),
  /** IFF_MULTI_QUEUE even with one queue. Default: true when queues > 1. */
  multiQueue: link<boolean>({
    default: false,
    check: openOption('multiQueue'),
    // Its default and its rule against queues are the binding's.
    relate: (_value, earlier, given) => validateOpenOptions({ queues: earlier.queues, multiQueue: given }).multiQueue,
  }),
  /** Keep the interface when its fds close (TUNSETPERSIST). Default false. */
  persist: link<boolean>({ default: false, check: openOption('persist') }),
  /**
   * IFF_VNET_HDR + TUNSETOFFLOAD (README, "Offload"): false, true or 'auto'
   * (segmented: packets look as without offload), 'raw' (pass-through for
   * relays: a virtio header in front of each frame). Default 'auto': on where
   * the kernel takes it and the coalesced-write probe passes.
   */
  offload: link<OffloadOption>({ default: 'auto', check: (value, argument) => validateOffload(value, argument) }),
  /** TUNSETOWNER. */
  owner: link<number, number, Unset>({ check: openOption('owner') }),
  /** TUNSETGROUP. */
  group: link<number, number, Unset>({ check: openOption('group') }),
  /** A TunBinding (e.g. SimulatedBinding); default: the native addon. */
  binding: wiring<TunBinding, TunBinding, Unset>({
    check: (value, argument) => {
      if (value === null || typeof value !== 'object' || typeof (value as TunBinding).open !== 'function') {
        throw new InvalidArgumentTypeError(argument, 'a TunBinding (an object with open(), getLink(), …)', value);
      }
      return value as TunBinding;
    },
  }),
  /**
   * The network namespace the interface lives in: a name (/var/run/netns/NAME),
   * a path (/proc/PID/ns/net) or an fd. Everything the adapter asks the kernel
   * (open, configure, verify, monitor, recover, cleanup) goes to the binding's
   * namespace(netns). Default: the process's own namespace.
   */
  netns: wiring<NetnsTarget, NetnsTarget, Unset>({
    check: (value, argument) => {
      validateNetns(value, argument);
      return value as NetnsTarget;
    },
  }),
  /** pino/console-shaped logger; silent by default. */
  logger: wiring<Logger, Logger, Unset>({
    check: (value, argument) => {
      if (value === null || (typeof value !== 'object' && typeof value !== 'function')) {
        throw new InvalidArgumentTypeError(argument, 'an object with debug/info/warn/error methods', value);
      }
      return value as Logger;
    },
  }),
  /** Aborting it cleans up (or stops initializing). */
  signal: wiring<AbortSignal, AbortSignal, Unset>({
    check: (value, argument) => {
      if (!(value instanceof AbortSignal)) throw new InvalidArgumentTypeError(argument, 'an AbortSignal', value);
      return value;
    },
  }),
  /** XState inspection observer (the inspector, logging of every actor event). */
  inspect: wiring<Inspect, Inspect, Unset>({
    check: (value, argument) => {
      if (typeof value !== 'function' && (value === null || typeof value !== 'object')) {
        throw new InvalidArgumentTypeError(argument, 'a function or an observer object', value);
      }
      return value as Inspect;
    },
  }),
  /** SIGINT/SIGTERM/SIGHUP → cleanup within cleanupTimeout; a second signal exits at once. Default false. */
  handleSignals: wiring<boolean>({ default: false, check: validateBoolean }),
};

type Inspect = Observer<InspectionEvent> | ((event: InspectionEvent) => void);
type Options = typeof OPTIONS;
type OptionKey = keyof Options;
type AnyRow = OptionRow<OptionPart, any, any, any>;
type GivenOf<R> = R extends OptionRow<any, infer G, any, any> ? G : never;
type DefaultOf<R> = R extends OptionRow<any, any, any, infer D> ? D : never;
type ValueOf<R> = R extends OptionRow<any, any, infer V, infer D> ? ([D] extends [never] ? V | undefined : V | D) : never;
type KeysOf<P extends OptionPart> = { [K in OptionKey]: Options[K] extends OptionRow<P, any, any, any> ? K : never }[OptionKey];
type Listed = { [K in OptionKey]: [DefaultOf<Options[K]>] extends [never] ? never : K }[OptionKey];

/** What `new TunAdapter(name, options)` accepts: one optional key per row of the table. */
export type AdapterOptions = { [K in OptionKey]?: GivenOf<Options[K]> };

/** Every option validated and interpreted (defaults applied). */
export type ResolvedOptions = { [K in OptionKey]: ValueOf<Options[K]> };

/** The known option keys, in the order they are validated. */
export const OPTION_KEYS: readonly OptionKey[] = Object.freeze(Object.keys(OPTIONS) as OptionKey[]);

/** The part each option belongs to (the table's column, for tests and tooling). */
export const OPTION_PARTS: Readonly<Record<OptionKey, OptionPart>> = Object.freeze(
  Object.fromEntries(OPTION_KEYS.map((key) => [key, OPTIONS[key].part])) as Record<OptionKey, OptionPart>,
);

const KNOWN: ReadonlySet<string> = new Set(OPTION_KEYS);

/** The reference defaults (retryAttempts, retryDelay, cleanupTimeout, validateState) and ours. */
export const DEFAULT_OPTIONS = Object.freeze(Object.fromEntries(
  OPTION_KEYS.filter((key) => 'default' in OPTIONS[key]).map((key) => [key, (OPTIONS[key] as AnyRow).default]),
)) as {
  // An empty list reads as what the user would pass.
  readonly [K in Listed]: DefaultOf<Options[K]> extends readonly unknown[] ? GivenOf<Options[K]> : DefaultOf<Options[K]>
};

/** The policy rows are exactly the chart's policy (a compile error otherwise). */
type PolicyOfTable = { [K in KeysOf<'policy'>]: ResolvedOptions[K] };
const policyMatches: [PolicyOfTable, LifecyclePolicy] extends [LifecyclePolicy, PolicyOfTable] ? true : never = true;
void policyMatches;

/** The addresses, routes and MTU as the binding's LinkPlan takes them. */
export type LinkConfiguration = Pick<LinkPlan, 'mtu'> & Required<Pick<LinkPlan, 'addresses' | 'routes'>>;

/**
 * What the lifecycle actors need to make, verify, recover and clean up the
 * link, built once per adapter (never per attempt): every link option as
 * resolved (the parsed forms verification and recovery compare the kernel
 * against), and the two forms the binding is sent on every open.
 */
export type AdapterLink = { readonly [K in KeysOf<'link'>]: ResolvedOptions[K] } & {
  /** open() options, without the name and the plan (those are per attempt). */
  readonly open: Readonly<Omit<OpenOptions, 'name' | 'configure' | 'attachExisting'>>;
  /** MTU, addresses and routes in the LinkPlan's own form. */
  readonly plan: Readonly<LinkConfiguration>;
};

/** What the adapter's class wires: the binding, the log, the abort signal, signals, the inspector. */
export type AdapterWiring = { readonly [K in KeysOf<'wiring'>]: ResolvedOptions[K] };

export interface ResolvedParts {
  /** What the statechart reads. */
  policy: LifecyclePolicy;
  link: AdapterLink;
  wiring: AdapterWiring;
}

export function validateName(name: unknown): string {
  return validateInterfaceName(name, 'name', true);
}

/** Every option checked in table order, defaults applied. */
export function resolveAll(options: unknown): ResolvedOptions {
  if (options === undefined) options = {};
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new InvalidArgumentTypeError('options', 'an object', options);
  }
  const given = options as Record<string, unknown>;
  for (const key of Object.keys(given)) {
    if (!KNOWN.has(key)) throw new InvalidArgumentValueError(`options.${key}`, 'is not a known option', given[key]);
  }
  const resolved: Record<string, unknown> = {};
  for (const key of OPTION_KEYS) {
    const row = OPTIONS[key] as AnyRow;
    const value = given[key] === undefined ? row.default : row.check(given[key], `options.${key}`);
    resolved[key] = row.relate ? row.relate(value, resolved, given[key]) : value;
  }
  return resolved as ResolvedOptions;
}

export function resolveOptions(options: unknown): ResolvedParts {
  const all = resolveAll(options);
  return { policy: partOf(all, 'policy'), link: linkOf(all), wiring: partOf(all, 'wiring') };
}

/** Each part's keys in table order, listed once: resolveOptions runs on every create. */
const PART_KEYS: Readonly<Record<OptionPart, readonly OptionKey[]>> = {
  policy: OPTION_KEYS.filter((key) => OPTION_PARTS[key] === 'policy'),
  link: OPTION_KEYS.filter((key) => OPTION_PARTS[key] === 'link'),
  wiring: OPTION_KEYS.filter((key) => OPTION_PARTS[key] === 'wiring'),
};

/** The options of one part, as resolved. */
function partOf<P extends OptionPart>(all: ResolvedOptions, part: P): { [K in KeysOf<P>]: ResolvedOptions[K] } {
  const values: Record<string, unknown> = {};
  for (const key of PART_KEYS[part]) values[key] = all[key];
  return values as never;
}

/** The keys reconfigure() takes: the desired configuration's. */
export const CONFIGURATION_KEYS = Object.freeze(['mtu', 'addresses', 'routes'] as const);
export type ConfigurationKey = (typeof CONFIGURATION_KEYS)[number];

/** What reconfigure() accepts: each key that key's whole desired list (or MTU). */
export type ConfigurationChange = { [K in ConfigurationKey]?: GivenOf<Options[K]> };

/**
 * The link with `change` applied: the keys given replace the current ones,
 * checked by their rows exactly as at creation (the rule across them too),
 * before anything touches the kernel. Unknown keys are refused.
 */
export function changeLink(current: AdapterLink, change: unknown): AdapterLink {
  if (change === null || typeof change !== 'object' || Array.isArray(change)) {
    throw new InvalidArgumentTypeError('options', 'an object', change);
  }
  const given = change as Record<string, unknown>;
  for (const key of Object.keys(given)) {
    if (!(CONFIGURATION_KEYS as readonly string[]).includes(key)) {
      throw new InvalidArgumentValueError(`options.${key}`, 'is not a key reconfigure() takes (mtu, addresses, routes)', given[key]);
    }
  }
  const resolved: Record<string, unknown> = {};
  for (const key of CONFIGURATION_KEYS) {
    const row = OPTIONS[key] as AnyRow;
    const value = given[key] === undefined ? current[key] : row.check(given[key], `options.${key}`);
    resolved[key] = row.relate ? row.relate(value, resolved, given[key]) : value;
  }
  return linkOf({ ...current, ...resolved } as unknown as ResolvedOptions);
}

function linkOf(all: ResolvedOptions): AdapterLink {
  const { mtu, addresses, routes } = all;
  return {
    ...partOf(all, 'link'),
    open: {
      queues: all.queues,
      multiQueue: all.multiQueue,
      persist: all.persist,
      offload: all.offload,
      ...(all.owner === undefined ? {} : { owner: all.owner }),
      ...(all.group === undefined ? {} : { group: all.group }),
    },
    plan: {
      ...(mtu === undefined ? {} : { mtu }),
      addresses: addresses.map((address) => address.cidr),
      routes: routes.map((route) => ({ destination: route.destination.cidr, metric: route.metric })),
    },
  };
}
