// Fault injection is what the lifecycle tests stand on: a rule that fires one
// call too early or too late would make a retry test pass for the wrong reason.

import { expect } from 'chai';
import { SimulatedBinding, TunSystemError } from '../../src/testing.js';
import { rejectionOf } from '../helpers/rejection.js';
import { nextTurn } from '../helpers/wait.js';

/** Settles in a few event-loop turns, or reports that it has not. */
async function settledWithin<T>(promise: Promise<T>, turns = 5): Promise<boolean> {
  let settled = false;
  promise.then(() => { settled = true; }, () => { settled = true; });
  for (let i = 0; i < turns && !settled; i++) await nextTurn();
  return settled;
}

describe('SimulatedBinding fault injection', () => {
  let binding: SimulatedBinding;
  beforeEach(() => {
    binding = new SimulatedBinding();
  });

  it('fail(op, code) makes exactly the next call reject with that errno, then the op works again', async () => {
    binding.faults.fail('open', 'EBUSY');
    const err = await rejectionOf(binding.open({ name: 'flt0' }));
    expect(err.code).to.equal('EBUSY');
    expect(err.errno).to.equal(16);
    expect(err.syscall).to.equal('ioctl(TUNSETIFF)');
    expect(err.interfaceName).to.equal('flt0');
    expect(binding.world.link('flt0'), 'a failed open leaves nothing behind').to.equal(undefined);
    const device = await binding.open({ name: 'flt0' });
    expect(device.name).to.equal('flt0');
    device.close();
  });

  it('fail(op, code, n) fails n calls in a row, and only that op', async () => {
    const device = await binding.open();
    binding.faults.fail('setMtu', 'EAGAIN', 3);
    for (let i = 0; i < 3; i++) expect((await rejectionOf(binding.setMtu(device.ifindex, 1400))).code).to.equal('EAGAIN');
    await binding.setUp(device.ifindex, true); // another op is untouched
    await binding.setMtu(device.ifindex, 1400);
    expect((await binding.getLink(device.ifindex)).mtu).to.equal(1400);
    device.close();
  });

  it('fail(op, code, Infinity) fails until clear(op)', async () => {
    const device = await binding.open();
    binding.faults.fail('addAddress', 'ENOBUFS', Infinity);
    for (let i = 0; i < 20; i++) expect((await rejectionOf(binding.addAddress(device.ifindex, '10.1.0.1/24'))).code).to.equal('ENOBUFS');
    binding.faults.clear('addAddress');
    await binding.addAddress(device.ifindex, '10.1.0.1/24');
    expect(binding.world.link(device.ifindex)!.addresses.map((a) => a.cidr)).to.include('10.1.0.1/24');
    device.close();
  });

  it('clear() without an op forgets every rule', async () => {
    binding.faults.fail('listLinks', 'EIO', Infinity);
    binding.faults.fail('getLink', 'EIO', Infinity);
    binding.faults.clear();
    expect(await binding.listLinks()).to.be.an('array');
    expect((await binding.getLink('lo')).ifindex).to.equal(1);
  });

  it('refuses unknown ops, unknown errno names and bad counts at once', () => {
    expect(() => binding.faults.fail('frobnicate' as never, 'EIO')).to.throw(TypeError, /frobnicate/);
    expect(() => binding.faults.fail('open', 'EWHATEVER')).to.throw(TypeError, /EWHATEVER/);
    expect(() => binding.faults.fail('open', 'EIO', 0)).to.throw(RangeError);
    expect(() => binding.faults.fail('open', 'EIO', 1.5)).to.throw(RangeError);
    expect(() => binding.faults.hang('monitor')).to.throw(TypeError, /synchronous/);
    expect(() => binding.faults.delay('open', -1)).to.throw(RangeError);
  });

  it('hang(op) holds the next call until release(), then it proceeds normally', async () => {
    const release = binding.faults.hang('open');
    const pending = binding.open({ name: 'hang0' });
    expect(await settledWithin(pending, 20)).to.equal(false);
    expect(binding.world.link('hang0'), 'nothing made while hung').to.equal(undefined);
    expect(binding.faults.calls('open'), 'the call did arrive').to.equal(1);
    release();
    const device = await pending;
    expect(device.name).to.equal('hang0');
    expect(binding.world.link('hang0')).to.not.equal(undefined);
    // only the next call hangs
    const second = binding.open({ name: 'hang1' });
    expect(await settledWithin(second)).to.equal(true);
    (await second).close();
    device.close();
  });

  it('a release() that comes before the call lets it straight through; release is idempotent', async () => {
    const release = binding.faults.hang('listLinks');
    release();
    release();
    expect(await settledWithin(binding.listLinks())).to.equal(true);
  });

  it('hang then fail: the held call rejects with the errno once released', async () => {
    const device = await binding.open();
    const release = binding.faults.hang('setUp');
    binding.faults.fail('setUp', 'ETIMEDOUT');
    const pending = binding.setUp(device.ifindex, true);
    expect(await settledWithin(pending)).to.equal(false);
    release();
    expect((await rejectionOf(pending)).code).to.equal('ETIMEDOUT');
    expect(binding.world.link(device.ifindex)!.up).to.equal(false);
    device.close();
  });

  it('clear(op) releases calls held by hang', async () => {
    binding.faults.hang('listLinks');
    const pending = binding.listLinks();
    expect(await settledWithin(pending)).to.equal(false);
    binding.faults.clear('listLinks');
    expect(await settledWithin(pending)).to.equal(true);
  });

  it('delay(op, ms) answers the next call no sooner than ms later (a setTimeout)', async () => {
    binding.faults.delay('getLink', 60);
    const started = performance.now();
    await binding.getLink('lo');
    const elapsed = performance.now() - started;
    expect(elapsed).to.be.at.least(55);
    const again = performance.now();
    await binding.getLink('lo');
    expect(performance.now() - again, 'only the next call is delayed').to.be.below(50);
  });

  it('calls(op) counts calls that reached the simulated kernel; calls() sums them', async () => {
    expect(binding.faults.calls()).to.equal(0);
    await binding.listLinks();
    await binding.listLinks();
    await binding.getLink('lo');
    expect(binding.faults.calls('listLinks')).to.equal(2);
    expect(binding.faults.calls('getLink')).to.equal(1);
    expect(binding.faults.calls()).to.equal(3);
    expect(binding.faults.callCounts()).to.deep.equal({ listLinks: 2, getLink: 1 });
    binding.faults.fail('getLink', 'EIO');
    await rejectionOf(binding.getLink('lo'));
    expect(binding.faults.calls('getLink'), 'a failed call still reached the kernel').to.equal(2);
    binding.openFdCount();
    expect(binding.faults.calls(), 'openFdCount is bookkeeping, not a kernel call').to.equal(4);
    binding.faults.resetCalls();
    expect(binding.faults.calls()).to.equal(0);
  });

  it('calls that fail validation neither count nor consume a fault', async () => {
    binding.faults.fail('setMtu', 'EBUSY');
    await binding.setMtu(1, 'big' as never).then(
      () => expect.fail('accepted a string MTU'),
      (err: Error & { code?: string }) => expect(err.code).to.equal('ERR_INVALID_ARG_TYPE'),
    );
    expect(binding.faults.calls('setMtu')).to.equal(0);
    expect((await rejectionOf(binding.setMtu(1, 1500))).code, 'the fault is still armed').to.equal('EBUSY');
  });

  it('fail applies to monitor(), which throws synchronously', () => {
    binding.faults.fail('monitor', 'EMFILE');
    expect(() => binding.monitor(1, () => {})).to.throw(TunSystemError, /EMFILE/);
    expect(binding.openFdCount(), 'no socket was left open').to.equal(0);
    const monitor = binding.monitor(1, () => {});
    expect(binding.openFdCount()).to.equal(1);
    monitor.close();
  });

  it('a binding built with { privileged: false } gets EPERM for changes and may still read', async () => {
    const unprivileged = new SimulatedBinding({ privileged: false });
    const err = await rejectionOf(unprivileged.open({ name: 'nope0' }));
    expect(err.code).to.equal('EPERM');
    expect(unprivileged.world.link('nope0')).to.equal(undefined);
    expect((await rejectionOf(unprivileged.setUp(1, false))).code).to.equal('EPERM');
    expect(unprivileged.world.link('lo')!.up).to.equal(true);
    expect((await unprivileged.getLink('lo')).name).to.equal('lo');
  });

  it('an unprivileged binding may attach to a persistent TUN it owns, like tun_not_capable allows', async () => {
    const admin = new SimulatedBinding();
    const user = new SimulatedBinding({ kernel: admin.kernel, privileged: false, uid: 4242 });
    const made = await admin.open({ name: 'own0', persist: true, owner: 4242 });
    made.close();
    const attached = await user.open({ name: 'own0', attachExisting: true });
    expect(attached.ifindex).to.equal(made.ifindex);
    attached.close();
    const other = new SimulatedBinding({ kernel: admin.kernel, privileged: false, uid: 7 });
    expect((await rejectionOf(other.open({ name: 'own0', attachExisting: true }))).code).to.equal('EPERM');
    await admin.deleteLink(made.ifindex);
  });
});
