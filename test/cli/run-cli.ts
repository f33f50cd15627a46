// Running the built CLI (dist/src/cli.js) as a child process, the way a user
// does: synchronously for one-shot commands, or as a long-running `up` whose
// --json records are followed line by line.

import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess, SpawnSyncOptions } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../src/cli.js', import.meta.url));

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export interface RunCliOptions extends SpawnSyncOptions {
  /** A command the CLI runs under, e.g. WITHOUT_NET_ADMIN (test/helpers/privilege.ts). */
  launcher?: readonly string[];
}

export function runCli(args: string[], { launcher = [], ...options }: RunCliOptions = {}): CliResult {
  const [command, ...argv] = [...launcher, process.execPath, CLI, ...args];
  const result = spawnSync(command!, argv, { encoding: 'utf8', timeout: 20_000, ...options });
  return { status: result.status, stdout: String(result.stdout), stderr: String(result.stderr) };
}

export interface RunningCli {
  child: ChildProcess;
  records: Array<Record<string, any>>;
  stderr(): string;
  waitFor(type: string, ms?: number): Promise<Record<string, any>>;
  exit(): Promise<number | null>;
}

/** Start `tun-lifecycle <args> --json` and collect its NDJSON records. */
export function startCli(args: string[]): RunningCli {
  const child = spawn(process.execPath, [CLI, ...args, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const records: Array<Record<string, any>> = [];
  let buffer = '';
  let errText = '';
  const waiters = new Set<() => void>();
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (chunk: string) => {
    buffer += chunk;
    let end;
    while ((end = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, end);
      buffer = buffer.slice(end + 1);
      if (line.trim()) records.push(JSON.parse(line) as Record<string, any>);
    }
    for (const wake of waiters) wake();
  });
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => { errText += chunk; });
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => { for (const wake of waiters) wake(); resolve(code); }));
  return {
    child,
    records,
    stderr: () => errText,
    exit: () => exited,
    waitFor(type, ms = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = records.find((r) => r.type === type);
          if (found) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(found);
          } else if (child.exitCode !== null) {
            waiters.delete(check);
            clearTimeout(timer);
            reject(new Error(`the CLI exited (${child.exitCode}) before '${type}': ${errText}`));
          }
        };
        const timer = setTimeout(() => { waiters.delete(check); reject(new Error(`no '${type}' record within ${ms} ms; stderr: ${errText}`)); }, ms);
        waiters.add(check);
        check();
      });
    },
  };
}

/** A pid that certainly belongs to no running process: one that just exited. */
export function deadPid(): number {
  return Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);
}
