// Without CAP_NET_ADMIN, open() must fail at once with EPERM from the TUNSETIFF
// ioctl — a real TunSystemError, not a hang, not a crash. The child drops the
// capability with setpriv (util-linux) and reports what it got as JSON; a
// control child that keeps the capability shows the same script does succeed.

import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describeKernel } from '../helpers/netns.js';
import { ipLink } from '../helpers/iproute.js';
import { WITHOUT_NET_ADMIN } from '../helpers/privilege.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/privilege-open.js', import.meta.url));

interface ChildReport {
  outcome: 'opened' | 'failed';
  isTunSystemError?: boolean;
  isError?: boolean;
  name?: string;
  code?: string;
  errno?: number;
  syscall?: string;
  message?: string;
  elapsedMs: number;
  netAdminEffective: boolean;
  capEff: string;
}

function runChild(prefix: readonly string[], interfaceName: string): ChildReport {
  const argv = [...prefix, process.execPath, FIXTURE, interfaceName];
  const out = execFileSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: 15_000, stdio: ['ignore', 'pipe', 'pipe'] });
  const line = out.trim().split('\n').pop()!;
  return JSON.parse(line) as ChildReport;
}

describeKernel('native binding: without CAP_NET_ADMIN', function () {
  it('fails open() at once with EPERM from the TUNSETIFF ioctl', function () {
    const report = runChild(WITHOUT_NET_ADMIN, 'priv0');
    expect(report.netAdminEffective, `the child still had CAP_NET_ADMIN (CapEff ${report.capEff})`).to.equal(false);
    expect(report.outcome, JSON.stringify(report)).to.equal('failed');
    expect(report.isTunSystemError, 'a TunSystemError').to.equal(true);
    expect(report.isError).to.equal(true);
    expect(report.code).to.equal('EPERM');
    expect(report.errno).to.equal(1);
    expect(report.syscall).to.match(/TUNSETIFF/);
    expect(report.message).to.match(/EPERM/);
    expect(report.elapsedMs, 'milliseconds until the rejection').to.be.below(1000);
    console.log(`      EPERM after ${report.elapsedMs.toFixed(2)} ms: ${report.message}`);
    expect(ipLink('priv0'), 'no interface was made').to.equal(undefined);
  });

  it('(control) the same child with the capability opens the device', function () {
    const report = runChild([], 'priv1');
    expect(report.netAdminEffective).to.equal(true);
    expect(report, JSON.stringify(report)).to.include({ outcome: 'opened', name: 'priv1' });
    expect(ipLink('priv1'), 'the child closed it on its way out').to.equal(undefined);
  });
});
