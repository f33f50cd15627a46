// open() creates or refuses, atomically. A plain TUNSETIFF attaches to an
// existing TUN of the same name, so two creators racing for one name could
// both "succeed" on a single device; the binding asks the kernel for an
// exclusive create (IFF_TUN_EXCL) instead. Two opens of one name at once,
// on two threadpool workers: exactly one creates it, the other gets EEXIST.

import { expect } from 'chai';
import { describeKernel } from '../helpers/netns.js';
import { ip, ipJson, ipLinks } from '../helpers/iproute.js';
import { loadNativeBinding } from '../helpers/native-binding.js';
import type { TunBinding, TunDevice } from '../../src/binding/contract/types.js';

const NAME = 'excl0';
const ROUNDS = 100;

describeKernel('native binding: open() of a name is an exclusive create', function () {
  let binding: TunBinding;

  before(async function () {
    binding = await loadNativeBinding();
  });

  it(`two opens of one name at once, ${ROUNDS} times: one device, the other EEXIST, never both`, async function () {
    this.timeout(60_000);
    let refused = 0;
    for (let round = 0; round < ROUNDS; round++) {
      // Multi-queue: a plain TUNSETIFF would attach the second open as another queue.
      const results = await Promise.allSettled([
        binding.open({ name: NAME, multiQueue: true }),
        binding.open({ name: NAME, multiQueue: true }),
      ]);
      const opened = results.filter((r): r is PromiseFulfilledResult<TunDevice> => r.status === 'fulfilled').map((r) => r.value);
      const errors = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason as { code?: string });
      try {
        expect(opened.length, `round ${round}: opens that succeeded`).to.equal(1);
        expect(errors.map((e) => e.code)).to.deep.equal(['EEXIST']);
        expect(ipLinks().filter((link) => link.ifname === NAME).length).to.equal(1);
      } finally {
        // Two "successes" would be two fds on one link: delete it once.
        for (const ifindex of new Set(opened.map((device) => device.ifindex))) await binding.deleteLink(ifindex);
        for (const device of opened) device.close();
      }
      refused += errors.length;
    }
    expect(refused).to.equal(ROUNDS);
  });

  it('refuses a name held by a device that is not a TUN (a veth), and leaves it alone', async function () {
    ip('link', 'add', NAME, 'type', 'veth', 'peer', 'name', `${NAME}p`);
    try {
      const error = await binding.open({ name: NAME }).then(() => undefined, (e: unknown) => e as { code?: string; message?: string });
      expect(error?.code).to.equal('EEXIST');
      expect(error?.message).to.include(NAME);
      const [link] = ipJson<{ linkinfo?: { info_kind?: string } }[]>('-d', 'link', 'show', 'dev', NAME);
      expect(link?.linkinfo?.info_kind).to.equal('veth');
    } finally {
      ip('link', 'del', NAME);
    }
  });
});
