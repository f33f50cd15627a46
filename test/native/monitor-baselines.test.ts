// Monitors made back to back share one socket, and a socket runs one address
// dump at a time (a second one is refused with EBUSY while the first is still
// unread). Each monitor must still get its address baseline: an address that
// was there before it is not "added" when the kernel announces it again.

import { expect } from 'chai';
import { describeKernel } from '../helpers/netns.js';
import { ip } from '../helpers/iproute.js';
import { loadNativeBinding } from '../helpers/native-binding.js';
import { eventually, sleep } from '../helpers/wait.js';
import type { LinkEvent, LinkMonitor, TunBinding, TunDevice } from '../../src/binding/contract/types.js';

describeKernel('native binding: address baselines of monitors made together', function () {
  it('three monitors of three configured links made in one tick: re-announced addresses are no news to any', async function () {
    const binding: TunBinding = await loadNativeBinding();
    const devices: TunDevice[] = [];
    const monitors: LinkMonitor[] = [];
    try {
      const logs: LinkEvent[][] = [];
      for (let i = 0; i < 3; i++) {
        const device = await binding.open({ name: `mb${process.pid % 1000}x${i}` });
        devices.push(device);
        ip('link', 'set', 'dev', device.name, 'up');
        ip('addr', 'add', `10.218.${i}.1/24`, 'dev', device.name);
        ip('addr', 'add', `fd00:218:${i}::1/64`, 'dev', device.name);
      }
      // Back to back: the first monitor's address dump is still unread when the next one asks for its own.
      for (const device of devices) {
        const log: LinkEvent[] = [];
        logs.push(log);
        monitors.push(binding.monitor(device.ifindex, (e) => log.push(e)));
      }
      devices.forEach((device, i) => {
        ip('addr', 'change', `10.218.${i}.1/24`, 'dev', device.name, 'valid_lft', '3000', 'preferred_lft', '2000');
        ip('addr', 'change', `fd00:218:${i}::1/64`, 'dev', device.name, 'valid_lft', '3000', 'preferred_lft', '2000');
        ip('addr', 'add', `10.218.${i}.2/24`, 'dev', device.name);
      });
      const heard = await eventually(() => logs.every((log) => log.some((e) => e.type === 'address-added')), 3000, 10);
      expect(heard, 'every monitor heard its new address').to.equal(true);
      await sleep(100);
      logs.forEach((log, i) => {
        const added = log.flatMap((e) => (e.type === 'address-added' ? [e.address.cidr] : []));
        expect(added, devices[i]!.name).to.deep.equal([`10.218.${i}.2/24`]);
      });
    } finally {
      for (const monitor of monitors) monitor.close();
      for (const device of devices) device.close();
    }
  });
});
