// Interleaved calls: state changes go only through the actor, so concurrent
// cleanup()s share one run, writes during stopping are refused, cleanup()
// during initializing never leaks, many adapters coexist, and the adapter
// works in a worker thread.

import { expect } from 'chai';
import { Worker } from 'node:worker_threads';
import { InterfaceNotReadyError, TunAdapter, createAdapter } from '../../src/index.js';
import { SimulatedBinding } from '../../src/testing.js';
import { adapterGroup } from '../../src/lifecycle/ownership.js';

import { expectNothingLeft, tunLinks } from '../helpers/leftovers.js';
import { textPacket } from '../helpers/packets.js';

describe('adapter concurrency', () => {
  let binding: SimulatedBinding;
  beforeEach(() => { binding = new SimulatedBinding(); });

  it('ten cleanup() calls at once share one promise and one cleanup run', async () => {
    const iface = await createAdapter('tun0', { binding, addresses: ['10.0.0.1/24'] });
    const before = binding.faults.calls('deleteAddress');
    const calls = Array.from({ length: 10 }, () => iface.cleanup());
    expect(new Set(calls).size).to.equal(1);
    await Promise.all(calls);
    expect(iface.state).to.equal('stopped');
    expect(binding.faults.calls('deleteAddress') - before, 'one cleanup run').to.equal(1);
    expect((await iface.stats()).cleanups).to.equal(1);
    expectNothingLeft(binding);
  });

  it('write() during stopping throws InterfaceNotReadyError naming the state', async () => {
    const iface = await createAdapter('tun0', { binding, addresses: ['10.0.0.1/24'] });
    const release = binding.faults.hang('setUp');
    const cleanup = iface.cleanup();
    expect(iface.state).to.equal('stopping');
    expect(() => iface.write(textPacket())).to.throw(InterfaceNotReadyError, /state stopping/);
    expect(iface.cleanup(), 'same promise while stopping').to.equal(cleanup);
    release();
    await cleanup;
    expectNothingLeft(binding);
  });

  it('cleanup() during an attempt in flight waits for it, then leaves nothing; start() rejects with AbortError', async () => {
    const release = binding.faults.hang('addAddress');
    const iface = new TunAdapter('tun0', { binding, addresses: ['10.0.0.1/24'] });
    const start = iface.start();
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(binding.world.openFds(), 'the attempt holds the device').to.have.length(1);
    const cleanup = iface.cleanup();
    expect(iface.state, 'waits for the attempt in flight').to.equal('initializing');
    release();
    await cleanup;
    const error = await start.then(() => undefined, (e: unknown) => e);
    expect(error).to.have.property('name', 'AbortError');
    expect(iface.state).to.equal('stopped');
    expect(binding.faults.calls('open'), 'no further attempt').to.equal(1);
    expectNothingLeft(binding);
  });

  it('cleanup() during backoff stops retrying at once', async () => {
    binding.faults.fail('open', 'EBUSY', 1);
    const iface = new TunAdapter('tun0', { binding, retryDelay: 60_000 });
    const start = iface.start();
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(iface.actor.getSnapshot().matches({ initializing: 'backoff' })).to.equal(true);
    const began = Date.now();
    await iface.cleanup();
    expect(Date.now() - began).to.be.lessThan(1000);
    await start.catch(() => undefined);
    expect(binding.faults.calls('open')).to.equal(1);
    expectNothingLeft(binding);
  });

  it('100 adapters at once: all ready with distinct interfaces, all cleaned up', async () => {
    const adapters = await Promise.all(Array.from({ length: 100 }, (_, i) =>
      createAdapter(`tun${i}`, { binding, addresses: [`10.${i}.0.1/24`], routes: [`10.${100 + i}.0.0/16`] })));
    expect(adapters.every((a) => a.state === 'ready')).to.equal(true);
    expect(new Set(adapters.map((a) => a.ifindex)).size).to.equal(100);
    expect(tunLinks(binding)).to.have.length(100);
    expect(binding.world.openFds()).to.have.length(100);
    await Promise.all(adapters.map((a) => a.cleanup()));
    expect(adapters.every((a) => a.state === 'stopped')).to.equal(true);
    expectNothingLeft(binding);
  });

  describe('coalesced teardown', () => {
    const many = (binding: SimulatedBinding, n: number) => Promise.all(Array.from({ length: n }, (_, i) =>
      createAdapter(`b${i}`, { binding, addresses: [`10.${i}.0.1/24`], routes: [`10.${100 + i}.0.0/16`] })));

    it('a lone cleanup takes every step itself and no group request', async () => {
      const [iface] = await many(binding, 1);
      await iface!.cleanup();
      expect(binding.faults.calls('deleteLinkGroup')).to.equal(0);
      expect(binding.faults.calls('deleteAddress')).to.equal(1);
      expect(binding.faults.calls('deleteRoute')).to.equal(1);
      expectNothingLeft(binding);
    });

    it('concurrent cleanups share one group deletion; each adapter still verifies and stops', async () => {
      const adapters = await many(binding, 50);
      const setUpBefore = binding.faults.calls('setUp');
      await Promise.all(adapters.map((a) => a.cleanup()));
      expect(binding.faults.calls('deleteLinkGroup')).to.equal(1);
      expect(binding.faults.calls('setUp') - setUpBefore, 'link down left to the group deletion').to.equal(0);
      expect(binding.faults.calls('deleteLink')).to.equal(0);
      expect(adapters.every((a) => a.state === 'stopped')).to.equal(true);
      expectNothingLeft(binding);
    });

    it('the group request failing sends every member down the ordinary path: nothing left', async () => {
      const adapters = await many(binding, 10);
      binding.faults.fail('deleteLinkGroup', 'ENOBUFS', 1);
      await Promise.all(adapters.map((a) => a.cleanup()));
      expect(binding.faults.calls('deleteLinkGroup')).to.equal(1);
      expect(adapters.every((a) => a.state === 'stopped')).to.equal(true);
      expectNothingLeft(binding);
    });

    it('a member whose group tag fails is released alone', async () => {
      const [keep, ...adapters] = await many(binding, 11);
      binding.faults.fail('setGroup', 'EBUSY', 1);
      const before = binding.faults.calls('setGroup');
      await Promise.all(adapters.map((a) => a.cleanup()));
      expect(binding.faults.calls('setGroup') - before, 'each member tagged for a fresh group').to.equal(10);
      expect(binding.faults.calls('deleteLinkGroup')).to.equal(1);
      expect(adapters.every((a) => a.state === 'stopped')).to.equal(true);
      expect(tunLinks(binding).map((l) => l.name)).to.deep.equal([keep!.name]);
      await keep!.cleanup();
      expectNothingLeft(binding);
    });

    it('persistent members: fds closed before the group deletion, links gone after', async () => {
      const adapters = await Promise.all(Array.from({ length: 5 }, (_, i) => createAdapter(`p${i}`, { binding, persist: true })));
      const realDelete = binding.deleteLinkGroup.bind(binding);
      let fdsAtDeletion = -1;
      binding.deleteLinkGroup = async (group: number) => {
        fdsAtDeletion = binding.world.openFds().length;
        await realDelete(group);
      };
      await Promise.all(adapters.map((a) => a.cleanup()));
      expect(fdsAtDeletion).to.equal(0);
      expectNothingLeft(binding);
    });

    it('cleaning up every adapter deletes the adapter group as it is: no per-link tagging', async () => {
      const adapters = await many(binding, 20);
      const setGroupBefore = binding.faults.calls('setGroup');
      const groups: number[] = [];
      const realDelete = binding.deleteLinkGroup.bind(binding);
      binding.deleteLinkGroup = async (group: number) => { groups.push(group); await realDelete(group); };
      await Promise.all(adapters.map((a) => a.cleanup()));
      expect(binding.faults.calls('setGroup') - setGroupBefore).to.equal(0);
      expect(groups).to.deep.equal([adapterGroup()]);
      expectNothingLeft(binding);
    });

    it('an adapter not cleaning up keeps its link: the batch moves to a fresh group', async () => {
      const adapters = await many(binding, 6);
      const [keep, ...rest] = adapters;
      const groups: number[] = [];
      const realDelete = binding.deleteLinkGroup.bind(binding);
      binding.deleteLinkGroup = async (group: number) => { groups.push(group); await realDelete(group); };
      await Promise.all(rest.map((a) => a.cleanup()));
      expect(groups).to.have.length(1);
      expect(groups[0]).to.not.equal(adapterGroup());
      expect(keep!.state).to.equal('ready');
      expect(tunLinks(binding).map((l) => l.name)).to.deep.equal([keep!.name]);
      await keep!.cleanup();
      expectNothingLeft(binding);
    });

    it('never deletes a group holding a link that is not ours', async () => {
      const foreign = await binding.open({ name: 'foreign0', persist: true });
      foreign.close();
      const foreignIndex = binding.world.link('foreign0')!.ifindex;
      // A foreign link in our adapter group: the group cannot go whole.
      await binding.setGroup(foreignIndex, adapterGroup());
      const adapters = await many(binding, 5);
      // ...and one that slips into the fresh batch group too: no group deletion at all.
      const realSetGroup = binding.setGroup.bind(binding);
      let joined = false;
      binding.setGroup = async (ifindex: number, group: number) => {
        await realSetGroup(ifindex, group);
        if (!joined) {
          joined = true;
          await realSetGroup(foreignIndex, group);
        }
      };
      await Promise.all(adapters.map((a) => a.cleanup()));
      expect(binding.faults.calls('deleteLinkGroup')).to.equal(0);
      expect(binding.world.link('foreign0')?.ifindex, 'the foreign link survives').to.equal(foreignIndex);
      expect(adapters.every((a) => a.state === 'stopped')).to.equal(true);
      expect(tunLinks(binding).map((l) => l.name)).to.deep.equal(['foreign0']);
      expect(binding.world.openFds()).to.deep.equal([]);
    });
  });

  it('works inside a worker thread', async () => {
    const index = new URL('../../src/index.js', import.meta.url).href;
    const testing = new URL('../../src/testing.js', import.meta.url).href;
    const source = `
      const { parentPort } = await import('node:worker_threads');
      const { createAdapter } = await import(${JSON.stringify(index)});
      const { SimulatedBinding } = await import(${JSON.stringify(testing)});
      const binding = new SimulatedBinding();
      const iface = await createAdapter('wtun0', { binding, addresses: ['10.0.0.1/24'] });
      const ready = iface.state;
      await iface.cleanup();
      parentPort.postMessage({ ready, stopped: iface.state, links: binding.world.links().length, fds: binding.world.openFds().length });
    `;
    const worker = new Worker(`import(${JSON.stringify(`data:text/javascript,${encodeURIComponent(source)}`)})`, { eval: true });
    const message = await new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    await worker.terminate();
    expect(message).to.deep.equal({ ready: 'ready', stopped: 'stopped', links: 1, fds: 0 });
  });
});
