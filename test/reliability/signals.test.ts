// Signals and crashes, in child processes that own a real interface:
//  - SIGINT / SIGTERM / SIGHUP with handleSignals: cleanup runs (a persistent
//    interface, which only cleanup deletes, is gone), within the deadline, and
//    the process then ends the conventional way (status 130 / 143 / 129);
//  - a second signal while cleanup is stuck: immediate exit, 128 + signal;
//  - SIGKILL: the kernel removes a non-persistent interface; a persistent
//    tagged one stays and the next start reclaims it;
//  - an uncaught exception in user code: teardown on exit, nothing left.

import { expect } from 'chai';
import { fileURLToPath } from 'node:url';
import { describeKernel } from '../helpers/netns.js';
import { ipLink } from '../helpers/iproute.js';
import { loadNativeBinding } from '../helpers/native-binding.js';
import { createAdapter } from '../../src/index.js';
import { Child } from './child.js';
import { recordResult } from './results.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/reliability-signal-child.js', import.meta.url));
const CONVENTIONAL = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 } as const;
const CLEANUP_TIMEOUT = 5000;

let tried = 0;
let held = 0;
let leaks = 0;

function gone(name: string): boolean {
  const left = ipLink(name) === undefined;
  if (!left) leaks++;
  return left;
}

describeKernel('reliability: signals and crashes in child processes', function () {
  this.timeout(30_000);
  after(() => recordResult('signals', {
    tried, held, leaks, notes: 'SIGINT/SIGTERM/SIGHUP cleanup + exit status, second signal, SIGKILL (plain and persistent + reclaim), uncaught exception',
  }));

  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    it(`${signal} with handleSignals: cleanup within the deadline (persistent interface deleted), exit status ${CONVENTIONAL[signal]}`, async () => {
      tried++;
      const name = `sig${signal.slice(3, 6).toLowerCase()}0`;
      const child = new Child(FIXTURE, [JSON.stringify({ name, persist: true, handleSignals: true, cleanupTimeout: CLEANUP_TIMEOUT })]);
      await child.waitFor(/^ready /);
      expect(ipLink(name), 'made by the child').to.not.equal(undefined);
      const sent = Date.now();
      child.kill(signal);
      const exit = await child.exited;
      const took = Date.now() - sent;
      expect(exit.stdout, exit.stderr).to.include.members(['state stopping', 'state stopped']);
      expect(exit.status, `code ${exit.code} signal ${exit.signal}`).to.equal(CONVENTIONAL[signal]);
      expect(took).to.be.lessThan(CLEANUP_TIMEOUT);
      expect(gone(name), 'the persistent interface was deleted by cleanup').to.equal(true);
      held++;
    });
  }

  it('a second signal while cleanup is stuck exits at once with 128 + signal; exit teardown still closes the fds', async () => {
    tried++;
    const name = 'sigtwice0';
    const child = new Child(FIXTURE, [JSON.stringify({ name, handleSignals: true, hangCleanup: true, cleanupTimeout: 20_000 })]);
    await child.waitFor(/^ready /);
    child.kill('SIGTERM');
    await child.waitFor(/^state stopping$/);
    const second = Date.now();
    child.kill('SIGINT');
    const exit = await child.exited;
    expect(Date.now() - second, 'immediate').to.be.lessThan(2000);
    expect(exit.code, exit.stderr).to.equal(130);
    expect(exit.stdout).to.not.include('state stopped');
    expect(gone(name), 'non-persistent: gone with its fds').to.equal(true);
    held++;
  });

  it('SIGKILL: a non-persistent interface is gone (the kernel closes its fds)', async () => {
    tried++;
    const name = 'sigkill0';
    const child = new Child(FIXTURE, [JSON.stringify({ name, handleSignals: true })]);
    await child.waitFor(/^ready /);
    child.kill('SIGKILL');
    const exit = await child.exited;
    expect(exit.signal).to.equal('SIGKILL');
    expect(gone(name)).to.equal(true);
    held++;
  });

  it('SIGKILL: a persistent tagged interface stays, and the next start reclaims it', async () => {
    tried++;
    const name = 'sigkillp0';
    const child = new Child(FIXTURE, [JSON.stringify({ name, persist: true, handleSignals: true })]);
    const ready = await child.waitFor(/^ready /);
    const childIndex = Number(ready.split(' ')[1]);
    child.kill('SIGKILL');
    await child.exited;
    const leftover = ipLink(name);
    expect(leftover, 'a persistent interface outlives SIGKILL').to.not.equal(undefined);
    expect(leftover!.ifindex).to.equal(childIndex);
    expect(leftover!.ifalias).to.equal(`tun-lifecycle:${child.process.pid}`);
    const adapter = await createAdapter(name, { binding: await loadNativeBinding(), persist: true });
    expect(adapter.ifindex, 'reclaimed and made afresh').to.not.equal(childIndex);
    await adapter.cleanup();
    expect(gone(name)).to.equal(true);
    held++;
  });

  it('an uncaught exception in user code with handleSignals: the process dies (status 1), teardown on exit, nothing left', async () => {
    tried++;
    const name = 'crash0';
    const child = new Child(FIXTURE, [JSON.stringify({ name, handleSignals: true, throwAfterReady: true })]);
    await child.waitFor(/^ready /);
    const exit = await child.exited;
    expect(exit.code).to.equal(1);
    expect(exit.stderr).to.include('a bug in user code');
    expect(gone(name)).to.equal(true);
    held++;
  });
});
