// The statechart's price, inside a private network namespace:
//  1. createAdapter → ready and cleanup → stopped, against the very binding
//     calls the adapter makes, made directly (same binding instance, same order);
//  2. N adapters alive at once (1, 10, 100, 1000): time per create against the
//     C program's bring-up at the same N, memory per adapter, and cleaning all
//     N up concurrently against one batched kernel deletion (C, IFLA_GROUP);
//  3. 1000 links deleted one by one against one deleteLinkGroup request.
// Prints markdown tables; not a timed test.
import { execFileSync } from 'node:child_process';
import type { LinkMonitor, TunBinding, TunDevice } from '../src/binding/contract/types.js';
import { createAdapter, type TunAdapter } from '../src/adapter/index.js';
import { createThroughFloor } from './lib/xstate-floor.js';
import { withDeleteClock, type DeleteClock } from './lib/delete-clock.js';
import { SimulatedBinding } from '../src/binding/simulated/binding.js';
import { loadBinding } from './lib/binding.js';
import { buildC } from './lib/cbuild.js';
import { PLAN_MTU, planAddress, planRoute } from './lib/iface-plan.js';
import { machineDescription } from './lib/machine.js';
import { enterPrivateNetns, isMain } from './lib/netns.js';
import { measureStall } from './lib/loop-stall.js';
import { hasConfigure, opensWithPlan, type OpenWithPlan } from './lib/open-plan.js';
import { startHelper } from './lib/proc.js';
import { fmt, fmtUs, markdownTable, median, ratio } from './lib/stats.js';

// ADAPTER_SHORT=1: a short run while developing (2 rounds, N up to 10, fewer
// hot cycles); the figures to publish come from the full run.
const SHORT = process.env.ADAPTER_SHORT === '1';
const ROUNDS = SHORT ? 2 : 5;
const PER_ROUND = 10;
const SCALES: { n: number; reps: number }[] = SHORT ? [{ n: 1, reps: 5 }, { n: 10, reps: 1 }] : [
  { n: 1, reps: 10 },
  { n: 10, reps: 3 },
  { n: 100, reps: 1 },
  { n: 1000, reps: 3 },
];
const ONE_BY_ONE = SHORT ? 100 : 1000;
const HOT_WARMUP = SHORT ? 100 : 500;
const HOT_CYCLES = SHORT ? 400 : 2000;
const GROUP = 4244;
// What src/lifecycle/ownership.ts tags its interfaces with (alias); the direct
// links get a group of their own (the adapter's is per process), which costs
// the same attribute in the same request.
const TAG = `tun-lifecycle:${process.pid}`;
const DIRECT_GROUP = 4245;

/**
 * How the adapter (src/lifecycle/create.ts) applies its plan with this binding,
 * decided once per run: in open() itself, by one configure(), or call by call.
 */
type CreatePath = 'open+plan' | 'configure' | 'calls';
let createPath: CreatePath = 'calls';
const CREATE_PATH_TEXT: Record<CreatePath, string> = {
  'open+plan': 'open({ configure: plan }) with alias tag, group, MTU, address, up, route',
  configure: 'open, one configure() with alias tag, group, MTU, address, up, route',
  calls: 'open, alias tag, group, MTU, address, up, route one call each',
};

const nowUs = () => performance.now() * 1000;

function adapterOptions(binding: TunBinding, i: number) {
  return { binding, mtu: PLAN_MTU, addresses: [planAddress(i)], routes: [planRoute(i)] };
}

interface Direct {
  dev: TunDevice;
  monitor: LinkMonitor | null;
}

async function expectGone(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (err) {
    if ((err as { code?: string }).code === 'ENODEV') return;
    throw err;
  }
  throw new Error('expected ENODEV');
}

/** src/lifecycle/create.ts + verify.ts + the ready-state monitor, as bare binding calls. */
async function directCreate(binding: TunBinding, name: string, i: number, withMonitor = true): Promise<Direct> {
  // The adapter opens first and looks for a tagged leftover only on EEXIST, so no look-up here.
  const route = { destination: planRoute(i), metric: 0 };
  // The adapter's plan: tag, group, MTU, address, up, route.
  const plan = { alias: TAG, group: DIRECT_GROUP, mtu: PLAN_MTU, addresses: [planAddress(i)], up: true, routes: [route] };
  const openOptions: OpenWithPlan = { name, queues: 1, multiQueue: false, persist: false };
  // With the plan, the read-back rides in the same round trip, as in create.ts.
  if (createPath === 'open+plan') Object.assign(openOptions, { configure: plan, readBack: true });
  const dev = await binding.open(openOptions);
  const ifindex = dev.ifindex;
  if (createPath === 'configure') {
    await binding.configure!(ifindex, plan);
  } else if (createPath === 'calls') {
    await binding.setAlias(ifindex, TAG);
    await binding.setGroup(ifindex, DIRECT_GROUP);
    await binding.setMtu(ifindex, PLAN_MTU);
    await binding.addAddress(ifindex, planAddress(i));
    await binding.setUp(ifindex, true);
    await binding.addRoute(ifindex, route);
  }
  if (dev.readBack === undefined) {
    await binding.getLink(ifindex); // verification: read the kernel back
    await binding.listAddresses(ifindex);
    await binding.listRoutes(ifindex);
  }
  if (!withMonitor) return { dev, monitor: null };
  return { dev, monitor: startMonitor(binding, ifindex) };
}

/**
 * src/lifecycle/monitor.ts's kernel side: the link monitor and its catch-up
 * look (link, then our addresses), not awaited by ready: attached in the next
 * turn of the event loop, as the adapter attaches it after ready.
 */
function startMonitor(binding: TunBinding, ifindex: number): LinkMonitor {
  let monitor: LinkMonitor | undefined;
  let closed = false;
  const attaching = setImmediate(() => {
    monitor = binding.monitor(ifindex, () => {});
    void binding.getLink(ifindex).then(() => binding.listAddresses(ifindex)).catch(() => {});
  });
  return {
    close() {
      closed = true;
      clearImmediate(attaching);
      monitor?.close();
    },
    get closed() { return closed; },
  };
}

/** The same calls inside the least machine XState allows (bench/lib/xstate-floor.ts). */
async function floorCreate(binding: TunBinding, name: string, i: number): Promise<{ direct: Direct; stop: () => void }> {
  const run = await createThroughFloor<Direct>({
    create: () => directCreate(binding, name, i, false),
    watch: (made) => {
      const monitor = startMonitor(binding, made.dev.ifindex);
      return () => monitor.close();
    },
  });
  return { direct: run.made, stop: run.stop };
}

/** src/lifecycle/cleanup.ts + findLeftovers, as bare binding calls. */
async function directCleanup(binding: TunBinding, d: Direct, i: number): Promise<void> {
  const ifindex = d.dev.ifindex;
  d.monitor?.close();
  await binding.setUp(ifindex, false);
  await binding.deleteAddress(ifindex, planAddress(i));
  // Setting the link down already flushed its IPv4 routes; the adapter tolerates ESRCH too.
  await binding.deleteRoute(ifindex, { destination: planRoute(i), metric: 0 }).catch((err: { code?: string }) => {
    if (err.code !== 'ESRCH' && err.code !== 'ENOENT') throw err;
  });
  // release.ts: a non-persistent link is deleted over rtnetlink, then its fd closed (no unregister inside close(2)).
  await binding.deleteLink(ifindex);
  d.dev.close();
  await expectGone(binding.getLink(ifindex));
}

type Path = 'direct' | 'floor' | 'adapter';
type Timer = <T>(path: Path, phase: 'create' | 'cleanup', work: () => Promise<T>) => Promise<T>;

/**
 * One cycle of the three paths on one binding, alternating: each creates and
 * cleans up the same interface; `time` wraps each phase it measures (the
 * floor's cleanup is the direct one, after its actor stops).
 */
async function cycle(binding: TunBinding, name: string, time: Timer): Promise<void> {
  const d = await time('direct', 'create', () => directCreate(binding, name, 0));
  await time('direct', 'cleanup', () => directCleanup(binding, d, 0));
  const run = await time('floor', 'create', () => floorCreate(binding, name, 0));
  run.stop(); // closes its monitor
  await directCleanup(binding, run.direct, 0);
  const a = await time('adapter', 'create', () => createAdapter(name, adapterOptions(binding, 0)));
  await time('adapter', 'cleanup', () => a.cleanup());
}

/**
 * The same three creates with the kernel taken out (the simulated binding,
 * whose calls cost microseconds) and the code hot: what each path costs in
 * JavaScript alone, mean µs per create → ready.
 */
async function hotJsCost(): Promise<Record<Path, number>> {
  const sim = new SimulatedBinding();
  const sums: Record<Path, number> = { direct: 0, floor: 0, adapter: 0 };
  for (let i = 0; i < HOT_WARMUP + HOT_CYCLES; i++) {
    await cycle(sim, 'hot0', async (path, phase, work) => {
      const t0 = nowUs();
      const result = await work();
      if (phase === 'create' && i >= HOT_WARMUP) sums[path] += nowUs() - t0;
      return result;
    });
  }
  return { direct: sums.direct / HOT_CYCLES, floor: sums.floor / HOT_CYCLES, adapter: sums.adapter / HOT_CYCLES };
}

interface Phases {
  createUs: number[];
  cleanupUs: number[];
  /** Longest event-loop block seen during each create / cleanup (ms). */
  createStallMs: number[];
  cleanupStallMs: number[];
  /** Each cleanup's wait on the kernel's link deletion (µs). */
  unregisterUs: number[];
}

async function latencyRound(clock: DeleteClock, into: Record<Path, Phases>): Promise<void> {
  const { binding } = clock;
  const timed = async <T>(work: () => Promise<T>, us: number[], stalls: number[]): Promise<T> => {
    const { result, stallMs, workUs } = await measureStall(work);
    us.push(workUs);
    stalls.push(stallMs);
    return result;
  };
  for (let r = 0; r < PER_ROUND; r++) {
    await cycle(binding, 'ad0', async (path, phase, work) => {
      const p = into[path];
      if (phase === 'create') return timed(work, p.createUs, p.createStallMs);
      clock.take();
      const result = await timed(work, p.cleanupUs, p.cleanupStallMs);
      p.unregisterUs.push(clock.take());
      return result;
    });
  }
}

function gcNow(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) {
    gc();
    gc();
  }
}
const heapBytes = () => {
  const m = process.memoryUsage();
  return { heap: m.heapUsed + m.external, rss: m.rss };
};

interface ScaleSample {
  createUs: number[];
  cleanupAllUs: number;
  heapPerAdapter: number;
  rssPerAdapter: number;
}

async function adapterScale(binding: TunBinding, n: number): Promise<ScaleSample> {
  gcNow();
  const before = heapBytes();
  const adapters: TunAdapter[] = [];
  const createUs: number[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const t0 = nowUs();
      adapters.push(await createAdapter(`ad${i}`, adapterOptions(binding, i)));
      createUs.push(nowUs() - t0);
    }
    gcNow();
    const after = heapBytes();
    const t0 = nowUs();
    await Promise.all(adapters.splice(0).map((a) => a.cleanup()));
    const cleanupAllUs = nowUs() - t0;
    return { createUs, cleanupAllUs, heapPerAdapter: (after.heap - before.heap) / n, rssPerAdapter: (after.rss - before.rss) / n };
  } finally {
    await Promise.allSettled(adapters.map((a) => a.cleanup()));
  }
}

/**
 * The adapter's binding calls made directly for N interfaces kept alive, with
 * or without each one's link monitor: separates what the statechart costs at
 * scale from what N live monitors cost. Removed afterwards by one group request.
 */
async function directScale(binding: TunBinding, n: number, withMonitor: boolean): Promise<number[]> {
  const made: Direct[] = [];
  const createUs: number[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const t0 = nowUs();
      made.push(await directCreate(binding, `dr${i}`, i, withMonitor));
      createUs.push(nowUs() - t0);
    }
  } finally {
    // Already tagged with DIRECT_GROUP at creation: one request removes them all.
    for (const d of made) d.monitor?.close();
    if (made.length) await binding.deleteLinkGroup(DIRECT_GROUP);
    for (const d of made) d.dev.close();
  }
  return createUs;
}

interface CScale {
  bringupUs: number[];
  groupDeleteUs?: number;
}

async function bindingBringUp(binding: TunBinding, n: number): Promise<TunDevice[]> {
  const devs: TunDevice[] = [];
  for (let i = 0; i < n; i++) {
    const dev = await binding.open({ name: `ob${i}` });
    await binding.setMtu(dev.ifindex, PLAN_MTU);
    await binding.addAddress(dev.ifindex, planAddress(i));
    await binding.setUp(dev.ifindex, true);
    await binding.addRoute(dev.ifindex, { destination: planRoute(i) });
    devs.push(dev);
  }
  return devs;
}

function linksLeft(): string[] {
  const links = JSON.parse(execFileSync('ip', ['-j', 'link', 'show'], { encoding: 'utf8' })) as { ifname: string }[];
  return links.map((l) => l.ifname).filter((name) => name !== 'lo');
}
function assertNoLinksLeft(after: string): void {
  const left = linksLeft();
  if (left.length) throw new Error(`${after} left ${left.length} interfaces behind (${left.slice(0, 5).join(', ')}…)`);
}

export async function runAdapterBench(): Promise<string> {
  const prog = buildC('netlink_bringup');
  const load = await loadBinding();
  if (!load.binding) {
    return ['### Adapter (statechart overhead)', '', `No table: ${load.reason}.`].join('\n');
  }
  const binding = load.binding;
  createPath = (await opensWithPlan(binding)) ? 'open+plan' : hasConfigure(binding) ? 'configure' : 'calls';

  // 1. Latency, direct and adapter alternating.
  const phases = (): Phases => ({ createUs: [], cleanupUs: [], createStallMs: [], cleanupStallMs: [], unregisterUs: [] });
  const clock = withDeleteClock(binding);
  const lat: Record<Path, Phases> = { adapter: phases(), direct: phases(), floor: phases() };
  for (let round = 0; round < ROUNDS; round++) {
    process.stderr.write(`adapter: latency round ${round + 1}/${ROUNDS}\n`);
    await latencyRound(clock, lat);
  }
  assertNoLinksLeft('the latency rounds');
  const dC = median(lat.direct.createUs);
  const dS = median(lat.direct.cleanupUs);
  const aC = median(lat.adapter.createUs);
  const aS = median(lat.adapter.cleanupUs);
  const fC = median(lat.floor.createUs);
  // Each cleanup less its own wait on the kernel's unregister (see lib/delete-clock.ts).
  const withoutUnregister = (p: Phases) => median(p.cleanupUs.map((us, i) => us - p.unregisterUs[i]!));
  const dSx = withoutUnregister(lat.direct);
  const aSx = withoutUnregister(lat.adapter);
  const overhead = (a: number, d: number) => `${fmt(((a - d) / d) * 100, 1)}%`;
  const stall = (p: Phases, k: 'createStallMs' | 'cleanupStallMs') => `${fmt(median(p[k]), 1)} ms (max ${fmt(Math.max(...p[k]), 1)})`;
  const latencyRows = [
    ['binding calls made directly', fmtUs(dC), fmtUs(dS), stall(lat.direct, 'createStallMs'), stall(lat.direct, 'cleanupStallMs')],
    ['the same calls in the least XState machine', fmtUs(fC), '', stall(lat.floor, 'createStallMs'), ''],
    ['createAdapter / cleanup()', fmtUs(aC), fmtUs(aS), stall(lat.adapter, 'createStallMs'), stall(lat.adapter, 'cleanupStallMs')],
    ['XState floor (least machine − direct)', `${fmtUs(fC - dC)} (${overhead(fC, dC)})`, '', '', ''],
    ['statechart overhead (adapter − direct)', `${fmtUs(aC - dC)} (${overhead(aC, dC)})`, `${fmtUs(aS - dS)} (${overhead(aS, dS)})`, '', ''],
    ['adapter beyond the floor', fmtUs(aC - fC), '', '', ''],
    ['cleanup less its unregister wait: direct / adapter', '', `${fmtUs(dSx)} / ${fmtUs(aSx)}`, '', ''],
    ['statechart overhead, unregister waits excluded', '', `${fmtUs(aSx - dSx)} (${overhead(dS + aSx - dSx, dS)})`, '', ''],
  ];
  const hot = await hotJsCost();
  const overheadMet = aC - dC <= 0.1 * dC && aS - dS <= 0.1 * dS;

  // 2. Scale.
  const scaleRows: string[][] = [];
  const growth: { n: number; adapter: number; c: number }[] = [];
  let cleanup1000 = NaN;
  let cGroup1000 = NaN;
  for (const { n, reps } of SCALES) {
    const samples: ScaleSample[] = [];
    const cSamples: CScale[] = [];
    const directWith: number[][] = [];
    const directWithout: number[][] = [];
    for (let r = 0; r < reps; r++) {
      process.stderr.write(`adapter: scale N=${n} (${r + 1}/${reps})\n`);
      const c = await startHelper<CScale>(prog, ['scale', 'cs', String(n), 'group'], { timeoutMs: 300_000 }).result;
      cSamples.push(c);
      assertNoLinksLeft(`C scale ${n}`);
      samples.push(await adapterScale(binding, n));
      assertNoLinksLeft(`${n} adapters`);
      directWith.push(await directScale(binding, n, true));
      directWithout.push(await directScale(binding, n, false));
      assertNoLinksLeft(`${n} direct bring-ups`);
    }
    // Medians: one slow create (a GC pause, a retry's backoff) must not stand for all N.
    const aAll = samples.flatMap((s) => s.createUs);
    const aCreate = median(aAll);
    const cCreate = median(cSamples.flatMap((s) => s.bringupUs));
    // For growth, leave out each run's first create: it carries the process's cold start.
    const warm = (xs: number[][]) => median(xs.flatMap((x) => (x.length > 1 ? x.slice(1) : [])));
    if (n > 1) growth.push({ n, adapter: warm(samples.map((s) => s.createUs)), c: warm(cSamples.map((s) => s.bringupUs)) });
    const cleanupAll = median(samples.map((s) => s.cleanupAllUs));
    const cGroup = median(cSamples.map((s) => s.groupDeleteUs ?? NaN));
    if (n === 1000) {
      cleanup1000 = cleanupAll;
      cGroup1000 = cGroup;
    }
    scaleRows.push([
      String(n), `${fmtUs(aCreate)} (max ${fmtUs(Math.max(...aAll))})`, fmtUs(median(directWith.flat())), fmtUs(median(directWithout.flat())), fmtUs(cCreate), ratio(aCreate, cCreate),
      fmtUs(cleanupAll), fmtUs(cleanupAll / n), fmtUs(cGroup), ratio(cleanupAll, cGroup),
      `${fmt(median(samples.map((s) => s.heapPerAdapter)) / 1024, 1)} KiB`, `${fmt(median(samples.map((s) => s.rssPerAdapter)) / 1024, 1)} KiB`,
    ]);
  }
  const first = growth[0]!;
  const last = growth[growth.length - 1]!;
  const aGrowth = last.adapter / first.adapter;
  const cGrowth = last.c / first.c;

  // 3. One by one versus one group request, through the binding.
  process.stderr.write(`adapter: ${ONE_BY_ONE} links deleted one by one\n`);
  let devs = await bindingBringUp(binding, ONE_BY_ONE);
  let t0 = nowUs();
  for (const d of devs) {
    await binding.deleteLink(d.ifindex);
    d.close();
  }
  const oneByOneUs = nowUs() - t0;
  assertNoLinksLeft('one-by-one deletion');
  process.stderr.write(`adapter: ${ONE_BY_ONE} links deleted by one group request\n`);
  devs = await bindingBringUp(binding, ONE_BY_ONE);
  for (const d of devs) await binding.setGroup(d.ifindex, GROUP);
  t0 = nowUs();
  await binding.deleteLinkGroup(GROUP);
  const groupUs = nowUs() - t0;
  for (const d of devs) d.close();
  assertNoLinksLeft('group deletion');

  const gcNote = (globalThis as { gc?: unknown }).gc ? 'after a forced GC' : 'without a forced GC (run node with --expose-gc for steadier figures)';
  const lines = [
    '### Adapter (statechart overhead and scale)',
    '',
    `Machine: ${machineDescription()}.`,
    '',
    `**Latency**: one interface (MTU, one IPv4 address, one route, verification on), created and cleaned up ${ROUNDS * PER_ROUND} times each way, alternating; medians. "Directly" = the same binding calls the adapter makes (reclaim look-up, ${CREATE_PATH_TEXT[createPath]}, read-back, monitor; down, address and route removal, close, leftover check), in the same order on the same binding.`,
    '',
    markdownTable(['', 'create → ready', 'cleanup → stopped', 'loop blocked, create', 'loop blocked, cleanup'], latencyRows),
    '',
    '"Loop blocked" is the longest event-loop stall during one create or cleanup (median over the cycles, and the worst), from a 1 ms-resolution `monitorEventLoopDelay` (the tick subtracted; on a busy shared machine even an idle loop shows 0–3 ms). Both paths delete the link over rtnetlink on a threadpool worker before closing its fd, so the kernel\'s ~15–20 ms unregister never runs inside a `close()` on the loop.',
    '',
    'The kernel\'s unregister wait drifts by a few milliseconds between runs, and even between the two interleaved paths of one run, more than a cleanup\'s whole JavaScript cost; "less its unregister wait" subtracts from each cleanup the time its own link deletion took (bench/lib/delete-clock.ts), and the overhead row compares what remains.',
    '',
    `"The least XState machine" makes the same calls inside a three-state machine (uninitialized → initializing invoking one promise actor → ready invoking one callback actor for the monitor; bench/lib/xstate-floor.ts): no statechart could cost less, so its row is XState v5's own floor on this machine.`,
    '',
    `**The same creates, JavaScript only**: the simulated binding in place of the kernel (its calls take microseconds), ${HOT_WARMUP} warm-up cycles, then the mean of ${HOT_CYCLES}. Hot, XState's share is small; in the kernel table every create follows a ~17 ms teardown, after which the same code runs several times slower (caches, branch predictors), and the statechart has far more code to bring back than the bare calls.`,
    '',
    markdownTable(['', 'create → ready (hot)', 'beyond direct'], [
      ['direct calls', fmtUs(hot.direct), ''],
      ['least XState machine', fmtUs(hot.floor), fmtUs(hot.floor - hot.direct)],
      ['createAdapter', fmtUs(hot.adapter), fmtUs(hot.adapter - hot.direct)],
    ]),
    '',
    `**Target** overhead ≤ 10% of the binding's own time: ${overheadMet ? 'met' : 'MISSED'} (create ${overhead(aC, dC)}, cleanup ${overhead(aS, dS)}, or ${overhead(dS + aSx - dSx, dS)} with each path's unregister wait taken out; XState's floor alone is ${overhead(fC, dC)} of the create).`,
    '',
    `**Scale**: N adapters created one after another and kept alive, then all cleaned up at once (\`Promise.all(cleanup())\`); the C program brings up the same N interfaces and deletes them with one RTM_DELLINK + IFLA_GROUP. "Same calls direct" makes the adapter's binding calls itself for N interfaces kept alive, each with its link monitor; "no monitor" leaves the monitors out, which shows what N live link monitors add to each create. Per-create figures are medians over every create of every run; cleanup and group-delete times are medians over the runs (${SCALES.filter((s) => s.reps > 1).map((s) => `N=${s.n} runs ${s.reps} times`).join(', ')}). Memory per adapter ${gcNote}: heap = V8 heap + external.`,
    '',
    markdownTable(['N', 'adapter create (median)', 'same calls direct', 'direct, no monitor', 'C bring-up', 'adapter vs C', `cleanup of all N`, 'per adapter', 'C group delete of N', 'cleanup / group delete', 'heap per adapter', 'RSS per adapter'], scaleRows),
    '',
    `Create-cost growth from N=${first.n} to N=${last.n} (medians without each run's first, cold, create): adapter ${fmt(aGrowth)}×, C program ${fmt(cGrowth)}× — target (no faster than C): ${aGrowth <= cGrowth * 1.1 ? 'met' : 'MISSED'} (10% allowance for noise).`,
    '',
    `**Target** 1000 concurrent cleanups within 2× of one batched kernel deletion of 1000 links: ${cleanup1000 <= 2 * cGroup1000 ? 'met' : 'MISSED'} (${ratio(cleanup1000, cGroup1000)}).`,
    '',
    `**Teardown of ${ONE_BY_ONE} links** through the binding: one by one (deleteLink + close each) against one deleteLinkGroup request (after tagging each with setGroup, untimed).`,
    '',
    markdownTable(['how', 'total', 'per link'], [
      ['one by one', fmtUs(oneByOneUs), fmtUs(oneByOneUs / ONE_BY_ONE)],
      ['one deleteLinkGroup', fmtUs(groupUs), fmtUs(groupUs / ONE_BY_ONE)],
      ['ratio', ratio(oneByOneUs, groupUs), ''],
    ]),
  ];
  if (binding.kind !== 'native') lines.push('', `**Binding rows measured the ${binding.kind} binding (harness check only).**`);
  return lines.join('\n');
}

if (isMain(import.meta.url)) {
  const entry = enterPrivateNetns('adapter bench', ['--expose-gc']);
  if (!entry.inside) process.exit(entry.exitCode);
  console.log(await runAdapterBench());
  process.exit(0);
}
