// The README's main command: the demo finishes by itself within seconds,
// exits 0, and tells the whole story — on the simulated binding (forced
// here, as without root) and, in the kernel namespace, for real in a
// namespace of its own (unshare -n inside ours), with ping and UDP round
// trips through the user-space echo responder, a route pushed live while
// ping runs, and one of our routes deleted from outside and healed.

import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describeKernel } from '../helpers/netns.js';
import { ipLinks } from '../helpers/iproute.js';
import { runCli } from './run-cli.js';

const DEMO = fileURLToPath(new URL('../../examples/demo.js', import.meta.url));

function runDemo(env: Record<string, string> = {}) {
  const started = Date.now();
  const result = spawnSync(process.execPath, [DEMO], { encoding: 'utf8', timeout: 20_000, env: { ...process.env, ...env } });
  return { status: result.status, stdout: String(result.stdout), stderr: String(result.stderr), ms: Date.now() - started };
}

function expectWholeStory(stdout: string): void {
  expect(stdout).to.match(/✔ ready in .* configuration verified/u);
  expect(stdout).to.match(/✔ UDP 10\.77\.0\.1 → 10\.78\.0\.7:7 "hello over IPv4 \(first\)" came back in/u);
  expect(stdout).to.match(/✔ UDP fd77::1 → \[fd78::7\]:7 "hello over IPv6 \(first\)" came back in/u);
  expect(stdout).to.match(/✔ route 10\.79\.0\.0\/16 pushed in .*, read back from the kernel/u);
  expect(stdout).to.match(/✔ ping 10\.78\.0\.7 during the push: 3\/3 replies/u);
  expect(stdout).to.match(/✔ UDP 10\.77\.0\.1 → 10\.79\.0\.7:7 "hello over IPv4 \(through the pushed route\)" came back in/u);
  expect(stdout).to.match(/interface fault: route-removed 10\.78\.0\.0\/16 metric 0/u);
  expect(stdout).to.match(/✔ healed in .*: 10\.78\.0\.0\/16 back, in place/u);
  expect(stdout).to.match(/✔ UDP .* \(after the route was healed\)" came back/u);
  expect(stdout).to.match(/ready → error\.recovering\.attempt/u);
  expect(stdout).to.match(/✔ recovered in .* re-created/u);
  expect(stdout).to.match(/✔ UDP .* \(after recovery\)" came back/u);
  expect(stdout).to.match(/stopping\.round → stopped/u);
  expect(stdout).to.contain('✔ links in the namespace now: lo');
  expect(stdout).to.contain('✔ 0 TUN fd(s) open');
  expect(stdout).to.match(/lifecycle counters: 4 attempt\(s\), 0 retries, 2 failure\(s\), 2 fault\(s\), 2 recovery\(ies\), 1 cleanup\(s\)/u);
  expect(stdout).to.not.contain('✘');
  expect(stdout).to.contain('demo finished: everything checked out.');
}

describe('demo (simulated binding)', function () {
  this.timeout(30_000);

  it('tells the whole story on the simulated binding, says so, and exits 0 within seconds', () => {
    const result = runDemo({ TUN_LIFECYCLE_DEMO_SIMULATED: '1' });
    expect(result.status, result.stderr + result.stdout).to.equal(0);
    expect(result.stdout).to.match(/running on the SIMULATED binding/u);
    expectWholeStory(result.stdout);
    expect(result.stdout).to.match(/✔ ping 10\.78\.0\.7: 3\/3 replies/u);
    expect(result.ms).to.be.below(10_000);
  });

  it('is also `tun-lifecycle demo`', () => {
    const result = runCli(['demo'], { env: { ...process.env, TUN_LIFECYCLE_DEMO_SIMULATED: '1' } });
    expect(result.status, result.stderr).to.equal(0);
    expect(result.stdout).to.contain('demo finished: everything checked out.');
  });
});

describeKernel('demo (kernel, in a namespace of its own)', function () {
  this.timeout(30_000);

  it('runs for real in its own namespace: ping and UDP round trips, outside delete → recovery, nothing left; exit 0', () => {
    const linksBefore = ipLinks().map((l) => l.ifname).sort();
    const result = runDemo();
    expect(result.status, result.stderr + result.stdout).to.equal(0);
    expect(result.stdout).to.match(/running in a private network namespace \(net:\[\d+\]\) made for this run/u);
    expectWholeStory(result.stdout);
    expect(result.stdout).to.contain('$ ip link del tl-demo0');
    // ping from iputils when installed; otherwise said so, not faked.
    for (const peer of ['10.78.0.7', 'fd78::7']) {
      expect(result.stdout).to.match(new RegExp(`(✔ ping ${peer.replace(/\./gu, '\\.')}: 3/3 replies, rtt min/avg/max)|(– ping ${peer}: the ping binary is not installed)`, 'u'));
    }
    expect(result.ms).to.be.below(10_000);
    expect(ipLinks().map((l) => l.ifname).sort(), 'the demo never touched the namespace it was started from').to.deep.equal(linksBefore);
  });
});
