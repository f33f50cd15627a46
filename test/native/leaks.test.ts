// 1,000 full open → configure → close cycles must leave nothing behind: the
// process's fds, the binding's fds, the namespace's links, addresses and
// routes (all read by iproute2 and /proc, not by the binding) end exactly as
// they began.

import { expect } from 'chai';
import { describeKernel } from '../helpers/netns.js';
import { ipJson, ipLinks, openFdCount } from '../helpers/iproute.js';
import { loadNativeBinding } from '../helpers/native-binding.js';
import { eventually } from '../helpers/queue-wait.js';
import type { TunBinding } from '../../src/binding/types.js';

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

async function cycle(binding: TunBinding, i: number): Promise<void> {
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
    for (let i = 1; i <= CYCLES; i++) {
      const t0 = performance.now();
      await cycle(binding, i);
      slowest = Math.max(slowest, performance.now() - t0);
    }
    const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
    console.log(`      ${CYCLES} cycles in ${(elapsedMs / 1000).toFixed(2)} s: ${(elapsedMs / CYCLES).toFixed(2)} ms per cycle (slowest ${slowest.toFixed(1)} ms)`);

    // close() is synchronous, but let the kernel finish any unregistering it deferred.
    const gone = await eventually(() => !linkNames().some((n) => n.startsWith('leak')), 5000);
    expect(gone, `links left: ${linkNames().filter((n) => n.startsWith('leak')).join(', ')}`).to.equal(true);
    expect(namespaceState()).to.deep.equal(before);
    expect(openFdCount(), '/proc/self/fd entries').to.equal(processFds);
    expect(binding.openFdCount(), "the binding's own fd count").to.equal(bindingFds);
  });
});
