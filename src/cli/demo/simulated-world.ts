// The demo's world without root: the simulated binding. "Traffic from
// kernel sockets" becomes packets injected as the kernel would route them
// into the TUN, and the replies are read back from what the app wrote.

import { performance } from 'node:perf_hooks';
import { SimulatedBinding } from '../../binding/simulated/binding.js';
import { DEMO } from './plan.js';
import type { Family } from './plan.js';
import { addressText, buildEchoRequest, buildUdp, checksumOk, viewIp } from './packets.js';
import type { DemoWorld, PingResult } from './world.js';
import { parseCidr } from '../../binding/contract/validate.js';

/** `address` lies in the network `cidr`. */
function coveredBy(address: string, cidr: string): boolean {
  const network = parseCidr(cidr, 'cidr');
  const host = parseCidr(`${address}/${network.family === 4 ? 32 : 128}`, 'address');
  if (host.family !== network.family) return false;
  for (let bit = 0; bit < network.prefixLength; bit++) {
    const mask = 0x80 >> (bit % 8);
    if ((host.bytes[bit >> 3]! & mask) !== (network.bytes[bit >> 3]! & mask)) return false;
  }
  return true;
}

export function simulatedWorld(reason: string): DemoWorld {
  const binding = new SimulatedBinding();
  const { world } = binding;

  /** Inject, then wait for a written packet that `matches`; the round trip in ms. */
  const roundTrip = async (packet: Buffer, matches: (reply: Buffer) => boolean): Promise<number> => {
    world.transmitted(DEMO.name, { clear: true });
    const t0 = performance.now();
    if (!world.inject(DEMO.name, packet)) throw new Error('the simulated kernel dropped the packet');
    for (;;) {
      const reply = world.transmitted(DEMO.name, { clear: true }).find(matches);
      if (reply) return performance.now() - t0;
      if (performance.now() - t0 > 1000) throw new Error('no reply within 1 s');
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
  const fromPeer = (family: Family, peer: string = DEMO.peer[family]) => (reply: Buffer) => {
    const ip = viewIp(reply);
    return ip !== undefined && addressText(ip.src) === peer && addressText(ip.dst) === DEMO.local[family] && checksumOk(reply);
  };

  return {
    kind: 'simulated',
    binding,
    where: `on the SIMULATED binding (${reason}): an in-memory kernel, no real interface; run as root for the real thing`,
    async prepare() { /* the simulated namespace starts ready */ },
    async udpRoundTrip(family, payload, to = DEMO.peer[family]) {
      // The simulated kernel routes nothing: a peer without a route is unreachable, as in the kernel.
      if (!world.link(DEMO.name)?.routes.some((r) => r.family === family && coveredBy(to, r.destination))) {
        throw new Error(`no route to ${to}`);
      }
      const packet = buildUdp(DEMO.local[family], 40000, to, DEMO.echoPort, payload);
      return roundTrip(packet, (reply) => fromPeer(family, to)(reply) && reply.subarray(-payload.length).equals(payload));
    },
    async ping(family): Promise<PingResult> {
      const rtts: number[] = [];
      for (let seq = 1; seq <= 3; seq++) {
        const packet = buildEchoRequest(DEMO.local[family], DEMO.peer[family], 0x7e57, seq, Buffer.from('tun-lifecycle'));
        rtts.push(await roundTrip(packet, fromPeer(family)));
      }
      return { sent: 3, received: rtts.length, rtts, note: 'echo requests injected as the kernel would route them' };
    },
    deleteFromOutside(name) {
      world.deleteLink(name);
      return `world.deleteLink('${name}') (the simulated \`ip link del\`)`;
    },
    deleteRouteFromOutside(name, route) {
      world.removeRoute(name, { destination: route });
      return `world.removeRoute('${name}', '${route}') (the simulated \`ip route del\`)`;
    },
    async leftovers() {
      return { links: world.links().map((l) => l.name), tunFds: world.openFds().length };
    },
  };
}
