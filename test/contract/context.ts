// The one context the areas of the contract suite share: the world of the test
// running now, what that test made (deleted after it, so a failing test leaves
// nothing behind), and the helpers every area uses.
//
// The areas import the `let` bindings below and read them inside their tests;
// ES module imports are live, so they see the values `useContractWorld` gives
// before each test, exactly as when the whole suite was one closure. Mocha runs
// one test at a time, so one current world is all there is.

import type { AddressInfo, LinkEvent, TunBinding, TunDevice } from '../../src/binding/contract/types.js';
import { eventually } from '../helpers/wait.js';
import type { ContractHarness, ContractWorld, ObservedAddress, ObservedRoute } from './observer.js';

export const IFF_UP = 0x1;
export const IFF_LOWER_UP = 0x10000;
/** Far above anything a test namespace allocates, yet a valid ifindex. */
export const ABSENT_IFINDEX = 0x7ffffff0;

/** The binding's name in the suite's title ('simulated', 'native'). */
export let label: string;
export let world: ContractWorld;
export let binding: TunBinding;
/** Devices the current test opened: closed after it. */
export let devices: TunDevice[];
/** Interface names the current test made or tried to make: deleted after it if still there. */
export let names: Set<string>;
export let monitors: Array<{ close(): void }>;

/** Gives each test of the enclosing describe a fresh world from `harness`, and tidies up after it. */
export function useContractWorld(suiteLabel: string, harness: ContractHarness): void {
  beforeEach(async () => {
    label = suiteLabel;
    world = await harness.setup();
    binding = world.binding;
    devices = [];
    names = new Set();
    monitors = [];
  });

  afterEach(async () => {
    for (const monitor of monitors) monitor.close();
    for (const device of devices) device.close();
    // persistent leftovers (or a failed test's): delete what this test made, never anything else
    for (const name of names) {
      const seen = world.observer.link(name);
      if (seen) await binding.deleteLink(seen.ifindex).catch(() => undefined);
    }
    await world.dispose?.();
  });
}

let nameCounter = 0;
/** Names unlikely to meet anyone else's in a shared namespace. */
export function freshName(): string {
  nameCounter += 1;
  return `ct${process.pid % 10000}x${nameCounter}`;
}

/** Opens a device the current test owns (closed and deleted after it); a fresh name unless given one. */
export async function open(options: Parameters<TunBinding['open']>[0] = {}): Promise<TunDevice> {
  const name = options.name ?? freshName();
  names.add(name);
  const device = await binding.open({ ...options, name });
  devices.push(device);
  names.add(device.name);
  return device;
}

/** The events a monitor of `ifindex` reports from now on (closed after the test). */
export function watch(ifindex: number): LinkEvent[] {
  const events: LinkEvent[] = [];
  monitors.push(binding.monitor(ifindex, (event) => events.push(event)));
  return events;
}

export const seen = (events: LinkEvent[], match: (e: LinkEvent) => boolean) => eventually(() => events.some(match), 3000, 5);

const key = (x: ObservedAddress | ObservedRoute | AddressInfo): string =>
  'address' in x ? `${x.family} ${x.address}/${x.prefixLength}` : `${x.family} ${x.destination} ${x.metric}`;
/** Addresses and routes as sorted comparable strings, whoever reported them. */
export const keys = (xs: Array<ObservedAddress | ObservedRoute | AddressInfo>): string[] => xs.map(key).sort();
export const withoutLinkLocal = (xs: AddressInfo[]): AddressInfo[] => xs.filter((a) => !(a.family === 6 && /^fe[89ab]/iu.test(a.address)));
