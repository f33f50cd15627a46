// 1,000 full open → configure → close cycles must leave nothing behind: the
// process's fds, the binding's fds, the namespace's links, addresses and
// routes (all read by iproute2 and /proc, not by the binding) end exactly as
// they began.

import { expect } from 'chai';
import { describeKernel } from '../helpers/netns.js';
import { ipAddresses, ipJson, ipLink, ipLinks, ipRoutes } from '../helpers/iproute.js';
import { openFdCount } from '../helpers/fds.js';
import { loadNativeBinding } from '../helpers/native-binding.js';
import { eventually } from '../helpers/wait.js';
import type { TunBinding } from '../../src/binding/contract/types.js';

const CYCLES = Number(process.env.LEAK_CYCLES ?? 1000);

function namespaceState() {
  return {
    links: ipLinks().map((l) => `${l.ifindex}:${l.ifname}`).sort(),
    addresses: JSON.stringify(ipJson('addr', 'show')),
    routes4: JSON.stringify(ipJson('-4', 'route', 'show', 'table', 'all')),
    routes6: JSON.stringify(ipJson('-6', 'route', 'show', 'table', 'all')),
  };
}

/** Links by name only: ifindexes of other test files' devices never matter here. */
function linkNames(): string[] {
  return ipLinks().map((l) => l.ifname).sort();
}

/** Every so often, prove from outside that a cycle really configured the kernel (a no-op binding would leak nothing too). */
function expectConfigured(name: string, i: number): void {
  const link = ipLink(name);
  expect(link, `cycle ${i}: ${name} exists`).to.not.equal(undefined);
  expect(link!.mtu, `cycle ${i}: MTU`).to.equal(1280 + (i % 100));
  expect(link!.flags, `cycle ${i}: UP`).to.include('UP');
  const addresses = ipAddresses(name).map((a) => `${a.address}/${a.prefixLength}`);
  expect(addresses, `cycle ${i}: addresses`).to.include.members([`10.220.${i % 250}.1/24`, `fd00:220::${(i + 1).toString(16)}/64`]);
  const routes = ipRoutes(name).map((r) => `${r.destination} ${r.metric}`);
  expect(routes, `cycle ${i}: routes`).to.include.members([`10.221.${i % 250}.0/24 0`, `fd00:221:${(i + 1).toString(16)}::/64 10`]);
}

async function cycle(binding: TunBinding, i: number, check = false): Promise<void> {
  const device = await binding.open({ name: 'leak%d' });
  try {
    const { ifindex } = device;
    await binding.setMtu(ifindex, 1280 + (i % 100));
    await binding.addAddress(ifindex, `10.220.${i % 250}.1/24`);
    await binding.addAddress(ifindex, `fd00:220::${(i + 1).toString(16)}/64`);
    // Up before the routes: the kernel refuses a route through a down link (ENETDOWN).
    await binding.setUp(ifindex, true);
    await binding.addRoute(ifindex, { destination: `10.221.${i % 250}.0/24` });
    await binding.addRoute(ifindex, { destination: `fd00:221:${(i + 1).toString(16)}::/64`, metric: 10 });
    if (check) expectConfigured(device.name, i);
  } finally {
    device.close();
  }
}

describeKernel(`native binding: ${CYCLES} open/configure/close cycles leak nothing`, function () {
  this.timeout(300_000);
  let binding: TunBinding;

  before(async function () {
    binding = await loadNativeBinding();
    // One warm-up cycle, so whatever the binding opens once and keeps (its netlink
    // socket) is part of the baseline; a per-cycle leak still shows 1,000-fold.
    await cycle(binding, 0);
  });

  it('leaves fds, links, addresses and routes exactly as before', async function () {
    await eventually(() => !linkNames().some((n) => n.startsWith('leak')), 5000);
    const before = namespaceState();
    const processFds = openFdCount();
    const bindingFds = binding.openFdCount();

    const started = process.hrtime.bigint();
    let slowest = 0;
    let checkMs = 0;
    for (let i = 1; i <= CYCLES; i++) {
      const check = i % 100 === 1;
      const t0 = performance.now();
      await cycle(binding, i, check);
      const took = performance.now() - t0;
      // The iproute2 cross-checks are the test's cost, not the binding's: keep them out of the timing.
      if (check) checkMs += took;
      else slowest = Math.max(slowest, took);
    }
    const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
    const checked = Math.ceil(CYCLES / 100);
    const perCycle = (elapsedMs - checkMs) / (CYCLES - checked);
    console.log(`      ${CYCLES} cycles in ${(elapsedMs / 1000).toFixed(2)} s: ${perCycle.toFixed(2)} ms per cycle (slowest ${slowest.toFixed(1)} ms; ${checked} cross-checked with ip)`);

    // close() is synchronous, but let the kernel finish any unregistering it deferred.
    const gone = await eventually(() => !linkNames().some((n) => n.startsWith('leak')), 5000);
    expect(gone, `links left: ${linkNames().filter((n) => n.startsWith('leak')).join(', ')}`).to.equal(true);
    expect(namespaceState()).to.deep.equal(before);
    expect(openFdCount(), '/proc/self/fd entries').to.equal(processFds);
    expect(binding.openFdCount(), "the binding's own fd count").to.equal(bindingFds);
  });
});
