// The ownership rules every module reads: our tag, who owns a tagged link,
// and the groups that let one request delete many links.

import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { TAG_PREFIX, adapterGroup, batchGroup, ownTag, readTag } from '../../src/lifecycle/ownership.js';

describe('ownership', () => {
  it('ownTag(): the prefix and this process', () => {
    expect(ownTag()).to.equal(`tun-lifecycle:${process.pid}`);
    expect(ownTag().startsWith(TAG_PREFIX)).to.equal(true);
  });

  it('readTag(): an untagged alias belongs to someone else', () => {
    expect(readTag('')).to.deep.equal({ tagged: false, pid: undefined, ownerAlive: false });
    expect(readTag('uplink')).to.deep.equal({ tagged: false, pid: undefined, ownerAlive: false });
  });

  it('readTag(): a tag without a valid pid is ours but has no owner to ask', () => {
    for (const alias of [`${TAG_PREFIX}`, `${TAG_PREFIX}abc`, `${TAG_PREFIX}-3`, `${TAG_PREFIX}1.5`]) {
      expect(readTag(alias), alias).to.deep.equal({ tagged: true, pid: undefined, ownerAlive: false });
    }
  });

  it('readTag(): our own tag has a live owner; a finished process does not', () => {
    expect(readTag(ownTag())).to.deep.equal({ tagged: true, pid: process.pid, ownerAlive: true });
    const child = spawnSync(process.execPath, ['-e', '']);
    expect(child.pid).to.be.a('number');
    expect(readTag(`${TAG_PREFIX}${child.pid}`)).to.deep.equal({ tagged: true, pid: child.pid, ownerAlive: false });
  });

  it('adapterGroup() has the high bit set; batch groups never do, and differ by counter', () => {
    expect(adapterGroup() >>> 31).to.equal(1);
    expect(adapterGroup() & 0x7fffffff).to.equal(process.pid & 0x7fffffff);
    const groups = [1, 2, 0xffff].map(batchGroup);
    for (const group of groups) {
      expect(group >>> 26, group.toString(16)).to.equal(0x6c000000 >>> 26);
      expect((group >>> 16) & 0x3ff).to.equal(process.pid & 0x3ff);
      expect(group).to.not.equal(adapterGroup());
    }
    expect(new Set(groups).size).to.equal(3);
  });
});
