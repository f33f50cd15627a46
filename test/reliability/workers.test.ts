// worker_threads: four workers each run an adapter on the native binding at
// once, with traffic both ways; one is terminated mid-traffic. The main
// thread must not crash, the terminated worker's interface must be gone (the
// addon's cleanup hook closes its fds), the other three clean up normally,
// and at the end no interface or TUN fd is left.

import { expect } from 'chai';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { describeKernel } from '../helpers/netns.js';
import { ipLink, ipLinks } from '../helpers/iproute.js';
import { tunFdCount } from '../helpers/fds.js';
import { recordResult } from './results.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/reliability-worker.js', import.meta.url));

interface WorkerHandle {
  worker: Worker;
  name: string;
  traffic: { sent: number; received: number };
  messages: Array<{ type: string; [key: string]: unknown }>;
  errors: Error[];
}

function waitFor(handle: WorkerHandle, check: () => boolean, what: string, ms = 10_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + ms;
    const poll = () => {
      if (check()) return resolve();
      if (handle.errors.length > 0) return reject(handle.errors[0]);
      if (Date.now() > deadline) return reject(new Error(`${handle.name}: ${what} not seen; messages: ${JSON.stringify(handle.messages.slice(-3))}`));
      setTimeout(poll, 10);
    };
    poll();
  });
}

describeKernel('reliability: adapters in worker threads', function () {
  this.timeout(30_000);

  it('four workers at once with traffic both ways; one terminated mid-traffic: no crash, no leak', async () => {
    const handles: WorkerHandle[] = [0, 1, 2, 3].map((i) => {
      const name = `wkr${i}`;
      const worker = new Worker(FIXTURE, { workerData: { name, net: `10.248.${i}` } });
      const handle: WorkerHandle = { worker, name, traffic: { sent: 0, received: 0 }, messages: [], errors: [] };
      worker.on('message', (m: { type: string; sent?: number; received?: number }) => {
        handle.messages.push(m);
        if (m.type === 'traffic') handle.traffic = { sent: m.sent!, received: m.received! };
      });
      worker.on('error', (e) => handle.errors.push(e));
      return handle;
    });
    let leaks = 0;
    try {
      for (const h of handles) await waitFor(h, () => h.messages.some((m) => m.type === 'ready'), 'ready');
      for (const h of handles) expect(ipLink(h.name), `${h.name} exists`).to.not.equal(undefined);
      // Traffic both ways in every worker: written packets, and the kernel's replies read back.
      for (const h of handles) await waitFor(h, () => h.traffic.sent > 100 && h.traffic.received > 5, 'traffic both ways');

      const victim = handles[0]!;
      const exitCode = await victim.worker.terminate();
      expect(exitCode).to.equal(1);
      await new Promise((resolve) => setTimeout(resolve, 200));
      const victimLeft = ipLink(victim.name) !== undefined;
      if (victimLeft) leaks++;
      expect(victimLeft, 'the terminated worker\'s interface is gone').to.equal(false);

      for (const h of handles.slice(1)) {
        h.worker.postMessage({ type: 'stop' });
        await waitFor(h, () => h.messages.some((m) => m.type === 'stopped' || m.type === 'cleanup-failed'), 'stopped');
        expect(h.messages.find((m) => m.type === 'cleanup-failed'), 'cleanup in the worker').to.equal(undefined);
        await h.worker.terminate();
      }
      const left = ipLinks().filter((l) => l.ifname.startsWith('wkr')).map((l) => l.ifname);
      leaks += left.length;
      expect(left).to.deep.equal([]);
      expect(tunFdCount(), 'TUN fds').to.equal(0);
      for (const h of handles) expect(h.errors, `${h.name} errors`).to.deep.equal([]);
    } finally {
      for (const h of handles) await h.worker.terminate();
      recordResult('workers', {
        tried: handles.length, held: handles.length - leaks, leaks,
        notes: `4 workers, traffic ${handles.map((h) => `${h.traffic.sent}↑/${h.traffic.received}↓`).join(', ')}; worker 0 terminated mid-traffic`,
      });
    }
  });
});
