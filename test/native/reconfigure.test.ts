// reconfigure() on real TUN interfaces in the run's namespace, every claim
// checked with `ip -j`: each key added and removed (IPv4 and IPv6, routes
// with metrics, MTU up and down across 1280), a route the kernel refuses
// (rolled back, kernel as before), 10 calls at once, outside `ip addr` and
// `ip route` changes (ours removed: a fault, healed; someone else's: drift).

import { expect } from 'chai';
import { describeKernel } from '../helpers/netns.js';
import { ip, ipAddresses, ipLink, ipRoutes } from '../helpers/iproute.js';
import { loadNativeBinding } from '../helpers/native-binding.js';
import { eventually } from '../helpers/wait.js';
import { ConfigurationFailedError, RollbackFailedError, createAdapter } from '../../src/index.js';
import type { LinkPlan, TunAdapter, TunBinding } from '../../src/index.js';

const NAME = 'tunrc0';

function kernel(name = NAME) {
  return {
    mtu: ipLink(name)!.mtu,
    addresses: ipAddresses(name).map((a) => `${a.address}/${a.prefixLength}`).sort(),
    routes: ipRoutes(name).map((r) => `${r.destination}@${r.metric}`).sort(),
  };
}

describeKernel('reconfigure() on the native binding', function () {
  this.timeout(20_000);
  let binding: TunBinding;
  let tun: TunAdapter;
  before(async () => { binding = await loadNativeBinding(); });
  beforeEach(async () => {
    tun = await createAdapter(NAME, { binding, retryDelay: 5, mtu: 1400, addresses: ['10.241.0.1/24'], routes: ['10.242.0.0/16'] });
  });
  afterEach(async () => {
    if (tun.state !== 'stopped') await tun.cleanup();
    expect(ipLink(NAME)).to.equal(undefined);
  });

  it('adds and removes addresses (several, IPv4 and IPv6) and routes with metrics; MTU up across 1280 before IPv6 comes', async () => {
    await tun.reconfigure({
      mtu: 1500,
      addresses: ['10.241.0.1/24', '10.241.1.1/24', 'fd00:241::1/64', 'fd00:241:1::1/64'],
      routes: ['10.242.0.0/16', { destination: '10.243.0.0/16', metric: 20 }, { destination: 'fd00:242::/64', metric: 7 }, 'fd00:243::/64'],
    });
    expect(kernel()).to.deep.equal({
      mtu: 1500,
      addresses: ['10.241.0.1/24', '10.241.1.1/24', 'fd00:241:1::1/64', 'fd00:241::1/64'],
      routes: ['10.242.0.0/16@0', '10.243.0.0/16@20', 'fd00:242::/64@7', 'fd00:243::/64@1024'],
    });
    await tun.reconfigure({ mtu: 1200, addresses: ['10.241.1.1/24'], routes: [{ destination: '10.243.0.0/16', metric: 20 }] });
    expect(kernel()).to.deep.equal({ mtu: 1200, addresses: ['10.241.1.1/24'], routes: ['10.243.0.0/16@20'] });
    await tun.reconfigure({ mtu: 1280, addresses: ['fd00:241::9/64'], routes: ['fd00:244::/64'] });
    expect(kernel()).to.deep.equal({ mtu: 1280, addresses: ['fd00:241::9/64'], routes: ['fd00:244::/64@1024'] });
  });

  it('a route someone else added first is refused (EEXIST): rejected, everything rolled back, kernel as before', async () => {
    ip('route', 'add', '10.250.0.0/16', 'dev', NAME);
    const before = kernel();
    const error = await tun.reconfigure({ mtu: 1450, addresses: ['10.241.0.1/24', '10.241.2.1/24'], routes: ['10.242.0.0/16', '10.250.0.0/16'] })
      .then(() => undefined, (e: unknown) => e);
    expect(error).to.be.instanceOf(ConfigurationFailedError);
    expect(((error as Error).cause as { code: string }).code).to.equal('EEXIST');
    expect(tun.state).to.equal('ready');
    expect(kernel()).to.deep.equal(before);
    expect((await tun.stats()).drift?.routes).to.deep.equal([{ destination: '10.250.0.0/16', metric: 0 }]);
  });

  it('10 calls at once: applied in call order, the kernel ends as the last asked', async () => {
    const calls = Array.from({ length: 10 }, (_, i) => tun.reconfigure({ routes: [`10.${200 + i}.0.0/16`] }));
    const diffs = await Promise.all(calls);
    diffs.forEach((diff, i) => expect(diff.routes.added.map((r) => r.destination)).to.deep.equal([`10.${200 + i}.0.0/16`]));
    expect(kernel().routes).to.deep.equal(['10.209.0.0/16@0']);
  });

  it('an outside `ip addr add` is left alone and reported as drift; an outside `ip addr del` of ours is a fault, recovered', async () => {
    ip('addr', 'add', '10.241.0.77/24', 'dev', NAME);
    expect((await tun.stats()).drift?.addresses).to.deep.equal(['10.241.0.77/24']);
    await tun.addRoute('10.244.0.0/16');
    expect(kernel().addresses).to.include('10.241.0.77/24');
    // An address of ours removed from outside: fault → recovered.
    ip('addr', 'del', '10.241.0.1/24', 'dev', NAME);
    expect(await eventually(() => tun.state === 'ready' && kernel().addresses.includes('10.241.0.1/24'), 5000)).to.equal(true);
    expect(kernel().routes).to.deep.equal(['10.242.0.0/16@0', '10.244.0.0/16@0']);
  });

  it('an outside `ip route del` of our route is a fault, recovered; an outside `ip route add` is left alone, reported as drift', async () => {
    await tun.addRoute({ destination: 'fd00:245::/64', metric: 9 });
    await tun.addAddress('fd00:241::1/64');
    const states: string[] = [];
    tun.on('state', (to) => states.push(to));
    // Someone else's route on our interface: no fault, left in place, drift.
    ip('route', 'add', '10.246.0.0/16', 'dev', NAME, 'metric', '3');
    ip('route', 'add', 'fd00:246::/64', 'dev', NAME);
    expect(await eventually(async () => (await tun.stats()).drift?.routes.length === 2, 2000)).to.equal(true);
    expect((await tun.stats()).drift?.routes).to.deep.equal([
      { destination: '10.246.0.0/16', metric: 3 }, { destination: 'fd00:246::/64', metric: 1024 },
    ]);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(states, 'a route someone else added is no fault').to.deep.equal([]);
    // Ours removed from outside, IPv4 then IPv6: each a fault, healed back (the foreign routes stay).
    for (const [destination, metric] of [['10.242.0.0/16', '0'], ['fd00:245::/64', '9']] as const) {
      states.length = 0;
      ip('route', 'del', destination, 'dev', NAME, 'metric', metric);
      expect(await eventually(() => states.at(-1) === 'ready', 5000), `${destination} removed: ${states.join(' → ')}`).to.equal(true);
      expect(states[0], 'a fault').to.equal('error');
      expect(kernel().routes).to.deep.equal(['10.242.0.0/16@0', '10.246.0.0/16@3', 'fd00:245::/64@9', 'fd00:246::/64@1024']);
    }
  });

  it('recovery removes what a failed undo left of ours (address, route), never what someone else made', async () => {
    await tun.cleanup();
    // The real binding, whose next plan removing routes (the undo) fails once when armed: the kernel refuses nothing an undo asks.
    let failDelete = false;
    const flaky = new Proxy(binding, {
      get(target, key) {
        if (key === 'configure' && failDelete) {
          return (ifindex: number, plan: LinkPlan) => {
            if (!plan.removeRoutes) return target.configure(ifindex, plan);
            failDelete = false;
            return Promise.reject(Object.assign(new Error('injected'), { code: 'EPERM', step: 0 }));
          };
        }
        const value = Reflect.get(target, key) as unknown;
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    tun = await createAdapter(NAME, { binding: flaky, retryDelay: 5, mtu: 1400, addresses: ['10.241.0.1/24'], routes: ['10.242.0.0/16'] });
    ip('route', 'add', '10.250.0.0/16', 'dev', NAME);
    ip('addr', 'add', '10.241.7.1/24', 'dev', NAME);
    failDelete = true;
    // Applied: MTU, address 10.241.5.1, route 10.243; 10.250 is refused (EEXIST), the undo of 10.243 fails.
    const error = await tun.reconfigure({
      mtu: 1450, addresses: ['10.241.0.1/24', '10.241.5.1/24'], routes: ['10.242.0.0/16', '10.243.0.0/16', '10.250.0.0/16'],
    }).then(() => undefined, (e: unknown) => e);
    expect(error).to.be.instanceOf(RollbackFailedError);
    expect(await eventually(() => tun.state === 'ready', 5000)).to.equal(true);
    expect(kernel()).to.deep.equal({ mtu: 1400, addresses: ['10.241.0.1/24', '10.241.7.1/24'], routes: ['10.242.0.0/16@0', '10.250.0.0/16@0'] });
  });

  it('1,000 routes added in one reconfigure and removed in one, each one configure() call (batched requests); ip -j agrees', async () => {
    const calls: string[] = [];
    const counted = new Proxy(binding, {
      get(target, key) {
        const value = Reflect.get(target, key) as unknown;
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          if (['configure', 'addRoute', 'deleteRoute'].includes(String(key))) calls.push(String(key));
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    await tun.cleanup();
    tun = await createAdapter(NAME, { binding: counted, retryDelay: 5, addresses: ['10.241.0.1/24'] });
    calls.length = 0;
    const routes = Array.from({ length: 1000 }, (_, i) => (i % 2 === 0 ? `10.${100 + (i >> 8)}.${i & 255}.0/24` : `fd00:${i.toString(16)}::/64`));
    const added = await tun.reconfigure({ routes });
    expect(added.routes.added).to.have.length(1000);
    expect(calls).to.deep.equal(['configure']);
    expect(ipRoutes(NAME)).to.have.length(1000);
    expect(kernel().routes).to.deep.equal(routes.map((r) => `${r}@${r.includes(':') ? 1024 : 0}`).sort());
    calls.length = 0;
    const removed = await tun.reconfigure({ routes: [] });
    expect(removed.routes.removed).to.have.length(1000);
    expect(calls).to.deep.equal(['configure']);
    expect(ipRoutes(NAME)).to.deep.equal([]);
  });

  it('1,000 routes with one refused in the middle (someone else\'s, EEXIST): rejected, every route and the MTU rolled back', async () => {
    ip('route', 'add', '10.101.244.0/24', 'dev', NAME);
    const before = kernel();
    const routes = ['10.242.0.0/16', ...Array.from({ length: 1000 }, (_, i) => `10.${100 + (i >> 8)}.${i & 255}.0/24`)];
    const error = await tun.reconfigure({ mtu: 1420, routes }).then(() => undefined, (e: unknown) => e);
    expect(error).to.be.instanceOf(ConfigurationFailedError);
    expect(((error as Error).cause as { code: string }).code).to.equal('EEXIST');
    expect(tun.state).to.equal('ready');
    expect(kernel()).to.deep.equal(before);
    expect(ipRoutes(NAME)).to.have.length(2);
  });

  it('routes reconfigure itself removes are no fault', async () => {
    const states: string[] = [];
    tun.on('state', (to) => states.push(to));
    await tun.reconfigure({ routes: ['10.247.0.0/16', 'fd00:247::/64'] });
    await tun.removeRoute('10.247.0.0/16');
    await tun.reconfigure({ routes: [] });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(states.filter((s) => s !== 'reconfiguring' && s !== 'ready')).to.deep.equal([]);
    expect(kernel().routes).to.deep.equal([]);
  });
});
