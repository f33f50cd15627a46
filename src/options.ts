// Adapter options: defaults, and validation that runs before anything touches
// the kernel. Every error names the option (TypeError for a wrong type or
// value, RangeError for a number out of range), the way Node's own APIs do.

import type { InspectionEvent, Observer } from 'xstate';
import type { RouteSpec, TunBinding } from './binding/contract/types.js';
import {
  InvalidArgumentTypeError, InvalidArgumentValueError, MIN_IPV6_MTU, OutOfRangeError,
  normalizeRoute, parseCidr, validateBoolean, validateInteger, validateInterfaceName, validateMtu, validateOpenOptions,
} from './binding/contract/validate.js';
import type { NormalizedRoute, ParsedCidr } from './binding/contract/validate.js';
import type { Logger } from './log.js';

export interface AdapterOptions {
  /** Retries after a failed create/recover attempt (transient errnos only). Default 5. */
  retryAttempts?: number;
  /** First backoff in ms; doubles per retry. Default 200. */
  retryDelay?: number;
  /** Cap on one backoff in ms. Default 30000. */
  retryDelayMax?: number;
  /** 0..1: share of each backoff taken off at random. Default 0 (exact). */
  retryJitter?: number;
  /** Deadline for cleanup in ms. Default 10000. */
  cleanupTimeout?: number;
  /** Read the kernel back after configuring and compare with what was asked. Default true. */
  validateState?: boolean;
  /** Every this many consecutive failures emits 'alert' (0 = never). Default 3. */
  alertThreshold?: number;
  /** Interface MTU; the kernel's default (1500) when absent. */
  mtu?: number;
  /** Addresses in CIDR form ('10.0.0.1/24', 'fd00::1/64'). */
  addresses?: readonly string[];
  /** Routes through the interface: CIDR strings or { destination, metric }. */
  routes?: ReadonlyArray<string | RouteSpec>;
  /** Queue fds (IFF_MULTI_QUEUE when > 1). Default 1. */
  queues?: number;
  multiQueue?: boolean;
  /** Keep the interface when its fds close (TUNSETPERSIST). Default false. */
  persist?: boolean;
  /** TUNSETOWNER / TUNSETGROUP. */
  owner?: number;
  group?: number;
  /** A TunBinding (e.g. SimulatedBinding); default: the native addon. */
  binding?: TunBinding;
  /** pino/console-shaped logger; silent by default. */
  logger?: Logger;
  /** Aborting it cleans up (or stops initializing). */
  signal?: AbortSignal;
  /** SIGINT/SIGTERM/SIGHUP → cleanup within cleanupTimeout; a second signal exits at once. Default false. */
  handleSignals?: boolean;
  /** XState inspection observer (the inspector, logging of every actor event). */
  inspect?: Observer<InspectionEvent> | ((event: InspectionEvent) => void);
}

export interface ResolvedOptions {
  retryAttempts: number;
  retryDelay: number;
  retryDelayMax: number;
  retryJitter: number;
  cleanupTimeout: number;
  validateState: boolean;
  alertThreshold: number;
  mtu: number | undefined;
  addresses: ParsedCidr[];
  routes: NormalizedRoute[];
  queues: number;
  multiQueue: boolean;
  persist: boolean;
  owner: number | undefined;
  group: number | undefined;
  binding: TunBinding | undefined;
  logger: Logger | undefined;
  signal: AbortSignal | undefined;
  handleSignals: boolean;
  inspect: AdapterOptions['inspect'];
}

/** The reference defaults (retryAttempts, retryDelay, cleanupTimeout, validateState) and ours. */
export const DEFAULT_OPTIONS = Object.freeze({
  retryAttempts: 5,
  retryDelay: 200,
  retryDelayMax: 30_000,
  retryJitter: 0,
  cleanupTimeout: 10_000,
  validateState: true,
  alertThreshold: 3,
  mtu: undefined,
  addresses: Object.freeze([]) as readonly string[],
  routes: Object.freeze([]) as readonly string[],
  queues: 1,
  multiQueue: false,
  persist: false,
  handleSignals: false,
} as const);

const KNOWN = new Set([
  'retryAttempts', 'retryDelay', 'retryDelayMax', 'retryJitter', 'cleanupTimeout', 'validateState', 'alertThreshold',
  'mtu', 'addresses', 'routes', 'queues', 'multiQueue', 'persist', 'owner', 'group', 'binding', 'logger', 'signal',
  'handleSignals', 'inspect',
]);

/** Longest delay setTimeout honours (2^31 - 1 ms); longer ones fire at once. */
const MAX_TIMER = 0x7fffffff;

export function validateName(name: unknown): string {
  return validateInterfaceName(name, 'name', true);
}

export function resolveOptions(options: unknown): ResolvedOptions {
  if (options === undefined) options = {};
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new InvalidArgumentTypeError('options', 'an object', options);
  }
  const o = options as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!KNOWN.has(key)) throw new InvalidArgumentValueError(`options.${key}`, 'is not a known option', o[key]);
  }
  const int = (key: string, min: number, max: number, fallback: number): number =>
    o[key] === undefined ? fallback : validateInteger(o[key], `options.${key}`, min, max);
  const bool = (key: string, fallback: boolean): boolean =>
    o[key] === undefined ? fallback : validateBoolean(o[key], `options.${key}`);

  const retryAttempts = int('retryAttempts', 0, 1000, DEFAULT_OPTIONS.retryAttempts);
  const retryDelay = int('retryDelay', 0, MAX_TIMER, DEFAULT_OPTIONS.retryDelay);
  const retryDelayMax = int('retryDelayMax', 0, MAX_TIMER, Math.max(DEFAULT_OPTIONS.retryDelayMax, retryDelay));
  if (retryDelayMax < retryDelay) {
    throw new OutOfRangeError('options.retryDelayMax', `>= options.retryDelay (${retryDelay})`, retryDelayMax);
  }
  let retryJitter: number = DEFAULT_OPTIONS.retryJitter;
  if (o.retryJitter !== undefined) {
    if (typeof o.retryJitter !== 'number') throw new InvalidArgumentTypeError('options.retryJitter', 'a number', o.retryJitter);
    if (!(o.retryJitter >= 0 && o.retryJitter <= 1)) throw new OutOfRangeError('options.retryJitter', '>= 0 and <= 1', o.retryJitter);
    retryJitter = o.retryJitter;
  }
  const cleanupTimeout = int('cleanupTimeout', 1, MAX_TIMER, DEFAULT_OPTIONS.cleanupTimeout);
  const validateState = bool('validateState', DEFAULT_OPTIONS.validateState);
  const alertThreshold = int('alertThreshold', 0, 1_000_000, DEFAULT_OPTIONS.alertThreshold);
  const mtu = o.mtu === undefined ? undefined : validateMtu(o.mtu, 'options.mtu');

  const addresses = listOf(o.addresses, 'options.addresses').map((value, i) => parseCidr(value, `options.addresses[${i}]`));
  const seen = new Set<string>();
  addresses.forEach((address, i) => {
    if (seen.has(address.address)) {
      throw new InvalidArgumentValueError(`options.addresses[${i}]`, 'repeats an address already listed', address.cidr);
    }
    seen.add(address.address);
  });
  const routes = listOf(o.routes, 'options.routes').map((value, i) => normalizeRoute(value, `options.routes[${i}]`));
  const routeKeys = new Set<string>();
  routes.forEach((route, i) => {
    const key = `${route.destination.cidr}@${route.metric}`;
    if (routeKeys.has(key)) throw new InvalidArgumentValueError(`options.routes[${i}]`, 'repeats a route already listed', route.destination.cidr);
    routeKeys.add(key);
  });

  // IPv6 is disabled by the kernel on a link below 1280 bytes: asking for both is a contradiction.
  const usesIPv6 = addresses.some((a) => a.family === 6) || routes.some((r) => r.family === 6);
  if (usesIPv6 && mtu !== undefined && mtu < MIN_IPV6_MTU) {
    throw new OutOfRangeError('options.mtu', `>= ${MIN_IPV6_MTU} when an IPv6 address or route is configured`, mtu);
  }

  const open = validateOpenOptions({
    queues: o.queues, multiQueue: o.multiQueue, persist: o.persist, owner: o.owner, group: o.group,
  });

  const binding = o.binding;
  if (binding !== undefined && (binding === null || typeof binding !== 'object' || typeof (binding as TunBinding).open !== 'function')) {
    throw new InvalidArgumentTypeError('options.binding', 'a TunBinding (an object with open(), getLink(), …)', binding);
  }
  const logger = o.logger;
  if (logger !== undefined && (logger === null || (typeof logger !== 'object' && typeof logger !== 'function'))) {
    throw new InvalidArgumentTypeError('options.logger', 'an object with debug/info/warn/error methods', logger);
  }
  const signal = o.signal;
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new InvalidArgumentTypeError('options.signal', 'an AbortSignal', signal);
  }
  const inspect = o.inspect;
  if (inspect !== undefined && typeof inspect !== 'function' && (inspect === null || typeof inspect !== 'object')) {
    throw new InvalidArgumentTypeError('options.inspect', 'a function or an observer object', inspect);
  }

  return {
    retryAttempts, retryDelay, retryDelayMax, retryJitter, cleanupTimeout, validateState, alertThreshold,
    mtu, addresses, routes,
    queues: open.queues, multiQueue: open.multiQueue, persist: open.persist, owner: open.owner, group: open.group,
    binding: binding as TunBinding | undefined,
    logger: logger as Logger | undefined,
    signal: signal as AbortSignal | undefined,
    handleSignals: bool('handleSignals', DEFAULT_OPTIONS.handleSignals),
    inspect: inspect as AdapterOptions['inspect'],
  };
}

function listOf(value: unknown, argument: string): unknown[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new InvalidArgumentTypeError(argument, 'an array', value);
  return value;
}
