// Argument checks shared by both bindings. They run before any syscall, so
// bad input never reaches the kernel and never leaves anything half made.
// Errors follow Node's conventions: TypeError for a wrong type or value
// (code ERR_INVALID_ARG_TYPE / ERR_INVALID_ARG_VALUE), RangeError for a number
// out of range (ERR_OUT_OF_RANGE), each message naming the argument.

import { isIPv6 } from 'node:net';
import type { Family, NetnsTarget, OffloadOption, RouteSpec } from './types.js';
import { validateOffload } from './offload.js';

export class InvalidArgumentTypeError extends TypeError {
  readonly code = 'ERR_INVALID_ARG_TYPE';
  constructor(argument: string, expected: string, actual: unknown) {
    super(`The "${argument}" argument must be ${expected}. Received ${describe(actual)}`);
    this.name = 'TypeError';
  }
}

export class InvalidArgumentValueError extends TypeError {
  readonly code = 'ERR_INVALID_ARG_VALUE';
  constructor(argument: string, reason: string, actual: unknown) {
    super(`The "${argument}" argument ${reason}. Received ${describe(actual)}`);
    this.name = 'TypeError';
  }
}

export class OutOfRangeError extends RangeError {
  readonly code = 'ERR_OUT_OF_RANGE';
  constructor(argument: string, range: string, actual: unknown) {
    super(`The value of "${argument}" is out of range. It must be ${range}. Received ${describe(actual)}`);
    this.name = 'RangeError';
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  if (value instanceof Uint8Array) return `${value.constructor.name}(${value.length})`;
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  return `type ${typeof value}${value && typeof value === 'object' ? ` (${value.constructor?.name ?? 'Object'})` : ''}`;
}

/** IFNAMSIZ is 16 including the NUL. */
export const MAX_NAME_BYTES = 15;
/** The smallest MTU IPv4 allows (RFC 791) and the TUN driver's maximum. */
export const MIN_MTU = 68;
export const MAX_MTU = 65535;
/** IPv6 needs at least this MTU (RFC 8200); the kernel drops IPv6 from a link below it. */
export const MIN_IPV6_MTU = 1280;

/**
 * A Linux interface name: 1–15 bytes, no '/', ':', whitespace or NUL, not '.'
 * or '..'. With allowPattern, a single '%d' lets the kernel pick the number.
 */
export function validateInterfaceName(name: unknown, argument = 'name', allowPattern = false): string {
  if (typeof name !== 'string') throw new InvalidArgumentTypeError(argument, 'a string', name);
  if (name.length === 0) throw new InvalidArgumentValueError(argument, 'must not be empty', name);
  // Every open checks its name; the common one (printable ASCII, short, none
  // of the refused characters) is seen in one pass without encoding or a regex.
  const plain = isPlainShortName(name);
  if (!plain) {
    const bytes = Buffer.byteLength(name);
    if (bytes > MAX_NAME_BYTES) {
      throw new InvalidArgumentValueError(argument, `must be at most ${MAX_NAME_BYTES} bytes (IFNAMSIZ - 1), it is ${bytes}`, name);
    }
  }
  if (name === '.' || name === '..') throw new InvalidArgumentValueError(argument, "must not be '.' or '..'", name);
  if (!plain && /[\s/:\0]/u.test(name)) {
    throw new InvalidArgumentValueError(argument, "must not contain '/', ':', whitespace or NUL", name);
  }
  let percents = 0;
  for (let i = name.indexOf('%'); i >= 0; i = name.indexOf('%', i + 1)) percents++;
  if (percents > 0) {
    if (!allowPattern) throw new InvalidArgumentValueError(argument, "must not contain '%' here", name);
    if (percents !== 1 || !name.includes('%d')) {
      throw new InvalidArgumentValueError(argument, "may hold '%' only as a single '%d' pattern", name);
    }
  }
  return name;
}

/** At most MAX_NAME_BYTES characters, each printable ASCII other than '/' and ':' (so no whitespace or NUL either). */
function isPlainShortName(name: string): boolean {
  if (name.length > MAX_NAME_BYTES) return false;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f || c === 0x2f || c === 0x3a) return false;
  }
  return true;
}

export function validateInteger(value: unknown, argument: string, min: number, max: number): number {
  if (typeof value !== 'number') throw new InvalidArgumentTypeError(argument, 'a number', value);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new OutOfRangeError(argument, `an integer >= ${min} and <= ${max}`, value);
  }
  return value;
}

export function validateMtu(mtu: unknown, argument = 'mtu'): number {
  return validateInteger(mtu, argument, MIN_MTU, MAX_MTU);
}

export function validateIfindex(ifindex: unknown, argument = 'ifindex'): number {
  return validateInteger(ifindex, argument, 1, 0x7fffffff);
}

/** A link named by interface name or ifindex, as getLink takes it. */
export function validateLinkKey(link: unknown, argument = 'link'): string | number {
  if (typeof link === 'string') return validateInterfaceName(link, argument);
  if (typeof link === 'number') return validateIfindex(link, argument);
  throw new InvalidArgumentTypeError(argument, 'an interface name or ifindex', link);
}

export function validateBoolean(value: unknown, argument: string): boolean {
  if (typeof value !== 'boolean') throw new InvalidArgumentTypeError(argument, 'a boolean', value);
  return value;
}

export interface ParsedCidr {
  family: Family;
  /** canonical textual address */
  address: string;
  prefixLength: number;
  /** 4 or 16 bytes, network order */
  bytes: Buffer;
  /** `${address}/${prefixLength}` */
  cidr: string;
}

/**
 * Dotted quad, exactly what net.isIPv4 accepts (four decimal parts 0–255, no
 * leading zeros), read in one pass: bring-up parses every plan address and
 * route, and the regex, split and array cost more than the kernel call.
 */
export function parseIPv4(text: string): Buffer | undefined {
  const out = Buffer.allocUnsafe(4);
  let part = 0;
  let value = 0;
  let digits = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 0x2e;
    if (c >= 0x30 && c <= 0x39) {
      if (digits === 1 && value === 0) return undefined; // leading zero
      value = value * 10 + (c - 0x30);
      if (++digits > 3 || value > 255) return undefined;
      continue;
    }
    if (c !== 0x2e || digits === 0 || part > 3) return undefined;
    out[part++] = value;
    value = 0;
    digits = 0;
  }
  return part === 4 ? out : undefined;
}

export function parseIPv6(text: string): Buffer | undefined {
  if (!isIPv6(text)) return undefined;
  // From the pool, not a fresh ArrayBuffer (which costs far more for 16 bytes);
  // zeroed by hand, as fill() is a call into C++.
  const out = Buffer.allocUnsafe(16);
  for (let i = 0; i < 16; i++) out[i] = 0;
  let head = text;
  let tail4: Buffer | undefined;
  const lastColon = text.lastIndexOf(':');
  if (text.slice(lastColon + 1).includes('.')) {
    tail4 = parseIPv4(text.slice(lastColon + 1));
    if (!tail4) return undefined;
    head = `${text.slice(0, lastColon + 1)}0:0`;
  }
  // Indexed loops and plain stores: this runs a few times per bring-up, mostly
  // unoptimized, where spreads, iterators and writeUInt16BE cost far more than
  // the work. (A zone index may hold more '::'; what follows a second is ignored.)
  const halves = head.split('::');
  const left = halves[0]!;
  const right = halves.length > 1 ? halves[1] : undefined;
  const leftGroups = left ? left.split(':') : [];
  const rightGroups = right ? right.split(':') : [];
  const zeros = right === undefined ? 0 : 8 - leftGroups.length - rightGroups.length;
  if (zeros < 0 || leftGroups.length + zeros + rightGroups.length !== 8) return undefined;
  putGroups(out, 0, leftGroups);
  putGroups(out, (leftGroups.length + zeros) * 2, rightGroups);
  if (tail4) {
    for (let i = 0; i < 4; i++) out[12 + i] = tail4[i]!;
  }
  return out;
}

/** Hex groups as big-endian 16-bit words from byte `at` (a group that is not hex reads 0). */
function putGroups(out: Buffer, at: number, groups: string[]): void {
  for (let i = 0; i < groups.length; i++) {
    const value = parseInt(groups[i]!, 16);
    out[at + i * 2] = value >> 8;
    out[at + i * 2 + 1] = value & 0xff;
  }
}

/**
 * Canonical text of 4 or 16 address bytes. IPv6 as RFC 5952 asks (and the
 * WHATWG URL serializer does): lower-case hex without leading zeros, the
 * first longest run of two or more zero groups written '::'.
 */
export function formatAddress(bytes: Uint8Array): string {
  if (bytes.length === 4) return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
  let bestStart = -1;
  let bestLength = 1;
  for (let g = 0; g < 8;) {
    if (bytes[g * 2] !== 0 || bytes[g * 2 + 1] !== 0) {
      g++;
      continue;
    }
    const start = g;
    while (g < 8 && bytes[g * 2] === 0 && bytes[g * 2 + 1] === 0) g++;
    if (g - start > bestLength) {
      bestStart = start;
      bestLength = g - start;
    }
  }
  let text = '';
  for (let g = 0; g < 8; g++) {
    if (g === bestStart) {
      text += g === 0 ? '::' : ':';
      g += bestLength - 1;
      continue;
    }
    text += ((bytes[g * 2]! << 8) | bytes[g * 2 + 1]!).toString(16);
    if (g < 7) text += ':';
  }
  return text;
}

/** Parse 'a.b.c.d/n' or 'x::y/n'. A bare address is refused: the prefix must be said. */
export function parseCidr(value: unknown, argument: string): ParsedCidr {
  if (typeof value !== 'string') throw new InvalidArgumentTypeError(argument, 'a CIDR string such as "10.0.0.1/24"', value);
  const slash = value.indexOf('/');
  if (slash < 0) throw new InvalidArgumentValueError(argument, 'must be in CIDR form address/prefix (e.g. "10.0.0.1/24")', value);
  const addressText = value.slice(0, slash);
  const prefixText = value.slice(slash + 1);
  const v4 = parseIPv4(addressText);
  const v6 = v4 ? undefined : parseIPv6(addressText);
  const bytes = v4 ?? v6;
  if (!bytes) throw new InvalidArgumentValueError(argument, 'must hold a valid IPv4 or IPv6 address', value);
  if (addressText.includes('%')) throw new InvalidArgumentValueError(argument, 'must not carry a zone index', value);
  const family: Family = v4 ? 4 : 6;
  const maxPrefix = family === 4 ? 32 : 128;
  const prefixLength = prefixOf(prefixText);
  if (prefixLength > maxPrefix) {
    throw new InvalidArgumentValueError(argument, `must have a prefix length from 0 to ${maxPrefix}`, value);
  }
  const address = formatAddress(bytes);
  return { family, address, prefixLength, bytes, cidr: `${address}/${prefixLength}` };
}

/** 1–3 decimal digits as their number; anything else Infinity, which every prefix range refuses. */
function prefixOf(text: string): number {
  if (text.length === 0 || text.length > 3) return Infinity;
  let value = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return Infinity;
    value = value * 10 + (c - 0x30);
  }
  return value;
}

/** Whether any bit past the prefix is set. */
function hasHostBits(parsed: ParsedCidr): boolean {
  const bytes = parsed.bytes;
  for (let bit = parsed.prefixLength; bit < bytes.length * 8; bit++) {
    if ((bytes[bit >> 3]! & (0x80 >> (bit & 7))) !== 0) return true;
  }
  return false;
}

/** Zero the host bits. */
export function networkOf(parsed: ParsedCidr): ParsedCidr {
  const bytes = Buffer.from(parsed.bytes);
  for (let bit = parsed.prefixLength; bit < bytes.length * 8; bit++) bytes[bit >> 3]! &= ~(0x80 >> (bit & 7));
  const address = formatAddress(bytes);
  return { ...parsed, bytes, address, cidr: `${address}/${parsed.prefixLength}` };
}

export interface NormalizedRoute {
  family: Family;
  destination: ParsedCidr;
  metric: number;
}

/** A route destination must be a network: host bits set is refused, as `ip route` does. */
export function normalizeRoute(route: unknown, argument = 'route'): NormalizedRoute {
  const spec: RouteSpec = typeof route === 'string' ? { destination: route } : (route as RouteSpec);
  if (spec === null || typeof spec !== 'object') {
    throw new InvalidArgumentTypeError(argument, 'a CIDR string or an object { destination, metric? }', route);
  }
  const destination = parseCidr(spec.destination, `${argument}.destination`);
  // A network already: it is its own network, no second copy or formatting needed.
  if (hasHostBits(destination)) {
    const network = networkOf(destination);
    throw new InvalidArgumentValueError(`${argument}.destination`, `has host bits set; did you mean "${network.cidr}"?`, spec.destination);
  }
  const metric = spec.metric === undefined ? 0 : validateInteger(spec.metric, `${argument}.metric`, 0, 0xffffffff);
  return { family: destination.family, destination, metric };
}

/**
 * A packet for a TUN without packet information: bytes, not empty, no larger
 * than the MTU, and an IP version nibble of 4 or 6 (the kernel answers any
 * other with EINVAL).
 */
export function validatePacket(packet: unknown, mtu: number, argument = 'packet'): Uint8Array {
  if (!(packet instanceof Uint8Array)) throw new InvalidArgumentTypeError(argument, 'a Buffer or Uint8Array', packet);
  if (packet.length === 0) throw new OutOfRangeError(`${argument}.length`, `>= 1 and <= ${mtu} (the MTU)`, 0);
  if (packet.length > mtu) throw new OutOfRangeError(`${argument}.length`, `>= 1 and <= ${mtu} (the MTU)`, packet.length);
  const version = packet[0]! >> 4;
  if (version !== 4 && version !== 6) {
    throw new InvalidArgumentValueError(argument, `must be an IPv4 or IPv6 packet (version nibble ${version})`, packet);
  }
  // The kernel forwards what the header claims: a length field that disagrees
  // with the buffer (a truncated or padded packet) would pass on garbage.
  const header = version === 4 ? IPV4_MIN_HEADER : IPV6_HEADER;
  if (packet.length < header) {
    throw new InvalidArgumentValueError(argument, `is ${packet.length} bytes, shorter than an IPv${version} header (${header})`, packet);
  }
  const claimed = version === 4 ? readUint16(packet, 2) : IPV6_HEADER + readUint16(packet, 4);
  if (claimed !== packet.length) {
    const field = version === 4 ? 'total length' : 'payload length';
    throw new InvalidArgumentValueError(argument, `is ${packet.length} bytes but its IPv${version} ${field} says ${claimed}`, packet);
  }
  if (version === 4 && (packet[0]! & 0x0f) * 4 < IPV4_MIN_HEADER) {
    throw new InvalidArgumentValueError(argument, `has an IPv4 header length of ${(packet[0]! & 0x0f) * 4} bytes (at least ${IPV4_MIN_HEADER})`, packet);
  }
  return packet;
}

const IPV4_MIN_HEADER = 20;
const IPV6_HEADER = 40;

function readUint16(bytes: Uint8Array, offset: number): number {
  return (bytes[offset]! << 8) | bytes[offset + 1]!;
}

/** Most queues a TUN accepts (MAX_TAP_QUEUES in the kernel). */
export const MAX_QUEUES = 256;

export interface NormalizedOpenOptions {
  name: string;
  queues: number;
  multiQueue: boolean;
  persist: boolean;
  owner: number | undefined;
  group: number | undefined;
  attachExisting: boolean;
  netns: NetnsTarget | undefined;
  readBack: boolean;
  offload: OffloadOption;
}

/** Where bare namespace names live (ip netns add NAME). */
export const NETNS_DIR = '/var/run/netns';

/** A namespace as a path to open, or an fd the caller keeps. */
export type NormalizedNetns = { path: string; fd?: undefined } | { fd: number; path?: undefined };

export function validateNetns(value: unknown, argument = 'netns'): NormalizedNetns {
  if (typeof value === 'number') return { fd: validateInteger(value, argument, 0, 0x7fffffff) };
  if (typeof value !== 'string') throw new InvalidArgumentTypeError(argument, 'a namespace name, path or fd', value);
  if (value === '' || value.includes('\0')) throw new InvalidArgumentValueError(argument, 'must be a non-empty name or path without NUL', value);
  if (value.includes('/')) return { path: value };
  if (value === '.' || value === '..') throw new InvalidArgumentValueError(argument, 'is not a namespace name', value);
  return { path: `${NETNS_DIR}/${value}` };
}

export function validateOpenOptions(options: unknown): NormalizedOpenOptions {
  if (options === undefined) options = {};
  if (options === null || typeof options !== 'object') throw new InvalidArgumentTypeError('options', 'an object', options);
  const o = options as Record<string, unknown>;
  const name = o.name === undefined ? 'tun%d' : validateInterfaceName(o.name, 'options.name', true);
  const queues = o.queues === undefined ? 1 : validateInteger(o.queues, 'options.queues', 1, MAX_QUEUES);
  const multiQueue = o.multiQueue === undefined ? queues > 1 : validateBoolean(o.multiQueue, 'options.multiQueue');
  if (queues > 1 && !multiQueue) {
    throw new InvalidArgumentValueError('options.multiQueue', 'cannot be false with more than one queue', o.multiQueue);
  }
  const persist = o.persist === undefined ? false : validateBoolean(o.persist, 'options.persist');
  const owner = o.owner === undefined ? undefined : validateInteger(o.owner, 'options.owner', 0, 0xfffffffe);
  const group = o.group === undefined ? undefined : validateInteger(o.group, 'options.group', 0, 0xfffffffe);
  const attachExisting = o.attachExisting === undefined ? false : validateBoolean(o.attachExisting, 'options.attachExisting');
  const netns = o.netns === undefined ? undefined : (validateNetns(o.netns, 'options.netns'), o.netns as NetnsTarget);
  const readBack = o.readBack === undefined ? false : validateBoolean(o.readBack, 'options.readBack');
  const offload = o.offload === undefined ? false : validateOffload(o.offload);
  return { name, queues, multiQueue, persist, owner, group, attachExisting, netns, readBack, offload };
}
