// The test helpers decide whether kernel tests may run; a wrong answer would
// either touch the host's namespace or silently skip the kernel suite.
import { expect } from 'chai';
import { readlinkSync } from 'node:fs';
import { kernelAvailability } from '../helpers/netns.js';

describe('test harness', () => {
  it('runs kernel tests only in a namespace other than the host\'s', () => {
    const availability = kernelAvailability();
    if (availability.ok) {
      expect(readlinkSync('/proc/self/ns/net')).to.not.equal(process.env.TUN_LIFECYCLE_HOST_NETNS);
      expect(process.env.TUN_LIFECYCLE_NETNS).to.equal('1');
    } else {
      expect(availability.reason).to.be.a('string').and.not.equal('');
    }
  });
});
