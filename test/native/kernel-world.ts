// The contract harness for the native binding: the run's private namespace,
// observed and acted on through iproute2 (`ip -j`), and packets routed into
// the TUN by a real UDP socket.

import type { TunBinding } from '../../src/binding/contract/types.js';
import { ip, ipAddresses, ipJson, ipLink, ipRoutes } from '../helpers/iproute.js';
import { bindUdp } from '../helpers/udp.js';
import type { ContractHarness, ContractWorld, ObservedStats, WorldObserver } from '../contract/observer.js';

interface IpStatsRow {
  stats64?: { rx: { packets: number; bytes: number }; tx: { packets: number; bytes: number } };
}

export function kernelHarness(load: () => Promise<TunBinding>): ContractHarness {
  const observer: WorldObserver = {
    link(name) {
      const link = ipLink(name);
      if (!link) return undefined;
      const group = link.group === undefined || link.group === 'default' ? 0 : Number(link.group);
      return {
        name: link.ifname, ifindex: link.ifindex, up: link.flags.includes('UP'), carrier: link.flags.includes('LOWER_UP'),
        mtu: link.mtu, operstate: link.operstate.toLowerCase(), alias: link.ifalias ?? '', group,
      };
    },
    addresses: (name) => ipAddresses(name).map((a) => ({ family: a.family, address: a.address, prefixLength: a.prefixLength })),
    routes: (name) => ipRoutes(name).map((r) => ({ family: r.family, destination: r.destination, metric: r.metric })),
    stats(name): ObservedStats {
      const [row] = ipJson<IpStatsRow[]>('-s', 'link', 'show', 'dev', name);
      const s = row?.stats64;
      if (!s) throw new Error(`ip -s link show ${name} gave no stats64`);
      return { rxPackets: BigInt(s.rx.packets), txPackets: BigInt(s.tx.packets), rxBytes: BigInt(s.rx.bytes), txBytes: BigInt(s.tx.bytes) };
    },
    setUp: (name, up) => void ip('link', 'set', 'dev', name, up ? 'up' : 'down'),
    setMtu: (name, mtu) => void ip('link', 'set', 'dev', name, 'mtu', String(mtu)),
    deleteLink: (name) => void ip('link', 'del', 'dev', name),
    addAddress: (name, cidr) => void ip('addr', 'add', cidr, 'dev', name),
    removeAddress: (name, cidr) => void ip('addr', 'del', cidr, 'dev', name),
    addRoute: (name, destination, metric) => void ip('route', 'add', destination, 'dev', name, 'metric', String(metric)),
    removeRoute: (name, destination, metric) => void ip('route', 'del', destination, 'dev', name, 'metric', String(metric)),
    async sendUdpInto(_name, localAddress, to, port, payload) {
      const socket = await bindUdp(to.includes(':') ? 'udp6' : 'udp4', localAddress);
      try {
        await new Promise<void>((resolve, reject) => socket.send(payload, port, to, (err) => (err ? reject(err) : resolve())));
      } finally {
        socket.close();
      }
    },
  };
  return {
    async setup(): Promise<ContractWorld> {
      return { binding: await load(), observer };
    },
  };
}
