// Addresses: IPv4 and IPv6 on one interface, the kernel link-local, duplicate and absent ones.

import { expect } from 'chai';
import { rejectionOf } from '../helpers/rejection.js';
import { world, binding, open, keys, withoutLinkLocal } from './context.js';

export function addressesContract(): void {
  describe('addresses', () => {
    const v4 = ['10.61.0.1/24', '10.61.0.2/24', '10.62.0.1/16'];
    const v6 = ['fd61::1/64', 'fd61::2/64', 'fd62:1::1/48'];

    it('several IPv4 and IPv6 addresses per interface; the world agrees; delete works', async () => {
      const device = await open();
      await binding.setUp(device.ifindex, true);
      for (const cidr of [...v4, ...v6]) await binding.addAddress(device.ifindex, cidr);
      const expected = [...v4, ...v6].map((cidr) => {
        const [address, prefix] = cidr.split('/');
        return { family: (address!.includes(':') ? 6 : 4) as 4 | 6, address: address!, prefixLength: Number(prefix) };
      });
      const listed = await binding.listAddresses(device.ifindex);
      expect(keys(withoutLinkLocal(listed))).to.deep.equal(keys(expected));
      expect(keys(world.observer.addresses(device.name))).to.deep.equal(keys(expected));
      for (const a of listed) expect(a.cidr).to.equal(`${a.address}/${a.prefixLength}`);

      await binding.deleteAddress(device.ifindex, '10.61.0.2/24');
      await binding.deleteAddress(device.ifindex, 'fd61::2/64');
      const remaining = expected.filter((a) => a.address !== '10.61.0.2' && a.address !== 'fd61::2');
      expect(keys(withoutLinkLocal(await binding.listAddresses(device.ifindex)))).to.deep.equal(keys(remaining));
      expect(keys(world.observer.addresses(device.name))).to.deep.equal(keys(remaining));
    });

    it('link-up adds the kernel fe80:: link-local (listed); link-down drops every IPv6 address and keeps IPv4', async () => {
      const device = await open();
      await binding.addAddress(device.ifindex, '10.65.0.1/24');
      await binding.addAddress(device.ifindex, 'fd65::1/64');
      await binding.setUp(device.ifindex, true);
      const up = await binding.listAddresses(device.ifindex);
      expect(up.filter((a) => a.family === 6 && a.address.startsWith('fe80:') && a.prefixLength === 64)).to.have.length(1);
      expect(keys(world.observer.addresses(device.name))).to.deep.equal(['4 10.65.0.1/24', '6 fd65::1/64']);
      await binding.setUp(device.ifindex, false);
      expect((await binding.listAddresses(device.ifindex)).map((a) => a.cidr)).to.deep.equal(['10.65.0.1/24']);
      expect(keys(world.observer.addresses(device.name))).to.deep.equal(['4 10.65.0.1/24']);
    });

    it('adding an address twice is EEXIST; deleting an absent one is EADDRNOTAVAIL', async () => {
      const device = await open();
      await binding.addAddress(device.ifindex, '10.63.0.1/24');
      await binding.addAddress(device.ifindex, 'fd63::1/64');
      expect((await rejectionOf(binding.addAddress(device.ifindex, '10.63.0.1/24'))).code).to.equal('EEXIST');
      expect((await rejectionOf(binding.addAddress(device.ifindex, 'fd63::1/64'))).code).to.equal('EEXIST');
      expect((await rejectionOf(binding.deleteAddress(device.ifindex, '10.63.9.9/24'))).code).to.equal('EADDRNOTAVAIL');
      expect((await rejectionOf(binding.deleteAddress(device.ifindex, 'fd63::9/64'))).code).to.equal('EADDRNOTAVAIL');
      expect(world.observer.addresses(device.name)).to.have.length(2);
    });

    it('an address added by an admin from outside is listed by the binding', async () => {
      const device = await open();
      world.observer.addAddress(device.name, '10.64.0.1/24');
      expect(keys(await binding.listAddresses(device.ifindex))).to.include('4 10.64.0.1/24');
    });
  });
}
