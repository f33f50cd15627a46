// Verification asks a reading of the kernel by destination and metric
// (heldRoutes): a destination held with several metrics must answer for each.

import { expect } from 'chai';
import { heldRoutes } from '../../src/binding/contract/route-metric.js';

describe('the routes a reading holds', () => {
  it('answers by destination and metric, several metrics for one destination included', () => {
    const held = heldRoutes([
      { destination: '10.1.0.0/16', metric: 0 }, { destination: '10.1.0.0/16', metric: 5 },
      { destination: 'fd01::/64', metric: 1024 }, { destination: '10.1.0.0/16', metric: 9 },
    ]);
    expect([0, 5, 9].map((m) => held.has('10.1.0.0/16', m))).to.deep.equal([true, true, true]);
    expect(held.has('10.1.0.0/16', 1)).to.equal(false);
    expect(held.has('fd01::/64', 1024)).to.equal(true);
    expect(held.has('fd01::/64', 0)).to.equal(false);
    expect(held.has('10.2.0.0/16', 0)).to.equal(false);
    expect(heldRoutes([]).has('10.1.0.0/16', 0)).to.equal(false);
  });
});
