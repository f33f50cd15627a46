// Live route changes on a ready adapter, inside a private network namespace:
// one route added (tun.addRoute, the binding's addRoute made directly,
// `ip route add`, one C rtnetlink request: bench/c/netlink_routes.c); 1,000
// routes added in one reconfigure and removed in one (batched requests)
// against 1,000 single binding calls, 1,000 `ip route add` and C sending the
// same batches; 10,000 routes in one reconfigure: time and memory. Medians,
// implementations interleaved per round. `-r N` rounds (default 5; 1 while
// developing). Prints markdown tables; not a timed test.
import { execFileSync } from 'node:child_process';
import { createAdapter, type TunAdapter } from '../src/adapter/index.js';
import type { RouteSpec, TunBinding } from '../src/binding/contract/types.js';
import { loadBinding } from './lib/binding.js';
import { buildC } from './lib/cbuild.js';
import { machineDescription } from './lib/machine.js';
import { enterPrivateNetns, isMain } from './lib/netns.js';
import { startHelper } from './lib/proc.js';
import { fmtUs, markdownTable, median, ratio } from './lib/stats.js';

const NAME = 'rcb0';
const SINGLE_REPS = 50;
const MANY = 1000;
const HUGE = 10_000;

const nowUs = () => performance.now() * 1000;

function option(flag: string, short: string, fallback: number): number {
  const args = process.argv;
  const at = args.findIndex((a) => a === flag || a === short);
  return at >= 0 && args[at + 1] ? Number(args[at + 1]) : fallback;
}

/** Route i, as bench/c/netlink_routes.c spells it. */
const routeOf = (i: number) => `172.${16 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}/32`;
const routesOf = (n: number, from = 0): RouteSpec[] => Array.from({ length: n }, (_, i) => ({ destination: routeOf(from + i) }));
const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'inherit'] });

interface Times { add: number[]; remove: number[] }
const times = (): Times => ({ add: [], remove: [] });

async function timed(into: number[], run: () => Promise<unknown> | unknown): Promise<void> {
  const t0 = nowUs();
  await run();
  into.push(nowUs() - t0);
}

function assertRoutes(n: number, what: string): void {
  const held = (JSON.parse(execFileSync('ip', ['-j', 'route', 'show', 'dev', NAME], { encoding: 'utf8' })) as unknown[]).length;
  // The prefix route of the adapter's address is the kernel's own.
  if (held !== n + 1) throw new Error(`${what}: ${held - 1} routes on ${NAME}, expected ${n}`);
}

export async function runReconfigureBench(rounds: number): Promise<string> {
  const prog = buildC('netlink_routes');
  const load = await loadBinding();
  if (!load.binding) return `### Reconfigure (live route changes)\n\nNo table: ${load.reason}`;
  const binding: TunBinding = load.binding;
  const tun: TunAdapter = await createAdapter(NAME, { binding, addresses: ['10.99.0.1/24'] });
  const ifindex = tun.ifindex!;
  const one = routesOf(1, 60_000)[0]!;
  const single: Record<string, Times> = { 'tun.addRoute / removeRoute': times(), 'binding.addRoute / deleteRoute': times(), '`ip route add` / `del`': times(), 'C netlink request': times() };
  const many: Record<string, Times> = {
    'tun.reconfigure (batched)': times(), 'binding.configure (batched)': times(),
    'binding.configure + read-back (one trip: the kernel part of tun.reconfigure)': times(), [`${MANY} binding.addRoute calls`]: times(),
    [`${MANY} \`ip route\` commands`]: times(), 'C netlink batch': times(),
  };
  const routes = routesOf(MANY);
  for (let round = 0; round < rounds; round++) {
    process.stderr.write(`reconfigure: round ${round + 1}/${rounds}\n`);
    for (let r = 0; r < SINGLE_REPS; r++) {
      await timed(single['tun.addRoute / removeRoute']!.add, () => tun.addRoute(one));
      await timed(single['tun.addRoute / removeRoute']!.remove, () => tun.removeRoute(one));
      await timed(single['binding.addRoute / deleteRoute']!.add, () => binding.addRoute(ifindex, one));
      await timed(single['binding.addRoute / deleteRoute']!.remove, () => binding.deleteRoute(ifindex, one));
      await timed(single['`ip route add` / `del`']!.add, () => ip('route', 'add', one.destination, 'dev', NAME));
      await timed(single['`ip route add` / `del`']!.remove, () => ip('route', 'del', one.destination, 'dev', NAME));
    }
    const c1 = await startHelper<{ addUs: number[]; delUs: number[] }>(prog, ['single', NAME, String(SINGLE_REPS)]).result;
    single['C netlink request']!.add.push(...c1.addUs);
    single['C netlink request']!.remove.push(...c1.delUs);

    const m = many;
    await timed(m['tun.reconfigure (batched)']!.add, () => tun.reconfigure({ routes }));
    assertRoutes(MANY, 'tun.reconfigure');
    await timed(m['tun.reconfigure (batched)']!.remove, () => tun.reconfigure({ routes: [] }));
    await timed(m['binding.configure (batched)']!.add, () => binding.configure(ifindex, { routes }));
    assertRoutes(MANY, 'binding.configure');
    await timed(m['binding.configure (batched)']!.remove, () => binding.configure(ifindex, { removeRoutes: routes }));
    const readBackRow = m['binding.configure + read-back (one trip: the kernel part of tun.reconfigure)']!;
    await timed(readBackRow.add, () => binding.configure(ifindex, { routes }, { readBack: true }));
    await timed(readBackRow.remove, () => binding.configure(ifindex, { removeRoutes: routes }, { readBack: true }));
    await timed(m[`${MANY} binding.addRoute calls`]!.add, async () => { for (const r of routes) await binding.addRoute(ifindex, r); });
    await timed(m[`${MANY} binding.addRoute calls`]!.remove, async () => { for (const r of routes) await binding.deleteRoute(ifindex, r); });
    await timed(m[`${MANY} \`ip route\` commands`]!.add, () => { for (const r of routes) ip('route', 'add', r.destination, 'dev', NAME); });
    assertRoutes(MANY, 'ip route add');
    await timed(m[`${MANY} \`ip route\` commands`]!.remove, () => { for (const r of routes) ip('route', 'del', r.destination, 'dev', NAME); });
    const cm = await startHelper<{ addUs: number[]; delUs: number[] }>(prog, ['batch', NAME, String(MANY), '1']).result;
    m['C netlink batch']!.add.push(...cm.addUs);
    m['C netlink batch']!.remove.push(...cm.delUs);
    assertRoutes(0, 'round end');
  }

  // 10,000 routes: once (time and memory grow with it).
  process.stderr.write(`reconfigure: ${HUGE} routes\n`);
  (globalThis as { gc?: () => void }).gc?.();
  const before = process.memoryUsage();
  const hugeRoutes = routesOf(HUGE);
  const huge = times();
  await timed(huge.add, () => tun.reconfigure({ routes: hugeRoutes }));
  const after = process.memoryUsage();
  assertRoutes(HUGE, 'tun.reconfigure 10,000');
  await timed(huge.remove, () => tun.reconfigure({ routes: [] }));
  const cHuge = await startHelper<{ addUs: number[]; delUs: number[] }>(prog, ['batch', NAME, String(HUGE), '1'], { timeoutMs: 120_000 }).result;
  await tun.cleanup();

  const sRow = (name: string, t: Times, base: Times, ipWay: Times) => [
    name, fmtUs(median(t.add)), ratio(median(t.add), median(base.add)), ratio(median(ipWay.add), median(t.add)),
    fmtUs(median(t.remove)), ratio(median(t.remove), median(base.remove)),
  ];
  const cOne = single['C netlink request']!;
  const ipOne = single['`ip route add` / `del`']!;
  const cMany = many['C netlink batch']!;
  const ipMany = many[`${MANY} \`ip route\` commands`]!;
  const tunMany = many['tun.reconfigure (batched)']!;
  const vsC = median(tunMany.add) / median(cMany.add);
  const vsIp = median(ipMany.add) / median(tunMany.add);
  const vsCDel = median(tunMany.remove) / median(cMany.remove);
  const vsIpDel = median(ipMany.remove) / median(tunMany.remove);
  const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MB`;
  return [
    '### Reconfigure (live route changes on a ready adapter)',
    '',
    `Machine: ${machineDescription()}. Medians; ${rounds} round(s), implementations interleaved in each: ${SINGLE_REPS} single adds/removes per implementation, one ${MANY}-route batch each. IPv4 /32 routes out of a ready TUN (one address, its prefix route the kernel's). tun.* goes through the statechart (ready → reconfiguring → ready): the kernel read back, the diff applied as one plan, verified (validateState) from the read-back that the plan's own native round trip returns; the binding's plan sends up to 128 requests per sendmsg and reads their acks in one pass, as the C batch does. The binding rows run while the adapter is ready, so its link monitor takes in the notifications of their routes meanwhile (it rests while tun.reconfigure runs, and takes a fresh baseline on ready).`,
    '',
    '**One route**',
    '',
    markdownTable(['implementation', 'add', 'vs C', 'faster than ip', 'remove', 'vs C'], Object.entries(single).map(([n, t]) => sRow(n, t, cOne, ipOne))),
    '',
    `**${MANY.toLocaleString('en-US')} routes** in one call (and removed in one)`,
    '',
    markdownTable(['implementation', 'add', 'vs C batch', 'faster than ip', 'remove', 'vs C batch'], Object.entries(many).map(([n, t]) => sRow(n, t, cMany, ipMany))),
    '',
    markdownTable(['target', 'add', 'remove', ''], [
      ['tun.reconfigure within 2× of the C batch', `${vsC.toFixed(2)}×`, `${vsCDel.toFixed(2)}×`, vsC <= 2 && vsCDel <= 2 ? 'met' : 'MISSED'],
      ['tun.reconfigure ≥ 20× faster than the ip way', `${vsIp.toFixed(1)}×`, `${vsIpDel.toFixed(1)}×`, vsIp >= 20 && vsIpDel >= 20 ? 'met' : 'MISSED'],
    ]),
    '',
    `**${HUGE.toLocaleString('en-US')} routes** in one reconfigure (once)`,
    '',
    markdownTable(['', 'tun.reconfigure', 'C netlink batch', 'vs C'], [
      ['add', fmtUs(huge.add[0]!), fmtUs(cHuge.addUs[0]!), ratio(huge.add[0]!, cHuge.addUs[0]!)],
      ['remove', fmtUs(huge.remove[0]!), fmtUs(cHuge.delUs[0]!), ratio(huge.remove[0]!, cHuge.delUs[0]!)],
      ['JS heap grown by the add', `${mb(after.heapUsed - before.heapUsed)} (${mb(after.heapUsed)} in use)`, '', ''],
      ['RSS grown by the add', `${mb(after.rss - before.rss)} (${mb(after.rss)})`, '', ''],
    ]),
  ].join('\n');
}

if (isMain(import.meta.url)) {
  const entry = enterPrivateNetns('reconfigure bench', ['--expose-gc']);
  if (!entry.inside) process.exit(entry.exitCode);
  console.log(await runReconfigureBench(option('--rounds', '-r', 5)));
  process.exit(0);
}
