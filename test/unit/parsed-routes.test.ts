// A plan's route list handed over with its parsed form (withParsedRoutes, as
// reconfigure does) must give exactly the steps parsing it would, and only a
// parsed form that agrees with its frozen specs is taken.

import { expect } from 'chai';
import { planSteps, withParsedRoutes } from '../../src/binding/contract/link-plan.js';
import { keyedRoutes } from '../../src/binding/contract/route-metric.js';
import { normalizeRoute } from '../../src/binding/contract/validate.js';

const desired = [normalizeRoute('10.1.0.0/16'), normalizeRoute({ destination: 'fd01::/64' }), normalizeRoute({ destination: '10.2.0.0/16', metric: 7 })];

describe('route lists with their parsed form', () => {
  it('give the steps parsing the same specs gives (IPv6 metric 0 as the kernel holds it: 1024)', () => {
    const keyed = keyedRoutes(desired);
    const specs = keyed.map((k) => k.route);
    const handed = planSteps({ routes: withParsedRoutes([...specs], keyed.map((k) => k.parsed)), removeRoutes: withParsedRoutes([...specs], keyed.map((k) => k.parsed)) });
    const parsed = planSteps({ routes: specs.map((s) => ({ ...s })), removeRoutes: specs.map((s) => ({ ...s })) });
    expect(handed).to.deep.equal(parsed);
    expect(handed.map((s) => s.kind === 'route' && s.route.metric)).to.deep.equal([0, 1024, 7, 0, 1024, 7]);
  });

  it('freeze the list, and refuse a parsed form that disagrees or specs that could change', () => {
    const keyed = keyedRoutes(desired);
    const list = withParsedRoutes(keyed.map((k) => k.route), keyed.map((k) => k.parsed));
    expect(Object.isFrozen(list)).to.equal(true);
    expect(() => withParsedRoutes(keyed.map((k) => k.route), keyed.map((k) => k.parsed).reverse())).to.throw(/do not match/);
    expect(() => withParsedRoutes(keyed.map((k) => ({ ...k.route })), keyed.map((k) => k.parsed))).to.throw(/do not match/);
    expect(() => withParsedRoutes(keyed.map((k) => k.route).slice(1), keyed.map((k) => k.parsed))).to.throw(/do not match/);
  });

  it('a list without one is still parsed and checked', () => {
    expect(() => planSteps({ routes: [{ destination: '10.1.0.1/16' }] })).to.throw(/host bits/);
  });
});
