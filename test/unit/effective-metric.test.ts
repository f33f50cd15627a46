// The kernel's metric rule, written once for verification, recovery and the simulated kernel.

import { expect } from 'chai';
import { effectiveMetric } from '../../src/binding/contract/validate.js';

describe('effectiveMetric', () => {
  it('IPv6 metric 0 reads back as the kernel default 1024', () => {
    expect(effectiveMetric(6, 0)).to.equal(1024);
  });

  it('any other metric, and every IPv4 one, reads back as given', () => {
    expect(effectiveMetric(6, 5)).to.equal(5);
    expect(effectiveMetric(4, 0)).to.equal(0);
    expect(effectiveMetric(4, 1024)).to.equal(1024);
  });
});
