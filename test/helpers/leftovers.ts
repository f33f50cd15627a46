// What an adapter over the simulated binding may leave behind: nothing. The
// simulation's own ground truth (its world), not the adapter's account.

import { expect } from 'chai';
import type { SimulatedBinding } from '../../src/testing.js';

/** The simulated kernel's links other than loopback. */
export const tunLinks = (binding: SimulatedBinding) => binding.world.links().filter((link) => link.kind !== 'loopback');

export function expectNothingLeft(binding: SimulatedBinding): void {
  expect(tunLinks(binding).map((l) => l.name), 'links left').to.deep.equal([]);
  expect(binding.world.openFds(), 'fds left').to.deep.equal([]);
}
