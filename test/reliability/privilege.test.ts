// Without privilege: a child with CAP_NET_ADMIN removed from its bounding and
// inheritable sets (setpriv) gets a clear ConfigurationFailedError whose cause
// is EPERM, at once: a permanent errno is not retried (one open, no backoff).

import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describeKernel } from '../helpers/netns.js';
import { ipLink } from '../helpers/iproute.js';
import { WITHOUT_NET_ADMIN } from '../helpers/privilege.js';
import { recordResult } from './results.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/reliability-unprivileged-child.js', import.meta.url));

describeKernel('reliability: without CAP_NET_ADMIN', function () {
  this.timeout(20_000);

  it('ConfigurationFailedError, cause EPERM, one attempt, no backoff, nothing made', () => {
    const [setpriv, ...drop] = WITHOUT_NET_ADMIN;
    const out = execFileSync(setpriv!, [...drop, process.execPath, FIXTURE, 'noperm0'], {
      encoding: 'utf8',
    });
    const result = JSON.parse(out.trim().split('\n').at(-1)!) as Record<string, unknown>;
    recordResult('privilege', {
      tried: 1, held: result.causeCode === 'EPERM' && result.attempts === 1 ? 1 : 0, leaks: ipLink('noperm0') ? 1 : 0,
      notes: `${String(result.name)} cause ${String(result.causeCode)} after ${String(result.attempts)} attempt(s), ${String(result.elapsedMs)} ms`,
    });
    expect(result.ok, JSON.stringify(result)).to.equal(false);
    expect(result.name).to.equal('ConfigurationFailedError');
    expect(result.code).to.equal('ERR_CONFIGURATION_FAILED');
    expect(result.causeCode).to.equal('EPERM');
    expect(result.attempts, 'a permanent errno is not retried').to.equal(1);
    expect(result.opens).to.equal(1);
    expect(result.elapsedMs as number, 'immediately: no 1 s backoff').to.be.lessThan(900);
    expect(String(result.message)).to.match(/EPERM|not permitted/i);
    expect(ipLink('noperm0')).to.equal(undefined);
  });
});
