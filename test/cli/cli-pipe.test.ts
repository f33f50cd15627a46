// The CLI with its stdout piped into a reader that exits early, through a real
// pipe (the CLI's stdout is the write end of `head`'s / `grep`'s stdin):
// `demo | head -1` and `up … --json | grep -m1 ready`. A closed stdout stops
// the printing and nothing else: no EPIPE stack trace, the documented exit
// code, and `up` still cleans up on its signal (checked with iproute2).

import { expect } from 'chai';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { describeKernel } from '../helpers/netns.js';
import { ipLink } from '../helpers/iproute.js';
import { eventually } from '../helpers/wait.js';
import { CLI } from './run-cli.js';

interface Piped {
  cli: ChildProcess;
  /** What the reader printed, once it has exited. */
  readerOutput: Promise<string>;
  cliExit: Promise<number | null>;
  stderr(): string;
}

/** Spawn `reader` first, then the CLI writing into the reader's stdin. */
function pipeInto(args: string[], reader: string[]): Piped {
  const sink = spawn(reader[0]!, reader.slice(1), { stdio: ['pipe', 'pipe', 'inherit'] });
  const cli = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', sink.stdin!, 'pipe'] });
  // Only the CLI holds the write end now: once the reader exits, its writes meet EPIPE.
  sink.stdin!.destroy();
  let stderr = '';
  cli.stderr!.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk; });
  let out = '';
  sink.stdout!.setEncoding('utf8').on('data', (chunk: string) => { out += chunk; });
  return {
    cli,
    readerOutput: new Promise((resolve) => sink.on('close', () => resolve(out))),
    cliExit: new Promise((resolve) => cli.on('exit', (code) => resolve(code))),
    stderr: () => stderr,
  };
}

describeKernel('cli: stdout piped into a reader that exits early', function () {
  this.timeout(30_000);

  it('demo | head -1: prints one line, no EPIPE, exit 0', async () => {
    const run = pipeInto(['demo'], ['head', '-n', '1']);
    expect(await run.readerOutput).to.match(/^tun-lifecycle demo/);
    const code = await run.cliExit;
    expect(run.stderr()).to.not.match(/EPIPE|unexpected error/);
    expect(code, run.stderr()).to.equal(0);
  });

  it('up --json | grep -m1 ready: SIGTERM still cleans up (link gone, exit 0), no EPIPE', async () => {
    const name = 'tlpipe0';
    const run = pipeInto(['up', name, '--address', '10.243.0.1/24', '--json'], ['grep', '-m1', '"type":"ready"']);
    const line = await run.readerOutput;
    expect(JSON.parse(line)).to.include({ type: 'ready', name });
    expect(ipLink(name), 'up while holding').to.not.equal(undefined);
    run.cli.kill('SIGTERM');
    const code = await run.cliExit;
    expect(run.stderr()).to.not.match(/EPIPE|unexpected error/);
    expect(code, run.stderr()).to.equal(0);
    expect(await eventually(() => ipLink(name) === undefined, 1000), 'cleaned up').to.equal(true);
  });
});
