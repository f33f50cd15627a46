// The demo's story, the same on the kernel and on the simulated binding:
// bring up a TUN under the statechart, answer pings and UDP from user space,
// measure round trips, delete the interface from outside and watch the
// lifecycle recover, clean up, show nothing is left, and sum it all up.

import { performance } from 'node:perf_hooks';
import { TunAdapter } from '../../adapter/index.js';
import { InterfaceState } from '../../../machines/types.js';
import { ms } from '../output.js';
import type { Output } from '../output.js';
import { followTransitions } from '../transitions.js';
import type { Transition } from '../transitions.js';
import { startEchoResponder } from './echo-responder.js';
import { DEMO } from './plan.js';
import type { Family } from './plan.js';
import type { DemoWorld } from './world.js';

export interface StoryOptions {
  /** Called with the adapter before it starts (to attach an inspector). */
  attach?: (adapter: TunAdapter) => Promise<void> | void;
  /** Pause between steps, ms (so a human can follow in the inspector). */
  pace?: number;
}

export async function tellStory(world: DemoWorld, out: Output, options: StoryOptions = {}): Promise<boolean> {
  const pace = options.pace ?? 0;
  const pause = () => (pace ? new Promise((resolve) => setTimeout(resolve, pace)) : Promise.resolve());
  let ok = true;
  const check = (good: boolean, text: string) => {
    if (!good) ok = false;
    out.say(`  ${good ? '✔' : '✘'} ${text}`);
  };
  const step = (n: number, title: string) => out.say(`\n${n}. ${title}`);

  out.say(`tun-lifecycle demo — running ${world.where}.`);
  await world.prepare();

  step(1, `bring up ${DEMO.name} under the statechart (createAdapter: mtu ${DEMO.mtu}, ${DEMO.addresses.join(', ')}, routes ${DEMO.routes.join(', ')})`);
  const adapter = new TunAdapter(DEMO.name, {
    binding: world.binding, mtu: DEMO.mtu, addresses: [...DEMO.addresses], routes: [...DEMO.routes], retryDelay: 50,
  });
  await options.attach?.(adapter);
  const follow = followTransitions(adapter, out, '     ');
  const t0 = performance.now();
  await adapter.start();
  check(adapter.state === InterfaceState.Ready, `ready in ${ms(performance.now() - t0)} (ifindex ${adapter.ifindex}), configuration verified against the ${world.kind === 'kernel' ? 'kernel' : 'simulated kernel'}`);
  await pause();

  step(2, 'start a user-space echo responder on the TUN (ICMP/ICMPv6 echo and UDP: swap addresses and ports, fix checksums)');
  const responder = startEchoResponder(adapter);

  step(3, world.kind === 'kernel' ? 'send traffic from kernel sockets through the TUN' : 'send traffic into the (simulated) TUN');
  const udp = async (family: Family, label: string) => {
    const payload = Buffer.from(`hello over IPv${family} (${label})`);
    try {
      const rtt = await world.udpRoundTrip(family, payload);
      check(true, `UDP ${hostPort(DEMO.local[family])} → ${hostPort(DEMO.peer[family], DEMO.echoPort)} "${payload}" came back in ${ms(rtt)}`);
    } catch (error) {
      check(false, `UDP over IPv${family}: ${(error as Error).message}`);
    }
  };
  for (const family of [4, 6] as const) await udp(family, 'first');
  for (const family of [4, 6] as const) {
    const result = await world.ping(family);
    if (result.sent === 0) {
      out.say(`  – ping ${DEMO.peer[family]}: ${result.note}`);
      continue;
    }
    const rtts = result.rtts;
    const summary = rtts.length
      ? `rtt min/avg/max ${Math.min(...rtts).toFixed(3)}/${(rtts.reduce((a, b) => a + b, 0) / rtts.length).toFixed(3)}/${Math.max(...rtts).toFixed(3)} ms`
      : 'no replies';
    check(result.received === result.sent && result.sent > 0, `ping ${DEMO.peer[family]}: ${result.received}/${result.sent} replies, ${summary}`);
  }
  await pause();

  step(4, `delete ${DEMO.name} from outside, as an admin would, and watch error → recovery → ready`);
  const recovered = new Promise<boolean>((resolve) => {
    const onState = (to: InterfaceState) => {
      if (to === InterfaceState.Ready) { adapter.off('state', onState); resolve(true); }
      if (to === InterfaceState.Stopped) { adapter.off('state', onState); resolve(false); }
    };
    adapter.on('state', onState);
    setTimeout(() => { adapter.off('state', onState); resolve(false); }, 5000).unref();
  });
  const faultAt = performance.now();
  out.say(`  $ ${world.deleteFromOutside(DEMO.name)}`);
  const back = await recovered;
  check(back, back ? `recovered in ${ms(performance.now() - faultAt)}: ${DEMO.name} re-created (ifindex ${adapter.ifindex}) and re-verified` : 'did not recover within 5 s');
  if (back) await udp(4, 'after recovery');
  await pause();

  const kernelCounters = (await adapter.stats()).kernel;
  responder.stop();
  step(5, 'clean up and show that nothing is left');
  const t1 = performance.now();
  await adapter.cleanup();
  follow.stop();
  check(adapter.state === InterfaceState.Stopped, `stopped in ${ms(performance.now() - t1)} (link down, addresses, routes, fds released, then verified)`);
  const left = await world.leftovers();
  check(!left.links.includes(DEMO.name), `links in the namespace now: ${left.links.join(', ') || 'none'}`);
  check(left.tunFds === 0, `${left.tunFds} TUN fd(s) open`);

  const stats = await adapter.stats();
  step(6, 'summary');
  printTimeline(follow.timeline, out);
  out.say(`  lifecycle counters: ${stats.attempts} attempt(s), ${stats.retries} retries, ${stats.failures} failure(s), ${stats.faults} fault(s), ` +
    `${stats.recoveries} recovery(ies), ${stats.cleanups} cleanup(s), ${stats.alerts} alert(s)`);
  if (kernelCounters) {
    const k = kernelCounters;
    out.say(`  kernel link counters (since the recovery re-created it): rx ${k.rxPackets} packets / ${k.rxBytes} bytes, tx ${k.txPackets} packets / ${k.txBytes} bytes`);
  }
  out.say(`  echo responder: answered ${responder.counts.pings} echo request(s) and ${responder.counts.udp} UDP datagram(s); ` +
    `left ${responder.counts.ignored} packet(s) of the kernel's own alone (router solicitations, MLD)`);
  out.say(ok ? '\ndemo finished: everything checked out.' : '\ndemo finished WITH FAILURES (see ✘ above).');
  return ok;
}

function printTimeline(timeline: Transition[], out: Output): void {
  out.say('  transitions (time since start, and how long the state before lasted):');
  for (const t of timeline) {
    out.say(`    +${ms(t.at).padStart(9)}  ${t.from.padEnd(26)} → ${t.to.padEnd(26)} after ${ms(t.after)}${t.error ? `  (${t.error})` : ''}`);
  }
}

function hostPort(address: string, port?: number): string {
  if (port === undefined) return address;
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}
