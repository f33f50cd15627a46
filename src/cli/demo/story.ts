// The demo's story, the same on the kernel and on the simulated binding:
// bring up a TUN under the statechart, answer pings and UDP from user space,
// measure round trips, push a route live while ping runs, delete one of our
// routes from outside and watch it healed, delete the interface from outside
// and watch the lifecycle recover, clean up, show nothing is left, and sum it all up.

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
  const udp = async (family: Family, label: string, to: string = DEMO.peer[family]) => {
    const payload = Buffer.from(`hello over IPv${family} (${label})`);
    try {
      const rtt = await world.udpRoundTrip(family, payload, to);
      check(true, `UDP ${hostPort(DEMO.local[family])} → ${hostPort(to, DEMO.echoPort)} "${payload}" came back in ${ms(rtt)}`);
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

  step(4, `push a route live while ping runs: tun.addRoute('${DEMO.pushed.route}') (ready → reconfiguring → ready, queues open)`);
  const pinging = world.ping(4);
  const pushAt = performance.now();
  const pushed = await adapter.addRoute(DEMO.pushed.route);
  check(pushed.routes.added.some((r) => r.destination === DEMO.pushed.route), `route ${DEMO.pushed.route} pushed in ${ms(performance.now() - pushAt)}, read back from the kernel`);
  const during = await pinging;
  if (during.sent > 0) check(during.received === during.sent, `ping ${DEMO.peer[4]} during the push: ${during.received}/${during.sent} replies`);
  await udp(4, 'through the pushed route', DEMO.pushed.peer);
  await pause();

  step(5, `delete our route ${DEMO.routes[0]} from outside, and watch the monitor call it a fault and recovery put it back`);
  const healed = untilState(adapter, InterfaceState.Ready);
  const routeFaultAt = performance.now();
  out.say(`  $ ${world.deleteRouteFromOutside(DEMO.name, DEMO.routes[0])}`);
  const routeBack = await healed;
  check(routeBack, routeBack ? `healed in ${ms(performance.now() - routeFaultAt)}: ${DEMO.routes[0]} back, in place (same ifindex ${adapter.ifindex})` : 'not healed within 5 s');
  if (routeBack) await udp(4, 'after the route was healed');
  await pause();

  step(6, `delete ${DEMO.name} from outside, as an admin would, and watch error → recovery → ready`);
  const recovered = untilState(adapter, InterfaceState.Ready);
  const faultAt = performance.now();
  out.say(`  $ ${world.deleteFromOutside(DEMO.name)}`);
  const back = await recovered;
  check(back, back ? `recovered in ${ms(performance.now() - faultAt)}: ${DEMO.name} re-created (ifindex ${adapter.ifindex}) and re-verified` : 'did not recover within 5 s');
  if (back) await udp(4, 'after recovery');
  await pause();

  const kernelCounters = (await adapter.stats()).kernel;
  responder.stop();
  step(7, 'clean up and show that nothing is left');
  const t1 = performance.now();
  await adapter.cleanup();
  follow.stop();
  check(adapter.state === InterfaceState.Stopped, `stopped in ${ms(performance.now() - t1)} (link down, addresses, routes, fds released, then verified)`);
  const left = await world.leftovers();
  check(!left.links.includes(DEMO.name), `links in the namespace now: ${left.links.join(', ') || 'none'}`);
  check(left.tunFds === 0, `${left.tunFds} TUN fd(s) open`);

  const stats = await adapter.stats();
  step(8, 'summary');
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

/** Resolves true once the adapter next reaches `state` after leaving it, false when it stops or 5 s pass. */
function untilState(adapter: TunAdapter, state: InterfaceState): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const onState = (to: InterfaceState) => {
      if (to === state) { adapter.off('state', onState); resolve(true); }
      if (to === InterfaceState.Stopped) { adapter.off('state', onState); resolve(false); }
    };
    adapter.on('state', onState);
    setTimeout(() => { adapter.off('state', onState); resolve(false); }, 5000).unref();
  });
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
