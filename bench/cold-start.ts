// Cold start: what a VPN pays once, at process start. Each sample is a fresh
// node process, inside this bench's private network namespace, interleaved
// round by round so the machine's drift hits every row alike:
//  - `node -e 0` (the floor), spawn → exit;
//  - `import('xstate')` alone and `import('tun-lifecycle')` (the package's own
//    name, resolved through its exports to the bundle in dist/pkg, as a user's
//    import is; the child runs in the checkout, so Node's self-reference finds
//    it), timed inside the child around the import;
//  - process start → the first createAdapter `ready` (native binding, the
//    bench plan: MTU, one address, up, one route), spawn → the child's
//    "ready" line, with the child's own import and create times beside it;
//  - the same start → ready child with the code cache off
//    (TUN_LIFECYCLE_CODE_CACHE=0), to show what the cache saves in this run;
//  - the five `ip` commands doing the same bring-up (ip tuntap add, ip link
//    set mtu, ip addr add, ip link set up, ip route add), spawn to exit each.
// Prints a markdown table of medians. COLD_ROUNDS sets the sample count (20).
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { PLAN_MTU, planAddress, planRoute } from './lib/iface-plan.js';
import { machineDescription } from './lib/machine.js';
import { enterPrivateNetns, isMain } from './lib/netns.js';
import { repoRoot } from './lib/paths.js';
import { fmt, markdownTable, median, ratio } from './lib/stats.js';

const ROUNDS = Number(process.env.COLD_ROUNDS ?? 20);
/** What a user imports: the package's `.` export (dist/pkg/index.js, the bundle). */
const PACKAGE = 'tun-lifecycle';
const NAME = 'cold0';

/** The child scripts: each prints one JSON line. */
const IMPORT_TIMED = (specifier: string) =>
  `const t0 = performance.now(); await import(${JSON.stringify(specifier)}); ` +
  'process.stdout.write(JSON.stringify({ importMs: performance.now() - t0 }) + "\\n");';
const FIRST_CREATE = `
const t0 = performance.now();
const { createAdapter } = await import(${JSON.stringify(PACKAGE)});
const t1 = performance.now();
const tun = await createAdapter(${JSON.stringify(NAME)}, { mtu: ${PLAN_MTU}, addresses: [${JSON.stringify(planAddress(0))}], routes: [${JSON.stringify(planRoute(0))}] });
const t2 = performance.now();
process.stdout.write(JSON.stringify({ ready: true, importMs: t1 - t0, createMs: t2 - t1, sinceOriginMs: t2 }) + "\\n");
await tun.cleanup();
`;

function wallMs(command: string, args: string[]): number {
  const t0 = performance.now();
  const child = spawnSync(command, args, { cwd: repoRoot, stdio: ['ignore', 'ignore', 'inherit'] });
  if (child.status !== 0) throw new Error(`${command} ${args.join(' ')} exited with ${child.status ?? child.signal}`);
  return performance.now() - t0;
}

function childJson(args: string[]): Record<string, number> {
  const child = spawnSync(process.execPath, args, { cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (child.status !== 0) throw new Error(`node ${args.join(' ')} exited with ${child.status ?? child.signal}`);
  return JSON.parse(child.stdout.trim().split('\n')[0]!) as Record<string, number>;
}

/** Spawn → the child's "ready" line (wall), plus what the child measured itself. */
function firstCreate(env: NodeJS.ProcessEnv = process.env): Promise<{ wallMs: number; importMs: number; createMs: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, ['--input-type=module', '-e', FIRST_CREATE], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'inherit'] });
    let text = '';
    let result: { wallMs: number; importMs: number; createMs: number } | undefined;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      text += chunk;
      if (result || !text.includes('\n')) return;
      const wall = performance.now() - t0;
      const line = JSON.parse(text.split('\n')[0]!) as { importMs: number; createMs: number };
      result = { wallMs: wall, importMs: line.importMs, createMs: line.createMs };
    });
    child.on('exit', (code) => (code === 0 && result ? resolve(result) : reject(new Error(`first-create child exited with ${code}`))));
  });
}

function ipBringUp(): number {
  const steps: string[][] = [
    ['tuntap', 'add', 'dev', NAME, 'mode', 'tun'],
    ['link', 'set', 'dev', NAME, 'mtu', String(PLAN_MTU)],
    ['addr', 'add', planAddress(0), 'dev', NAME],
    ['link', 'set', 'dev', NAME, 'up'],
    ['route', 'add', planRoute(0), 'dev', NAME],
  ];
  let total = 0;
  for (const step of steps) total += wallMs('ip', step);
  execFileSync('ip', ['link', 'del', NAME]);
  return total;
}

export async function runColdStartBench(): Promise<string> {
  const rows = {
    node: [] as number[], xstate: [] as number[], xstateWall: [] as number[], ours: [] as number[], oursWall: [] as number[],
    startReady: [] as number[], childImport: [] as number[], childCreate: [] as number[], ip: [] as number[],
    plainStartReady: [] as number[], plainImport: [] as number[], plainCreate: [] as number[],
  };
  // The same child with the code cache off (src/load/code-cache.ts): what the cache saves, in this run.
  const noCodeCache = { ...process.env, TUN_LIFECYCLE_CODE_CACHE: '0' };
  for (let round = 0; round < ROUNDS; round += 1) {
    rows.node.push(wallMs(process.execPath, ['-e', '0']));
    let t0 = performance.now();
    rows.xstate.push(childJson(['--input-type=module', '-e', IMPORT_TIMED('xstate')]).importMs!);
    rows.xstateWall.push(performance.now() - t0);
    t0 = performance.now();
    rows.ours.push(childJson(['--input-type=module', '-e', IMPORT_TIMED(PACKAGE)]).importMs!);
    rows.oursWall.push(performance.now() - t0);
    const first = await firstCreate();
    rows.startReady.push(first.wallMs);
    rows.childImport.push(first.importMs);
    rows.childCreate.push(first.createMs);
    const plain = await firstCreate(noCodeCache);
    rows.plainStartReady.push(plain.wallMs);
    rows.plainImport.push(plain.importMs);
    rows.plainCreate.push(plain.createMs);
    rows.ip.push(ipBringUp());
  }
  const m = Object.fromEntries(Object.entries(rows).map(([k, v]) => [k, median(v)])) as Record<keyof typeof rows, number>;
  const table = markdownTable(['what (fresh process each, median of ' + ROUNDS + ')', 'time', 'target', 'met'], [
    ['`node -e 0` (spawn → exit)', `${fmt(m.node)} ms`, '—', '—'],
    ['`import(\'xstate\')` alone (in the child)', `${fmt(m.xstate)} ms`, '—', '—'],
    ['`import(\'tun-lifecycle\')` (the package\'s exports, in the child)', `${fmt(m.ours)} ms (${ratio(m.ours, m.xstate)} xstate)`, '≤ 1.25× xstate', m.ours <= 1.25 * m.xstate ? 'yes' : 'no'],
    ['first `createAdapter` → `ready` (native, in the child)', `${fmt(m.childCreate)} ms`, '≤ 3 ms', m.childCreate <= 3 ? 'yes' : 'no'],
    ['process start → `ready` (spawn → the child\'s ready line)', `${fmt(m.startReady)} ms (+${fmt(m.startReady - m.node)} ms over node -e 0)`, '≤ node -e 0 + 35 ms', m.startReady - m.node <= 35 ? 'yes' : 'no'],
    ['the five `ip` commands (tuntap add, mtu, addr, up, route)', `${fmt(m.ip)} ms`, '—', '—'],
  ]);
  return [
    '### Cold start (the create most users see)',
    '',
    `Machine: ${machineDescription()}. Fresh \`node\` processes in one private network namespace, the rows interleaved round by round.`,
    '',
    table,
    '',
    `In the start → ready child: import ${fmt(m.childImport)} ms, create ${fmt(m.childCreate)} ms. Wall times of the import children: xstate ${fmt(m.xstateWall)} ms, tun-lifecycle ${fmt(m.oursWall)} ms.`,
    '',
    'The same start → ready child without the code cache (`TUN_LIFECYCLE_CODE_CACHE=0`: the bundle loaded as any CommonJS file), interleaved with the rows above:',
    '',
    markdownTable(['start → ready child', 'import', 'first create', 'start → ready'], [
      ['with the code cache (the default)', `${fmt(m.childImport)} ms`, `${fmt(m.childCreate)} ms`, `+${fmt(m.startReady - m.node)} ms`],
      ['without it', `${fmt(m.plainImport)} ms`, `${fmt(m.plainCreate)} ms`, `+${fmt(m.plainStartReady - m.node)} ms`],
      ['saved by the cache', ratio(m.plainImport, m.childImport), ratio(m.plainCreate, m.childCreate), `${fmt(m.plainStartReady - m.startReady)} ms`],
    ]),
  ].join('\n');
}

if (isMain(import.meta.url)) {
  const entry = enterPrivateNetns('cold-start bench');
  if (!entry.inside) process.exit(entry.exitCode);
  console.log(await runColdStartBench());
  process.exit(0);
}
