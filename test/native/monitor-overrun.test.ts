// A monitor whose socket overruns (the namespace changed faster than it was
// read: the kernel dropped notifications, recv said ENOBUFS) hears ENOBUFS and
// re-syncs: a change whose notification was lost is still reported. (The
// kernel raises EPOLLERR for an overrun, which libuv reports as EBADF: it once
// ended the monitor as a fatal "poll EBADF".)

import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeKernel } from '../helpers/netns.js';
import { ip } from '../helpers/iproute.js';
import { loadNativeBinding } from '../helpers/native-binding.js';
import { eventually, sleep } from '../helpers/wait.js';
import type { LinkEvent, TunBinding, TunDevice } from '../../src/binding/contract/types.js';

describeKernel('native binding: a monitor re-syncs after its socket overran', function () {
  it('ENOBUFS is reported, and the MTU change made while the loop was blocked still arrives', async function () {
    this.timeout(30_000);
    const binding: TunBinding = await loadNativeBinding();
    const devices: TunDevice[] = [];
    const dir = mkdtempSync(join(tmpdir(), 'tunl-overrun-'));
    try {
      const watched = await binding.open({ name: `mo${process.pid % 1000}w` });
      const noisy = await binding.open({ name: `mo${process.pid % 1000}n` });
      devices.push(watched, noisy);
      ip('link', 'set', 'dev', noisy.name, 'up');
      const events: LinkEvent[] = [];
      const errors: Array<Error & { code?: string }> = [];
      const monitor = binding.monitor(watched.ifindex, (e) => events.push(e), (e) => errors.push(e));
      await sleep(50); // its baselines are read
      // Far more notifications than the socket's buffer holds, with the JS thread blocked
      // (execFileSync), then the change that matters: by then the kernel drops what it sends.
      const lines: string[] = [];
      for (let round = 0; round < 40; round++) {
        for (let i = 1; i <= 250; i++) lines.push(`address add 10.219.${round}.${i}/32 dev ${noisy.name}`);
        lines.push(`address flush dev ${noisy.name}`);
      }
      lines.push(`link set dev ${watched.name} mtu 1300`);
      const batch = join(dir, 'batch');
      writeFileSync(batch, `${lines.join('\n')}\n`);
      ip('-batch', batch);
      const heard = await eventually(() => events.some((e) => e.type === 'mtu' && e.mtu === 1300), 5000, 10);
      expect(errors.map((e) => e.code), `the overrun was reported: ${errors.map((e) => e.message).join('; ')}`).to.include('ENOBUFS');
      expect(heard, `the MTU change arrived; events: ${JSON.stringify(events)}`).to.equal(true);
      expect(monitor.closed, 'an overrun is not fatal').to.equal(false);
      monitor.close();
    } finally {
      for (const device of devices) device.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
