// Interface bring-up (open + MTU + address + up + route) and teardown (delete
// + close), inside a private network namespace: through the binding, as `ip`
// commands, and as a plain C rtnetlink program (bench/c/netlink_bringup.c),
// measured in the same run. Then how per-interface cost grows with N
// interfaces alive at once. Prints markdown tables of medians; not a timed test.
//
// Order note: IPv4 refuses a route through a device that is down (ENETDOWN),
// so every implementation sets the link up before adding the route.
import { execFileSync } from 'node:child_process';
import { fstat } from 'node:fs';
import type { TunBinding, TunDevice } from '../src/binding/contract/types.js';
import { loadBinding } from './lib/binding.js';
import { buildC } from './lib/cbuild.js';
import { PLAN_MTU, planAddress, planRoute } from './lib/iface-plan.js';
import { machineDescription } from './lib/machine.js';
import { enterPrivateNetns, isMain } from './lib/netns.js';
import { measureStall } from './lib/loop-stall.js';
import { hasConfigure, opensWithPlan, type OpenWithPlan } from './lib/open-plan.js';
import { startHelper } from './lib/proc.js';
import { fmt, fmtUs, markdownTable, mean, median, ratio } from './lib/stats.js';

const ROUNDS = 3;
const PER_ROUND = 10;
// Small N are repeated: one bring-up alone is too noisy on a shared machine.
const SCALES: { n: number; reps: number }[] = [
  { n: 1, reps: 10 },
  { n: 10, reps: 3 },
  { n: 100, reps: 1 },
  { n: 1000, reps: 1 },
];
const GROUP = 4243;

interface Phases {
  bringupUs: number[];
  teardownUs: number[];
  /** Per bring-up, flattened: open, MTU, address, up, route. */
  stepUs?: number[];
  /** Binding only: longest event-loop stall during each bring-up / teardown (ms). */
  bringupStallMs?: number[];
  teardownStallMs?: number[];
}
const STEP_NAMES = ['open (TUNSETIFF)', 'MTU', 'address', 'up', 'route'];
interface CScale {
  bringupUs: number[];
  teardownUs?: number[];
  groupDeleteUs?: number;
}

const nowUs = () => performance.now() * 1000;

async function bindingBringUp(binding: TunBinding, name: string, i: number, steps?: number[]): Promise<TunDevice> {
  const t = [nowUs()];
  const dev = await binding.open({ name });
  t.push(nowUs());
  await binding.setMtu(dev.ifindex, PLAN_MTU);
  t.push(nowUs());
  await binding.addAddress(dev.ifindex, planAddress(i));
  t.push(nowUs());
  await binding.setUp(dev.ifindex, true);
  t.push(nowUs());
  await binding.addRoute(dev.ifindex, { destination: planRoute(i) });
  t.push(nowUs());
  if (steps) for (let k = 1; k < t.length; k++) steps.push(t[k]! - t[k - 1]!);
  return dev;
}

/** The binding's one-round-trip path: open, then configure() with the same plan. */
async function bindingBringUpConfigured(binding: TunBinding, name: string, i: number): Promise<TunDevice> {
  const dev = await binding.open({ name });
  await binding.configure!(dev.ifindex, {
    mtu: PLAN_MTU,
    addresses: [planAddress(i)],
    up: true,
    routes: [{ destination: planRoute(i) }],
  });
  return dev;
}

/** One round trip for everything: open({ configure: plan }). */
async function bindingBringUpInOpen(binding: TunBinding, name: string, i: number): Promise<TunDevice> {
  const options: OpenWithPlan = {
    name,
    configure: { mtu: PLAN_MTU, addresses: [planAddress(i)], up: true, routes: [{ destination: planRoute(i) }] },
  };
  return binding.open(options);
}

async function bindingTearDown(binding: TunBinding, dev: TunDevice): Promise<void> {
  await binding.deleteLink(dev.ifindex);
  dev.close();
}

async function configuredCycles(binding: TunBinding, reps: number, inOpen = false): Promise<Phases> {
  const out: Phases = { bringupUs: [], teardownUs: [] };
  for (let r = 0; r < reps; r++) {
    const t0 = nowUs();
    const dev = inOpen ? await bindingBringUpInOpen(binding, 'lc0', 0) : await bindingBringUpConfigured(binding, 'lc0', 0);
    const t1 = nowUs();
    await bindingTearDown(binding, dev);
    out.bringupUs.push(t1 - t0);
    out.teardownUs.push(nowUs() - t1);
  }
  return out;
}

async function bindingCycles(binding: TunBinding, reps: number): Promise<Phases> {
  const out: Phases = { bringupUs: [], teardownUs: [], stepUs: [], bringupStallMs: [], teardownStallMs: [] };
  for (let r = 0; r < reps; r++) {
    const t0 = nowUs();
    const dev = await bindingBringUp(binding, 'lc0', 0, out.stepUs);
    const t1 = nowUs();
    await bindingTearDown(binding, dev);
    out.bringupUs.push(t1 - t0);
    out.teardownUs.push(nowUs() - t1);
  }
  // Event-loop stalls, in separate cycles so the probe's timer does not weigh on the times above.
  for (let r = 0; r < Math.min(reps, 5); r++) {
    const up = await measureStall(() => bindingBringUp(binding, 'lc0', 0));
    const down = await measureStall(() => bindingTearDown(binding, up.result));
    out.bringupStallMs!.push(up.stallMs);
    out.teardownStallMs!.push(down.stallMs);
  }
  return out;
}

function ipCycles(reps: number): Phases {
  const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'inherit'] });
  const out: Phases = { bringupUs: [], teardownUs: [] };
  for (let r = 0; r < reps; r++) {
    const t0 = nowUs();
    ip('tuntap', 'add', 'dev', 'lc0', 'mode', 'tun');
    ip('link', 'set', 'dev', 'lc0', 'mtu', String(PLAN_MTU));
    ip('addr', 'add', planAddress(0), 'dev', 'lc0');
    ip('link', 'set', 'dev', 'lc0', 'up');
    ip('route', 'add', planRoute(0), 'dev', 'lc0');
    const t1 = nowUs();
    ip('link', 'del', 'dev', 'lc0');
    out.bringupUs.push(t1 - t0);
    out.teardownUs.push(nowUs() - t1);
  }
  return out;
}

async function cCycles(prog: string, reps: number): Promise<Phases> {
  return startHelper<Phases>(prog, ['cycle', 'lc', String(reps)]).result;
}

async function bindingScale(binding: TunBinding, n: number, teardown: 'each' | 'group', inOpen: boolean): Promise<CScale> {
  const devs: TunDevice[] = [];
  const bringupUs: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = nowUs();
    const name = `sc${i}`;
    if (inOpen) devs.push(await bindingBringUpInOpen(binding, name, i));
    else devs.push(hasConfigure(binding) ? await bindingBringUpConfigured(binding, name, i) : await bindingBringUp(binding, name, i));
    bringupUs.push(nowUs() - t0);
  }
  if (teardown === 'group') {
    // Tagging is the price of the batched teardown, not part of bring-up.
    for (const d of devs) await binding.setGroup(d.ifindex, GROUP);
    const t0 = nowUs();
    await binding.deleteLinkGroup(GROUP);
    const groupDeleteUs = nowUs() - t0;
    for (const d of devs) d.close();
    return { bringupUs, groupDeleteUs };
  }
  const teardownUs: number[] = [];
  for (const d of devs) {
    const t0 = nowUs();
    await bindingTearDown(binding, d);
    teardownUs.push(nowUs() - t0);
  }
  return { bringupUs, teardownUs };
}

/** One bare libuv threadpool round trip (fs.fstat on stdin), the floor under every AsyncWorker call. */
async function threadpoolRoundTripUs(samples: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < samples; i++) {
    const t0 = nowUs();
    await new Promise<void>((resolve, reject) => fstat(0, (err) => (err ? reject(err) : resolve())));
    times.push(nowUs() - t0);
  }
  return median(times);
}

function lastTenth(xs: readonly number[]): number[] {
  return xs.slice(Math.floor(xs.length * 0.9));
}

function assertNoLinksLeft(): void {
  const links = JSON.parse(execFileSync('ip', ['-j', 'link', 'show'], { encoding: 'utf8' })) as { ifname: string }[];
  const left = links.map((l) => l.ifname).filter((n) => n !== 'lo');
  if (left.length) throw new Error(`interfaces left behind by a run: ${left.slice(0, 5).join(', ')}${left.length > 5 ? '…' : ''}`);
}

export async function runLifecycleBench(): Promise<string> {
  const prog = buildC('netlink_bringup');
  const load = await loadBinding();
  const binding = load.binding;

  // 1. One interface at a time, implementations interleaved per round.
  const inOpen = binding ? await opensWithPlan(binding) : false;
  const IN_OPEN = 'binding, open({ configure }) (one round trip)';
  const CONFIGURED = 'binding, open() + configure() (two round trips)';
  const PER_STEP = 'binding, one call per step';
  const cycles: Record<string, Phases> = {
    ...(inOpen ? { [IN_OPEN]: { bringupUs: [], teardownUs: [] } } : {}),
    [CONFIGURED]: { bringupUs: [], teardownUs: [] },
    [PER_STEP]: { bringupUs: [], teardownUs: [], stepUs: [], bringupStallMs: [], teardownStallMs: [] },
    'ip commands': { bringupUs: [], teardownUs: [] },
    'C netlink': { bringupUs: [], teardownUs: [], stepUs: [] },
  };
  const add = (into: Phases, from: Phases) => {
    into.bringupUs.push(...from.bringupUs);
    into.teardownUs.push(...from.teardownUs);
    if (into.stepUs && from.stepUs) into.stepUs.push(...from.stepUs);
    if (into.bringupStallMs && from.bringupStallMs) into.bringupStallMs.push(...from.bringupStallMs);
    if (into.teardownStallMs && from.teardownStallMs) into.teardownStallMs.push(...from.teardownStallMs);
  };
  for (let round = 0; round < ROUNDS; round++) {
    process.stderr.write(`lifecycle: cycles, round ${round + 1}/${ROUNDS}\n`);
    add(cycles['C netlink'], await cCycles(prog, PER_ROUND));
    if (binding && inOpen) add(cycles[IN_OPEN]!, await configuredCycles(binding, PER_ROUND, true));
    if (binding && hasConfigure(binding)) add(cycles[CONFIGURED]!, await configuredCycles(binding, PER_ROUND));
    if (binding) add(cycles[PER_STEP]!, await bindingCycles(binding, PER_ROUND));
    add(cycles['ip commands'], ipCycles(PER_ROUND));
    assertNoLinksLeft();
  }
  const cUp = median(cycles['C netlink']!.bringupUs);
  const cDown = median(cycles['C netlink']!.teardownUs);
  const cycleRows = Object.entries(cycles).map(([impl, p]) => {
    const up = median(p.bringupUs);
    const down = median(p.teardownUs);
    return [impl, fmtUs(up), ratio(up, cUp), fmtUs(down), ratio(down, cDown)];
  });
  // The target is judged on the binding's fastest bring-up path.
  const bestPath = inOpen ? IN_OPEN : binding && hasConfigure(binding) ? CONFIGURED : PER_STEP;
  const bUp = median(cycles[bestPath]!.bringupUs);
  const hopUs = await threadpoolRoundTripUs(2000);
  // One identical kernel request both ways: what a binding call costs beyond the kernel's part.
  const cGet = median((await startHelper<{ requestUs: number[] }>(prog, ['getlink', 'lo', '2000']).result).requestUs);
  let bGet = NaN;
  if (binding) {
    const times: number[] = [];
    for (let r = 0; r < 2000; r++) {
      const t0 = nowUs();
      await binding.getLink('lo');
      times.push(nowUs() - t0);
    }
    bGet = median(times);
  }
  const stepMedian = (p: Phases, k: number) => median((p.stepUs ?? []).filter((_, j) => j % STEP_NAMES.length === k));
  const stepRows = STEP_NAMES.map((name, k) => {
    const c = stepMedian(cycles['C netlink']!, k);
    const b = stepMedian(cycles[PER_STEP]!, k);
    return [name, fmtUs(c), binding ? fmtUs(b) : 'n/a', binding ? fmtUs(b - c) : 'n/a', binding ? ratio(b, c) : 'n/a'];
  });
  const perStep = cycles[PER_STEP]!;
  const upTarget = binding ? (bUp <= 1.5 * cUp ? 'met' : 'MISSED') : 'n/a';

  // 2. N alive at once: bring N up one after another, then tear them down one by one.
  const scaleRows: string[][] = [];
  for (const { n, reps } of SCALES) {
    const cRuns: CScale[] = [];
    const bRuns: CScale[] = [];
    for (let r = 0; r < reps; r++) {
      process.stderr.write(`lifecycle: scale N=${n} (${r + 1}/${reps})\n`);
      cRuns.push(await startHelper<CScale>(prog, ['scale', 'sc', String(n), 'each'], { timeoutMs: 300_000 }).result);
      assertNoLinksLeft();
      if (binding) bRuns.push(await bindingScale(binding, n, 'each', inOpen));
      assertNoLinksLeft();
    }
    const cUpMean = mean(cRuns.flatMap((s) => s.bringupUs));
    const row = (impl: string, runs: CScale[]) => {
      if (!runs.length) return [String(n), impl, 'n/a', 'n/a', 'n/a', 'n/a', 'n/a'];
      const up = runs.flatMap((s) => s.bringupUs);
      const down = runs.flatMap((s) => s.teardownUs ?? []);
      return [
        String(n), impl, fmtUs(mean(up)), fmtUs(mean(runs.flatMap((s) => lastTenth(s.bringupUs)))),
        ratio(mean(up), cUpMean), fmtUs(mean(down)), fmtUs(mean(runs.map((s) => (s.teardownUs ?? []).reduce((a, x) => a + x, 0)))),
      ];
    };
    scaleRows.push(row('C netlink', cRuns), row('binding', bRuns));
  }

  // 3. The same 1000 links deleted by one RTM_DELLINK carrying IFLA_GROUP.
  process.stderr.write('lifecycle: group delete of 1000\n');
  const cGroup = await startHelper<CScale>(prog, ['scale', 'sc', '1000', 'group'], { timeoutMs: 300_000 }).result;
  assertNoLinksLeft();
  const bGroup = binding ? await bindingScale(binding, 1000, 'group', inOpen) : null;
  assertNoLinksLeft();

  const lines = [
    '### Lifecycle (bring-up and teardown of one TUN interface)',
    '',
    `Machine: ${machineDescription()}.`,
    '',
    `Bring-up = open (TUNSETIFF) + MTU + IPv4 address + up + IPv4 route; teardown = delete link + close fd (\`ip link del\` for the \`ip\` way, whose \`ip tuntap add\` device is persistent). Medians of ${ROUNDS * PER_ROUND} cycles, implementations interleaved in ${ROUNDS} rounds.`,
    '',
    markdownTable(['implementation', 'bring-up', 'vs C', 'teardown', 'vs C'], cycleRows),
    '',
    `**Target**: binding bring-up ≤ 1.5× the C program: ${upTarget}${binding ? ` (${bestPath}: ${ratio(bUp, cUp)})` : ''}.`,
    '',
    binding
      ? `Event loop during the binding's bring-up / teardown (deleteLink, then close): longest stall ${fmt(median(perStep.bringupStallMs!), 1)} / ${fmt(median(perStep.teardownStallMs!), 1)} ms (median of ${perStep.teardownStallMs!.length} cycles, 1 ms resolution; worst ${fmt(Math.max(...perStep.bringupStallMs!), 1)} / ${fmt(Math.max(...perStep.teardownStallMs!), 1)} ms).`
      : '',
    '',
    `Per step (medians over the same cycles). "open" is, for both, RTM_GETLINK (the name must be free) + TUNSETIFF + RTM_GETLINK (the new ifindex). Each binding step is one AsyncWorker: the kernel work runs on a libuv threadpool thread woken for it, and the answer comes back through the loop and a promise. A bare threadpool round trip (fs.fstat) costs ${fmtUs(hopUs)} here; the rest of each step's difference is not broken down here (candidates: N-API async-work and promise setup, JS validation and result objects, the kernel call running on a just-woken thread).`,
    '',
    markdownTable(['step', 'C netlink', 'binding', 'difference', 'vs C'], stepRows),
    '',
    markdownTable(['one call, 2000 times (median)', 'time'], [
      ['C: RTM_GETLINK lo (request + answer + ack)', fmtUs(cGet)],
      ['binding: getLink(\'lo\') (the same request)', binding ? `${fmtUs(bGet)} (+${fmtUs(bGet - cGet)})` : 'n/a'],
      ['Node: fs.fstat round trip through the threadpool', fmtUs(hopUs)],
    ]),
    '',
    `**Scale**: N interfaces brought up one after another (the binding through ${inOpen ? 'open({ configure })' : binding && hasConfigure(binding) ? 'open + configure()' : 'one call per step'}) and all kept alive, then torn down one by one. "last 10%" is the mean bring-up once ≥ 0.9·N were already alive. N=1 is the mean of 10 runs, N=10 of 3; "teardown (total)" is per run.`,
    '',
    markdownTable(['N', 'implementation', 'bring-up (mean)', 'bring-up (last 10%)', 'vs C', 'teardown (mean)', 'teardown (total)'], scaleRows),
    '',
    markdownTable(['1000 links deleted by one group request', 'time'], [
      ['C netlink (RTM_DELLINK + IFLA_GROUP)', fmtUs(cGroup.groupDeleteUs ?? NaN)],
      ['binding (deleteLinkGroup)', bGroup ? fmtUs(bGroup.groupDeleteUs ?? NaN) : 'n/a'],
    ]),
  ];
  if (!binding) lines.push('', `Binding rows are n/a: ${load.binding === null ? load.reason : ''}.`);
  if (binding && binding.kind !== 'native') lines.push('', `**Binding rows measured the ${binding.kind} binding (harness check only).**`);
  return lines.join('\n');
}

if (isMain(import.meta.url)) {
  const entry = enterPrivateNetns('lifecycle bench');
  if (!entry.inside) process.exit(entry.exitCode);
  console.log(await runLifecycleBench());
  process.exit(0);
}
