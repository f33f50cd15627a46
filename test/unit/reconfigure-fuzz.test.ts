// Random sequences of reconfigure() calls, outside changes (one of our
// addresses removed, a foreign address added) and a final cleanup on the
// simulated binding (fast-check): once settled, the kernel holds exactly the
// desired configuration (plus what someone else added), and cleanup leaves nothing.

import { expect } from 'chai';
import fc from 'fast-check';
import { createAdapter } from '../../src/index.js';
import { SimulatedBinding } from '../../src/testing.js';
import { expectNothingLeft } from '../helpers/leftovers.js';
import { until } from '../helpers/wait.js';
import { kernelOf } from '../helpers/simulated-config.js';

const ADDRESSES = ['10.0.0.1/24', '10.0.1.1/24', 'fd00::1/64', 'fd00:1::1/64'];
const ROUTES = ['10.1.0.0/16', '10.2.0.0/16', 'fd01::/64', 'fd02::/64'];
const MTUS = [1280, 1400, 1500];

const action = fc.oneof(
  fc.record({ kind: fc.constant('reconfigure' as const), mtu: fc.constantFrom(...MTUS), addresses: fc.subarray(ADDRESSES), routes: fc.subarray(ROUTES) }),
  fc.record({ kind: fc.constant('remove-ours' as const), index: fc.nat() }),
  fc.record({ kind: fc.constant('add-foreign' as const), host: fc.integer({ min: 100, max: 120 }) }),
);

describe('reconfigure() fuzzed (simulated)', function () {
  this.timeout(60_000);
  it('random reconfigure / outside-change sequences settle with the kernel equal to the desired configuration, and never leak', async () => {
    await fc.assert(fc.asyncProperty(fc.array(action, { minLength: 1, maxLength: 12 }), async (actions) => {
      const binding = new SimulatedBinding();
      const tun = await createAdapter('tun0', { binding, retryDelay: 1, mtu: 1400, addresses: ['10.0.0.1/24'], routes: ['10.1.0.0/16'] });
      const foreign = new Set<string>();
      for (const step of actions) {
        if (step.kind === 'reconfigure') {
          await tun.reconfigure({ mtu: step.mtu, addresses: step.addresses, routes: step.routes });
        } else if (step.kind === 'remove-ours') {
          const ours = tun.config.addresses;
          if (ours.length === 0) continue;
          const recoveries = tun.actor.getSnapshot().context.counters.recoveries;
          await binding.deleteAddress(tun.ifindex!, ours[step.index % ours.length]!);
          await until(() => tun.state === 'ready' && tun.actor.getSnapshot().context.counters.recoveries > recoveries, 2000);
        } else {
          const cidr = `10.0.0.${step.host}/24`;
          if (foreign.has(cidr) || tun.config.addresses.includes(cidr)) continue;
          await binding.addAddress(tun.ifindex!, cidr);
          foreign.add(cidr);
        }
      }
      expect(tun.state).to.equal('ready');
      const kernel = kernelOf(binding, 'tun0');
      expect(kernel.mtu).to.equal(tun.config.mtu);
      expect(kernel.addresses).to.deep.equal([...tun.config.addresses, ...foreign].sort());
      const metric = (r: { destination: string; metric: number }) => (r.destination.includes(':') && r.metric === 0 ? 1024 : r.metric);
      expect(kernel.routes).to.deep.equal(tun.config.routes.map((r) => `${r.destination}@${metric(r)}`).sort());
      expect((await tun.stats()).drift?.addresses.sort()).to.deep.equal([...foreign].sort());
      await tun.cleanup();
      expectNothingLeft(binding);
    }), { numRuns: 60 });
  });
});
