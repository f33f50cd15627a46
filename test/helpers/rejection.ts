// The error a binding call rejects with, asserted to be a TunSystemError (the
// kernel's answer, errno-coded), so a test can go on to check its fields.

import { expect } from 'chai';
import { TunSystemError } from '../../src/binding/contract/system-error.js';

export async function rejectionOf(promise: Promise<unknown>): Promise<TunSystemError> {
  try {
    await promise;
  } catch (err) {
    expect(err, String(err)).to.be.instanceOf(TunSystemError);
    return err as TunSystemError;
  }
  expect.fail('expected a rejection');
}
