// Runs a helper program that prints "ready" once it is set up and one JSON
// line of results at the end; lets a bench start it, wait until it is ready,
// do its own part, and then collect the result.
import { spawn, type ChildProcess } from 'node:child_process';

export interface Helper<T> {
  /** Resolves when the helper printed "ready". */
  ready: Promise<void>;
  /** Resolves with the helper's JSON line when it exits successfully. */
  result: Promise<T>;
  child: ChildProcess;
}

export interface HelperOptions {
  timeoutMs?: number;
  /** The helper ends itself with SIGKILL after printing its result (see naive-tun.ts). */
  killsItself?: boolean;
}

export function startHelper<T>(cmd: string, args: readonly string[], options: HelperOptions = {}): Helper<T> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let markReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
    if (/^ready$/m.test(out)) markReady();
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, timeoutMs);
  const result = new Promise<T>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      markReady(); // never leave a waiter hanging; result carries the failure
      const line = out.split('\n').filter((l) => l.startsWith('{')).pop();
      const ok = code === 0 || (options.killsItself === true && signal === 'SIGKILL' && !timedOut);
      if (ok && line) resolve(JSON.parse(line) as T);
      else reject(new Error(`${cmd} ${args.join(' ')} failed (${signal ?? `exit ${code}`}): ${err.trim() || out.trim()}`));
    });
  });
  return { ready, result, child };
}
