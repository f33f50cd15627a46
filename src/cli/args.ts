// Command-line parsing (node:util parseArgs), with usage errors that name
// the offending argument. Values are validated with the package's own
// validators, so the CLI refuses exactly what createAdapter would.

import { parseArgs } from 'node:util';
import { parseCidr, validateInterfaceName, validateMtu, validateNetns } from '../binding/contract/validate.js';
import { CliError, ExitCode } from './exit-codes.js';
import type { OffloadOption } from '../binding/contract/types.js';

export const COMMANDS = ['up', 'inspect', 'status', 'down', 'diagram', 'demo'] as const;
export type Command = (typeof COMMANDS)[number];

export interface ParsedArgs {
  command: Command | 'help' | 'version';
  name: string | undefined;
  addresses: string[];
  routes: string[];
  mtu: number | undefined;
  inspectPort: number | undefined;
  statelyUrl: string | undefined;
  simulated: boolean;
  json: boolean;
  /** --netns NAME|PATH: the namespace the interface lives in (up, inspect, status, down). */
  netns: string | undefined;
  /** --offload off|on|auto|raw: the adapter's offload option (undefined: its default, 'auto'). */
  offload: OffloadOption | undefined;
}

const OFFLOAD_WORDS: Readonly<Record<string, OffloadOption>> = { off: false, on: true, auto: 'auto', raw: 'raw' };

const OPTIONS = {
  address: { type: 'string', multiple: true },
  route: { type: 'string', multiple: true },
  mtu: { type: 'string' },
  inspect: { type: 'string' },
  port: { type: 'string' },
  stately: { type: 'string' },
  simulated: { type: 'boolean' },
  netns: { type: 'string' },
  offload: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'V' },
} as const;

/** Which options each command takes (json/help everywhere). */
const ALLOWED: Record<Command, ReadonlyArray<keyof typeof OPTIONS>> = {
  up: ['address', 'route', 'mtu', 'inspect', 'stately', 'simulated', 'netns', 'offload'],
  inspect: ['address', 'route', 'mtu', 'port', 'stately', 'simulated', 'netns', 'offload'],
  status: ['netns'],
  down: ['netns'],
  diagram: [],
  demo: ['inspect'],
};

const usage = (message: string) => new CliError(message, ExitCode.Usage, 'Run `tun-lifecycle --help` for usage.');

export function parseCommandLine(argv: readonly string[]): ParsedArgs {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    throw usage((error as Error).message.split('\n')[0]!.replace(/\. To specify a positional.*$/u, '.'));
  }
  const { values, positionals } = parsed;
  const base = {
    name: undefined, addresses: [], routes: [], mtu: undefined, inspectPort: undefined, statelyUrl: undefined,
    simulated: false, json: values.json === true, netns: undefined, offload: undefined,
  };
  if (values.help) return { ...base, command: 'help' };
  if (values.version) return { ...base, command: 'version' };
  const [command, ...rest] = positionals;
  if (command === undefined) throw usage('missing command (one of: ' + COMMANDS.join(', ') + ').');
  if (command === 'help') return { ...base, command: 'help' };
  if (!(COMMANDS as readonly string[]).includes(command)) throw usage(`unknown command '${command}' (one of: ${COMMANDS.join(', ')}).`);
  const cmd = command as Command;

  for (const key of Object.keys(values) as Array<keyof typeof OPTIONS>) {
    if (key === 'json' || key === 'help' || key === 'version') continue;
    if (!ALLOWED[cmd].includes(key)) throw usage(`option --${key} does not apply to '${cmd}'.`);
  }

  const needsName = cmd === 'up' || cmd === 'inspect' || cmd === 'down';
  const takesName = needsName || cmd === 'status';
  if (rest.length > (takesName ? 1 : 0)) throw usage(`unexpected argument '${rest[takesName ? 1 : 0]}' for '${cmd}'.`);
  const name = rest[0];
  if (needsName && name === undefined) throw usage(`'${cmd}' needs an interface NAME.`);
  if (name !== undefined) checked(() => validateInterfaceName(name, 'NAME', cmd === 'up' || cmd === 'inspect'));

  const addresses = values.address ?? [];
  addresses.forEach((a) => checked(() => parseCidr(a, '--address')));
  const routes = values.route ?? [];
  routes.forEach((r) => checked(() => parseCidr(r, '--route')));
  const mtu = values.mtu === undefined ? undefined : checked(() => validateMtu(integer(values.mtu!, '--mtu'), '--mtu'));
  let inspectPort = values.inspect === undefined ? undefined : port(values.inspect, '--inspect');
  if (cmd === 'inspect') inspectPort = values.port === undefined ? 7357 : port(values.port, '--port');
  const statelyUrl = values.stately;
  if (statelyUrl !== undefined && !/^wss?:\/\//u.test(statelyUrl)) throw usage(`--stately must be a ws:// or wss:// URL, got '${statelyUrl}'.`);

  const netns = values.netns === undefined ? undefined : checked(() => (validateNetns(values.netns, '--netns'), values.netns!));
  let offload: OffloadOption | undefined;
  if (values.offload !== undefined) {
    offload = OFFLOAD_WORDS[values.offload];
    if (offload === undefined) throw usage(`--offload must be one of ${Object.keys(OFFLOAD_WORDS).join(', ')}, got '${values.offload}'.`);
  }
  return {
    command: cmd, name, addresses, routes, mtu, inspectPort, statelyUrl, simulated: values.simulated === true, json: values.json === true, netns,
    offload,
  };
}

function checked<T>(fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    throw usage((error as Error).message);
  }
}

function integer(text: string, option: string): number {
  if (!/^\d+$/u.test(text)) throw usage(`${option} must be a whole number, got '${text}'.`);
  return Number(text);
}

function port(text: string, option: string): number {
  const value = integer(text, option);
  if (value > 65535) throw usage(`${option} must be a port number 0..65535, got ${value}.`);
  return value;
}
