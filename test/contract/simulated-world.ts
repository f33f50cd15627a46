// The contract harness for the simulated binding: a fresh namespace per test,
// observed through binding.world (the simulation's own ground truth, not the
// binding's answers), acted on as an admin would.

import { SimulatedBinding } from '../../src/testing.js';
import { buildIPv4Udp, buildIPv6Udp } from '../helpers/packets.js';
import type { ContractHarness, ContractWorld, ObservedLink, WorldObserver } from './observer.js';

export function simulatedHarness(): ContractHarness {
  return {
    injectsFaults: true,
    async setup(): Promise<ContractWorld> {
      const binding = new SimulatedBinding();
      const { world } = binding;
      const observer: WorldObserver = {
        link(name) {
          const link = world.link(name);
          if (!link) return undefined;
          const observed: ObservedLink = {
            name: link.name, ifindex: link.ifindex, up: link.up, carrier: link.carrier, mtu: link.mtu,
            operstate: link.operstate, alias: link.alias, group: link.group,
          };
          return observed;
        },
        addresses(name) {
          return (world.link(name)?.addresses ?? [])
            .filter((a) => a.scope !== 'link')
            .map((a) => ({ family: a.family, address: a.address, prefixLength: a.prefixLength }));
        },
        routes(name) {
          return (world.link(name)?.routes ?? []).map((r) => ({ family: r.family, destination: r.destination, metric: r.metric }));
        },
        stats(name) {
          const stats = world.link(name)!.stats;
          return { rxPackets: stats.rxPackets, txPackets: stats.txPackets, rxBytes: stats.rxBytes, txBytes: stats.txBytes };
        },
        setUp: (name, up) => world.setUp(name, up),
        setMtu: (name, mtu) => world.setMtu(name, mtu),
        deleteLink: (name) => world.deleteLink(name),
        addAddress: (name, cidr) => world.addAddress(name, cidr),
        removeAddress: (name, cidr) => world.removeAddress(name, cidr),
        addRoute: (name, destination, metric) => world.addRoute(name, { destination, metric }),
        removeRoute: (name, destination, metric) => world.removeRoute(name, { destination, metric }),
        async sendUdpInto(name, localAddress, to, port, payload) {
          const spec = { src: localAddress, dst: to, srcPort: 40000, dstPort: port, payload };
          const packet = localAddress.includes(':') ? buildIPv6Udp(spec) : buildIPv4Udp(spec);
          if (!world.inject(name, packet)) throw new Error(`the simulated kernel dropped the packet into ${name}`);
        },
      };
      return { binding, observer, kernelCalls: () => binding.faults.calls(), faults: binding.faults };
    },
  };
}
