// Running a fixture in a child node process (same namespace) and talking to
// it line by line: wait for a line, send it a signal, collect how it ended.

import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { constants } from 'node:os';

export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** What a shell would report: the exit code, or 128 + the signal number. */
  status: number;
  stdout: string[];
  stderr: string;
}

export class Child {
  readonly process: ChildProcess;
  readonly lines: string[] = [];
  stderr = '';
  readonly exited: Promise<ChildExit>;
  #waiters: Array<() => void> = [];

  constructor(script: string, args: string[] = []) {
    this.process = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let partial = '';
    this.process.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      partial += chunk;
      const parts = partial.split('\n');
      partial = parts.pop()!;
      this.lines.push(...parts.filter(Boolean));
      for (const wake of this.#waiters.splice(0)) wake();
    });
    this.process.stderr!.setEncoding('utf8').on('data', (chunk: string) => { this.stderr += chunk; });
    this.exited = new Promise((resolve) => {
      this.process.on('exit', (code, signal) => {
        for (const wake of this.#waiters.splice(0)) wake();
        resolve({
          code, signal,
          status: code ?? 128 + (constants.signals[signal as keyof typeof constants.signals] ?? 0),
          stdout: this.lines, stderr: this.stderr,
        });
      });
    });
  }

  /** The first line matching `pattern` (waits for it, up to `ms`). */
  async waitFor(pattern: RegExp, ms = 10_000): Promise<string> {
    const deadline = Date.now() + ms;
    for (;;) {
      const line = this.lines.find((l) => pattern.test(l));
      if (line) return line;
      if (this.process.exitCode !== null || this.process.signalCode !== null || Date.now() > deadline) {
        throw new Error(`child never printed ${pattern}; stdout: ${this.lines.join(' | ')}; stderr: ${this.stderr.slice(-2000)}`);
      }
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  kill(signal: NodeJS.Signals): void {
    this.process.kill(signal);
  }
}
