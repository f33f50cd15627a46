// Every bench runs in a private network namespace that it creates itself:
// the script re-executes itself under `unshare -n`, brings `lo` up, and only
// then creates interfaces or sends traffic. The host's interfaces are never touched.
import { spawnSync, execFileSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';

const MARK = 'TUN_LIFECYCLE_BENCH_NETNS';

export type NamespaceEntry = { inside: true } | { inside: false; exitCode: number };

/**
 * Called first by every bench. Outside the namespace it re-runs the current
 * script inside a new one (with a raised fd limit, for the 1000-interface runs)
 * (extraNodeArgs added to node's flags, e.g. --expose-gc) and reports the child's exit code; inside it brings `lo` up and returns.
 * Without root it prints why there is no table and asks the caller to exit 0.
 */
export function enterPrivateNetns(benchName: string, extraNodeArgs: readonly string[] = []): NamespaceEntry {
  if (process.env[MARK] === '1') {
    assertFreshNamespace();
    execFileSync('ip', ['link', 'set', 'lo', 'up']);
    return { inside: true };
  }
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    console.log(`${benchName}: root is needed (the bench creates TUN interfaces in a private network namespace); no table.`);
    return { inside: false, exitCode: 0 };
  }
  const script = process.argv[1];
  if (!script) throw new Error('cannot find the running script to re-execute');
  const flags = [...process.execArgv, ...extraNodeArgs.filter((a) => !process.execArgv.includes(a))];
  const node = [process.execPath, ...flags, script, ...process.argv.slice(2)];
  const quoted = node.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const child = spawnSync('unshare', ['-n', 'sh', '-c', `ulimit -n 65536 2>/dev/null; exec ${quoted}`], {
    stdio: 'inherit',
    env: { ...process.env, [MARK]: '1' },
  });
  if (child.error) throw child.error;
  return { inside: false, exitCode: child.status ?? 1 };
}

// A fresh namespace holds only `lo`. Anything else means we are not where we
// think we are, and the bench must not create or delete interfaces here.
function assertFreshNamespace(): void {
  const links = JSON.parse(execFileSync('ip', ['-j', 'link', 'show'], { encoding: 'utf8' })) as { ifname: string }[];
  const others = links.map((l) => l.ifname).filter((n) => n !== 'lo');
  if (others.length > 0) {
    throw new Error(`refusing to run: this namespace already has interfaces (${others.join(', ')}); expected a fresh one`);
  }
}

/** True when this module's file is the script node was started with. */
export function isMain(importMetaUrl: string): boolean {
  const script = process.argv[1];
  return !!script && importMetaUrl === pathToFileURL(script).href;
}
