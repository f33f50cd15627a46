// Every public error: its stable code and name, a TunError (and an Error),
// the state and interface it names, the cause it carries — built with and
// without options, as a user building one in their own tests would.

import { expect } from 'chai';
import {
  AbortError, CleanupFailedError, CleanupTimeoutError, ConfigurationFailedError, InterfaceFaultError, InterfaceNotReadyError,
  InvalidStateTransitionError, StateMismatchError, TunError,
} from '../../src/index.js';
import type { TunErrorOptions } from '../../src/index.js';

const ERRORS: Array<[name: string, code: string, make: (options?: TunErrorOptions) => TunError, mentions: RegExp]> = [
  ['InvalidStateTransitionError', 'ERR_INVALID_STATE_TRANSITION', (o) => new InvalidStateTransitionError('cleanup', o), /cleanup\(\) is not allowed/],
  ['InterfaceNotReadyError', 'ERR_INTERFACE_NOT_READY', (o) => new InterfaceNotReadyError('write', o), /write\(\) needs state ready/],
  ['CleanupTimeoutError', 'ERR_CLEANUP_TIMEOUT', (o) => new CleanupTimeoutError(250, o), /within 250 ms/],
  ['ConfigurationFailedError', 'ERR_CONFIGURATION_FAILED', (o) => new ConfigurationFailedError(3, o), /after 3 attempts/],
  ['InterfaceFaultError', 'ERR_INTERFACE_FAULT', (o) => new InterfaceFaultError('deleted', o), /interface fault: deleted/],
  ['CleanupFailedError', 'ERR_CLEANUP_FAILED', (o) => new CleanupFailedError(['route 10.1.0.0/16'], o), /cleanup left route 10\.1\.0\.0\/16/],
  ['StateMismatchError', 'ERR_STATE_MISMATCH', (o) => new StateMismatchError(['link is down', 'mtu is 1500, asked 1400'], o), /does not hold .*: link is down; mtu is 1500/],
  ['AbortError', 'ABORT_ERR', (o) => new AbortError(o), /cleanup\(\) was called before the interface became ready/],
];

describe('errors', () => {
  for (const [name, code, make, mentions] of ERRORS) {
    describe(name, () => {
      it('without options: its code and name, a TunError, state unknown, no cause', () => {
        const error = make();
        expect(error).to.be.instanceOf(TunError).and.instanceOf(Error);
        expect(error.code).to.equal(code);
        expect(error.name).to.equal(name);
        expect(error.state).to.equal('unknown');
        expect(error.interfaceName).to.equal(undefined);
        expect(error.cause).to.equal(undefined);
        expect(error.message).to.match(mentions);
        expect(error.message, 'claims no state it was not given').to.not.match(/\(in state/);
      });

      it('with options: the state, the interface and the cause', () => {
        const cause = Object.assign(new Error('EBUSY'), { code: 'EBUSY' });
        const error = make({ state: 'stopping', interfaceName: 'tun7', cause });
        expect(error.code).to.equal(code);
        expect(error.state).to.equal('stopping');
        expect(error.interfaceName).to.equal('tun7');
        expect(error.cause).to.equal(cause);
        expect(error.message).to.match(mentions);
        expect(error.message).to.match(/^tun7: /).and.match(/\(in state stopping\)$/);
        expect(error.stack).to.be.a('string').that.includes(name);
      });
    });
  }

  it('the fields particular to each', () => {
    expect(new InvalidStateTransitionError('start').operation).to.equal('start');
    expect(new InvalidStateTransitionError('start').message).to.equal('start() is not allowed in state unknown');
    expect(new CleanupTimeoutError(250).timeout).to.equal(250);
    expect(new ConfigurationFailedError(1).attempts).to.equal(1);
    expect(new ConfigurationFailedError(1, { state: 'initializing', cause: new Error('EPERM') }).message).to.include(': EPERM');
    expect(new InterfaceFaultError('down').reason).to.equal('down');
    expect(new CleanupFailedError(['open queue fds']).leftovers).to.deep.equal(['open queue fds']);
    expect(new StateMismatchError(['link is down']).differences).to.deep.equal(['link is down']);
  });
});
