// What the simulated kernel holds on a link, in the form reconfigure tests compare.
import type { SimulatedBinding } from '../../src/testing.js';

/** MTU, our addresses (no link-local), routes as `destination@metric`, sorted. */
export function kernelOf(binding: SimulatedBinding, name: string) {
  const link = binding.world.link(name)!;
  return {
    mtu: link.mtu,
    addresses: link.addresses.filter((a) => a.scope !== 'link').map((a) => a.cidr).sort(),
    routes: link.routes.map((r) => `${r.destination}@${r.metric}`).sort(),
  };
}
