// The operation table is the one list of what a TunBinding does: these tests
// hold both bindings, the fault injector, the simulated privilege check and
// the faulty-binding wrapper to it, so a method added to one of them without a
// row (or a row without the method) fails here.

import { expect } from 'chai';
import { BINDING_OPS, BOOKKEEPING, OPERATIONS, type BindingOp } from '../../src/binding/contract/operations.js';
import { NativeBinding } from '../../src/binding/native/binding.js';
import { SimulatedBinding, TunSystemError, withFaults } from '../../src/testing.js';

/** The methods a class's instances have, from its prototype (constructor and private members excluded). */
function methodsOf(prototype: object): string[] {
  return Object.getOwnPropertyNames(prototype).filter((name) => name !== 'constructor').sort();
}

const TABLE_AND_BOOKKEEPING = [...BINDING_OPS, ...BOOKKEEPING].sort();

async function outcome(call: () => unknown): Promise<unknown> {
  try {
    return await call();
  } catch (error) {
    return error;
  }
}

describe('the binding operation table', () => {
  it('has a row for every method of the native binding, and no other', () => {
    expect(methodsOf(NativeBinding.prototype)).to.deep.equal(TABLE_AND_BOOKKEEPING);
  });

  it('has a row for every method of the simulated binding, and no other', () => {
    expect(methodsOf(SimulatedBinding.prototype)).to.deep.equal(TABLE_AND_BOOKKEEPING);
  });

  it('reads need no privilege; only monitor answers synchronously', () => {
    for (const op of BINDING_OPS.filter((name) => /^(get|list)/.test(name))) expect(OPERATIONS[op].privileged, op).to.equal(false);
    expect(BINDING_OPS.filter((op) => OPERATIONS[op].sync)).to.deep.equal(['monitor']);
  });

  it('the fault injector knows exactly the table: sync rows take fail() only, bookkeeping none', () => {
    const binding = new SimulatedBinding();
    for (const op of BINDING_OPS) {
      expect(() => binding.faults.fail(op, 'EIO'), op).not.to.throw();
      if (OPERATIONS[op].sync) expect(() => binding.faults.hang(op), op).to.throw(TypeError, /synchronous/);
      else expect(() => binding.faults.hang(op)(), op).not.to.throw();
    }
    binding.faults.clear();
    for (const name of BOOKKEEPING) {
      expect(() => binding.faults.fail(name as unknown as BindingOp, 'EIO'), name).to.throw(TypeError, /unknown binding operation/);
    }
  });

  it('an injected fault names the syscall of the row', async () => {
    const binding = new SimulatedBinding();
    const device = await binding.open({ name: 'ops0' });
    for (const op of BINDING_OPS) {
      binding.faults.fail(op, 'EIO');
      const error = await outcome(() => (binding[op] as (...a: unknown[]) => unknown).apply(binding, argsFor(op, device.ifindex)));
      expect(error, op).to.be.instanceOf(TunSystemError);
      expect((error as TunSystemError).syscall, op).to.equal(OPERATIONS[op].syscall);
    }
    device.close();
  });

  it('the unprivileged simulated binding refuses exactly the privileged rows with EPERM, at entry', async () => {
    const admin = new SimulatedBinding();
    const user = new SimulatedBinding({ kernel: admin.kernel, privileged: false });
    const device = await admin.open({ name: 'ops1' });
    await admin.setGroup(device.ifindex, 77);
    await admin.setUp(device.ifindex, true);
    for (const op of BINDING_OPS) {
      const result = await outcome(() => (user[op] as (...a: unknown[]) => unknown).apply(user, argsFor(op, device.ifindex)));
      // configure is refused as its first step (the error carries `step`), not as itself.
      const refused = result instanceof TunSystemError && result.code === 'EPERM' && !('step' in result);
      expect(refused, `${op}: ${String(result)}`).to.equal(OPERATIONS[op].privileged);
      if (op === 'configure') expect(result, 'configure, refused at its step').to.include({ code: 'EPERM', step: 0 });
      if (refused) expect((result as TunSystemError).syscall, op).to.equal(OPERATIONS[op].syscall);
      if (!refused && op === 'monitor') (result as { close(): void }).close();
    }
    expect(admin.world.link('ops1'), 'nothing the user tried changed the link').to.include({ up: true, mtu: 1500 });
    device.close();
  });

  it('the faulty-binding wrapper has every row and faults each one before the inner binding sees it', async () => {
    const inner = new SimulatedBinding();
    const wrapped = withFaults(inner);
    expect(Object.keys(wrapped).filter((key) => !['kind', 'faults', 'inner'].includes(key)).sort())
      .to.deep.equal(TABLE_AND_BOOKKEEPING);
    for (const op of BINDING_OPS) {
      // configure stands for its plan's single requests, not for itself.
      const armed: BindingOp = op === 'configure' ? 'setMtu' : op;
      wrapped.faults.fail(armed, 'EIO');
      const error = await outcome(() => (wrapped[op] as (...a: unknown[]) => unknown).apply(wrapped, argsFor(op, 1)));
      expect((error as TunSystemError).code, op).to.equal('EIO');
      expect(inner.faults.calls(), `${op} reached the inner binding`).to.equal(0);
    }
  });
});

/** Valid arguments for each operation against link `ifindex` (group 77, up). */
function argsFor(op: BindingOp, ifindex: number): unknown[] {
  const route = { destination: '10.9.0.0/16' };
  const samples: Record<BindingOp, unknown[]> = {
    open: [{ name: 'ops9' }],
    getLink: [ifindex],
    listLinks: [],
    setMtu: [ifindex, 1400],
    setUp: [ifindex, false],
    setAlias: [ifindex, 'ops'],
    setGroup: [ifindex, 5],
    addAddress: [ifindex, '10.9.0.1/24'],
    deleteAddress: [ifindex, '10.9.0.1/24'],
    listAddresses: [ifindex],
    addRoute: [ifindex, route],
    deleteRoute: [ifindex, route],
    listRoutes: [ifindex],
    deleteLink: [ifindex],
    deleteLinkGroup: [77],
    configure: [ifindex, { mtu: 1400 }],
    monitor: [ifindex, () => {}],
    namespace: ['ops-ns'],
  };
  return samples[op];
}
