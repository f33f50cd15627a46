// The CLI without the kernel: help, the diagram, usage errors (exit 2, one
// line, no stack trace), the missing-privilege error (exit 3, saying what is
// needed), and a whole `up` on the simulated binding ended by SIGINT.

import { expect } from 'chai';
import { toMermaid, tunLifecycleMachine } from '../../src/index.js';
import { WITHOUT_NET_ADMIN } from '../helpers/privilege.js';
import { runCli, startCli } from './run-cli.js';

function expectCleanError(stderr: string): void {
  expect(stderr).to.match(/^tun-lifecycle: /u);
  expect(stderr, 'no stack trace for an expected failure').to.not.match(/\n\s+at /u);
}

describe('cli: tun-lifecycle (no kernel)', function () {
  this.timeout(30_000);

  it('--help prints the usage with the exit codes', () => {
    const result = runCli(['--help']);
    expect(result.status).to.equal(0);
    expect(result.stdout).to.match(/^Usage: tun-lifecycle <command>/u);
    for (const command of ['up NAME --address CIDR', 'status [NAME]', 'down NAME', 'diagram', 'demo', 'inspect NAME']) {
      expect(result.stdout).to.contain(command);
    }
    expect(result.stdout).to.match(/Exit codes:[\s\S]*\b3\s+missing privilege/u);
  });

  it('diagram prints exactly toMermaid(machine), also as JSON', () => {
    const result = runCli(['diagram']);
    expect(result.status).to.equal(0);
    expect(result.stdout).to.equal(toMermaid(tunLifecycleMachine));
    const json = runCli(['diagram', '--json']);
    expect(JSON.parse(json.stdout)).to.deep.equal({ type: 'diagram', format: 'mermaid', text: toMermaid(tunLifecycleMachine) });
  });

  const usageErrors: Array<[string[], RegExp]> = [
    [[], /missing command/u],
    [['frob'], /unknown command 'frob'/u],
    [['up'], /'up' needs an interface NAME/u],
    [['up', 'tl0', '--mtu', '12'], /--mtu.*out of range/u],
    [['up', 'tl0', '--mtu', 'big'], /--mtu must be a whole number/u],
    [['up', 'tl0', '--address', '10.0.0.1'], /--address.*CIDR/u],
    [['up', 'tl0', '--inspect', '70000'], /--inspect must be a port/u],
    [['up', 'bad/name'], /NAME/u],
    [['status', '--address', '10.0.0.1/24'], /--address does not apply to 'status'/u],
    [['down', 'a', 'b'], /unexpected argument 'b'/u],
    [['diagram', '--netns', 'blue'], /--netns does not apply to 'diagram'/u],
    [['status', '--netns', '..'], /--netns.*not a namespace name/u],
    [['up', 'tl0', '--bogus'], /bogus/u],
    [['up', 'tl0', '--offload', 'fast'], /--offload must be one of off, on, auto, raw, got 'fast'/u],
    [['status', '--offload', 'off'], /--offload does not apply to 'status'/u],
    [['up', 'tl0', '--simulated', '--address', '10.0.0.1/24', '--address', '10.0.0.1/24'], /"--address #2" argument repeats an address/u],
    [['up', 'tl0', '--simulated', '--address', 'fd00::1/64', '--mtu', '1000'], /"--mtu" is out of range.*1280/u],
  ];
  for (const [args, message] of usageErrors) {
    it(`usage error (exit 2): ${args.join(' ') || '(nothing)'}`, () => {
      const result = runCli(args);
      expect(result.status, result.stderr).to.equal(2);
      expectCleanError(result.stderr);
      expect(result.stderr).to.match(message);
      expect(result.stderr).to.contain('tun-lifecycle --help');
    });
  }

  it('says exactly which privilege is missing (exit 3), as text and as JSON', () => {
    // As root, drop CAP_NET_ADMIN but stay root, so the child still reads the checkout
    // wherever it lives; otherwise we are already unprivileged. Root without the
    // capability is refused by the kernel (EPERM), a user by the CLI's own check:
    // the same exit code and hint either way.
    const unprivileged = process.getuid?.() === 0 ? { launcher: WITHOUT_NET_ADMIN } : {};
    const result = runCli(['up', 'tlnopriv0', '--address', '10.237.0.1/24'], unprivileged);
    expect(result.status, result.stderr).to.equal(3);
    expectCleanError(result.stderr);
    expect(result.stderr).to.contain('CAP_NET_ADMIN');
    expect(result.stderr).to.contain('/dev/net/tun');
    expect(result.stderr).to.match(/root/u);
    const json = runCli(['up', 'tlnopriv0', '--json'], unprivileged);
    expect(json.status).to.equal(3);
    const error = JSON.parse(json.stderr.trim()) as { type: string; exitCode: number; message: string; hint: string };
    expect(error.type).to.equal('error');
    expect(error.exitCode).to.equal(3);
    expect(error.message).to.match(/CAP_NET_ADMIN|EPERM/u);
    expect(error.hint).to.contain('CAP_NET_ADMIN');
  });

  it('up --simulated: transitions with timings, ready with the read-back configuration, SIGINT → cleaned up and verified (exit 0)', async () => {
    const cli = startCli(['up', 'tlsimcli0', '--simulated', '--address', '10.238.0.1/24', '--route', '10.239.0.0/16', '--mtu', '1300']);
    const ready = await cli.waitFor('ready');
    expect(ready.name).to.equal('tlsimcli0');
    expect(ready.mtu).to.equal(1300);
    expect(ready.addresses).to.deep.equal(['10.238.0.1/24']);
    expect(ready.routes).to.deep.equal(['10.239.0.0/16']);
    await cli.waitFor('holding');
    const transitions = cli.records.filter((r) => r.type === 'transition');
    expect(transitions.map((t) => `${t.from}>${t.to}`)).to.deep.equal(['uninitialized>initializing.attempt', 'initializing.attempt>ready']);
    for (const t of transitions) expect(t.after).to.be.a('number').and.to.be.at.least(0);
    cli.child.kill('SIGINT');
    const stopped = await cli.waitFor('stopped');
    expect(stopped.verified).to.deep.equal({ linkGone: true, taggedLeft: 0, queueFdsOpen: 0 });
    expect(await cli.exit()).to.equal(0);
    expect(cli.records.filter((r) => r.type === 'transition').map((t) => t.to).slice(-2)).to.deep.equal(['stopping.round', 'stopped']);
  });
});
