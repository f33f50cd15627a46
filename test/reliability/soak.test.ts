// Soak: SOAK_CYCLES (default 10,000) create → cleanup cycles on the native
// binding in the test namespace, every tenth with MTU, addresses and routes.
// At the end the namespace (links, addresses, routes in every table) and the
// process's fds must be exactly as before, and memory growth is printed and
// bounded. Measured here: ~23 ms a cycle on 2 cores, ~4 minutes for 10,000.

import { expect } from 'chai';
import v8 from 'node:v8';
import vm from 'node:vm';
import { describeKernel } from '../helpers/netns.js';
import { loadNativeBinding } from '../helpers/native-binding.js';
import { createAdapter } from '../../src/index.js';
import type { AdapterOptions, TunBinding } from '../../src/index.js';
import { kernelState, leaksBetween } from './kernel-state.js';
import { recordResult } from './results.js';

const CYCLES = Number(process.env.SOAK_CYCLES ?? 10_000);
const WARMUP = Math.min(500, Math.ceil(CYCLES / 10));
/** Heap may not grow by more than this over the run (after GC); a per-cycle leak of 1 KiB over 10,000 cycles would exceed it. */
const HEAP_GROWTH_LIMIT = 8 * 1024 * 1024;
const RSS_GROWTH_LIMIT = 64 * 1024 * 1024;

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

function settledMemory(): NodeJS.MemoryUsage {
  gc();
  gc();
  return process.memoryUsage();
}

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

describeKernel('reliability: soak', function () {
  this.timeout(Math.max(60_000, CYCLES * 200));
  let binding: TunBinding;

  before(async () => { binding = await loadNativeBinding(); });

  it(`${CYCLES} create/cleanup cycles leave the namespace and the fds exactly as they were; memory bounded`, async () => {
    const options = (i: number): AdapterOptions => (i % 10 === 0
      ? { binding, mtu: 1400, addresses: ['10.240.0.1/24', 'fd00:240::1/64'], routes: ['10.241.0.0/16', 'fd00:241::/64'] }
      : { binding });
    const cycle = async (i: number) => {
      const adapter = await createAdapter('soak0', options(i));
      if (adapter.state !== 'ready') throw new Error(`cycle ${i}: ${adapter.state}`);
      await adapter.cleanup();
      if ((adapter.state as string) !== 'stopped') throw new Error(`cycle ${i}: ${adapter.state} after cleanup`);
    };
    for (let i = 0; i < WARMUP; i++) await cycle(i);
    const before = kernelState();
    const memoryBefore = settledMemory();
    const started = Date.now();
    let done = 0;
    for (let i = WARMUP; i < CYCLES; i++) {
      await cycle(i);
      done++;
    }
    const elapsed = Date.now() - started;
    const after = kernelState();
    const memoryAfter = settledMemory();
    const leaks = leaksBetween(before, after);
    const heapGrowth = memoryAfter.heapUsed - memoryBefore.heapUsed;
    const rssGrowth = memoryAfter.rss - memoryBefore.rss;
    const perCycle = elapsed / Math.max(1, done);
    const notes = `${CYCLES} cycles (${WARMUP} warm-up), ${perCycle.toFixed(1)} ms/cycle; heap ${mib(memoryBefore.heapUsed)} → ${mib(memoryAfter.heapUsed)} (${heapGrowth >= 0 ? '+' : ''}${mib(heapGrowth)}), rss ${mib(memoryBefore.rss)} → ${mib(memoryAfter.rss)} (${rssGrowth >= 0 ? '+' : ''}${mib(rssGrowth)})`;
    console.log(`      soak: ${notes}`);
    recordResult('soak', { tried: CYCLES, held: leaks.length === 0 ? CYCLES : 0, leaks: leaks.length, notes });
    expect(leaks, 'left behind').to.deep.equal([]);
    expect(heapGrowth, `heap growth ${mib(heapGrowth)}`).to.be.lessThan(HEAP_GROWTH_LIMIT);
    expect(rssGrowth, `rss growth ${mib(rssGrowth)}`).to.be.lessThan(RSS_GROWTH_LIMIT);
  });
});
