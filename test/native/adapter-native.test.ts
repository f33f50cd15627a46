// TunAdapter over the native binding, in the test run's private network
// namespace. Every claim is checked against iproute2's reading of the kernel,
// never the binding's own: create → ready as configured, packets both ways,
// outside `ip link del` / `ip link set down` → error → recovery → ready,
// cleanup → nothing left, exit paths and leftovers.

import { expect } from 'chai';
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { describeKernel } from '../helpers/netns.js';
import { ip, ipAddresses, ipLink, ipLinks, ipRoutes } from '../helpers/iproute.js';
import { openFdCount } from '../helpers/fds.js';
import { loadNativeBinding } from '../helpers/native-binding.js';
import { bindUdp } from '../helpers/udp.js';
import { buildIPv4Udp, buildIPv6Udp, isUdp, parsePacket } from '../helpers/packets.js';
import { eventually } from '../helpers/wait.js';
import { AbortError, ConfigurationFailedError, InterfaceFaultError, TunAdapter, createAdapter } from '../../src/index.js';
import type { AdapterOptions, TunBinding } from '../../src/index.js';

const OPTIONS: AdapterOptions = {
  mtu: 1400,
  addresses: ['10.231.0.1/24', 'fd00:231::1/64'],
  routes: ['10.232.0.0/16', { destination: 'fd00:232::/64', metric: 7 }],
};

function expectKernelConfigured(name: string, adapter: TunAdapter): void {
  const link = ipLink(name);
  expect(link, `ip link show ${name}`).to.not.equal(undefined);
  expect(link!.ifindex).to.equal(adapter.ifindex);
  expect(link!.mtu).to.equal(1400);
  expect(link!.flags).to.include('UP');
  expect(link!.ifalias).to.equal(`tun-lifecycle:${process.pid}`);
  expect(ipAddresses(name).map((a) => `${a.address}/${a.prefixLength}`).sort()).to.deep.equal(['10.231.0.1/24', 'fd00:231::1/64']);
  expect(ipRoutes(name).map((r) => `${r.destination}@${r.metric}`).sort()).to.deep.equal(['10.232.0.0/16@0', 'fd00:232::/64@7']);
}

function expectKernelClean(name: string): void {
  expect(ipLinks().map((l) => l.ifname), 'links left').to.not.include(name);
}

/**
 * An adapter created, changed from outside right after ready (in the same
 * turn), then watched through error back to ready; fails unless recovery
 * got there. The faults are the adapter's lastError on each entry to error.
 */
async function recoveredAfter(binding: TunBinding, outside: (adapter: TunAdapter) => void): Promise<{ adapter: TunAdapter; faults: unknown[] }> {
  const adapter = await createAdapter('adn0', { binding, ...OPTIONS, retryDelay: 20 });
  const states: string[] = [];
  const faults: unknown[] = [];
  adapter.on('state', (to) => { states.push(to); if (to === 'error') faults.push(adapter.lastError); });
  outside(adapter);
  const recovered = await eventually(() => states.includes('error') && adapter.state === 'ready', 5000);
  expect(recovered, `states seen: ${states.join(' → ')}`).to.equal(true);
  return { adapter, faults };
}

function nextPacket(adapter: TunAdapter, match: (bytes: Uint8Array) => boolean, ms = 3000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { adapter.off('packet', onPacket); reject(new Error('no matching packet')); }, ms);
    const onPacket = (packet: Buffer) => {
      if (!match(packet)) return;
      clearTimeout(timer);
      adapter.off('packet', onPacket);
      resolve(packet);
    };
    adapter.on('packet', onPacket);
  });
}

/** Run an ES module snippet in a child node process (same namespace), resolving with its exit. */
function runChild(source: string, onStdout?: (line: string, child: ReturnType<typeof spawn>) => void) {
  const child = spawn(process.execPath, ['--input-type=module', '-e', source], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk) => { stderr += chunk; });
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    for (const line of chunk.split('\n').filter(Boolean)) onStdout?.(line, child);
  });
  return new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal, stderr }));
  });
}

const indexUrl = new URL('../../src/index.js', import.meta.url).href;

describeKernel('TunAdapter on the native binding', function () {
  this.timeout(20_000);
  let binding: TunBinding;
  let baselineFds: number;

  before(async function () {
    binding = await loadNativeBinding();
    // Warm up: whatever sockets the binding keeps for its lifetime are open from here on.
    const warm = await createAdapter('adw0', { binding });
    await warm.cleanup();
    baselineFds = openFdCount();
  });

  it('create → ready with the kernel matching the options; cleanup → nothing left (link, addresses, routes, fds)', async () => {
    const adapter = await createAdapter('adn0', { binding, ...OPTIONS });
    expect(adapter.state).to.equal('ready');
    expectKernelConfigured('adn0', adapter);
    expect(openFdCount()).to.be.greaterThan(baselineFds);
    await adapter.cleanup();
    expect(adapter.state).to.equal('stopped');
    expectKernelClean('adn0');
    expect(ip('-4', 'route', 'show', 'table', 'main')).to.not.include('10.232.0.0');
    expect(ip('-6', 'route', 'show', 'table', 'main')).to.not.include('fd00:232::');
    expect(openFdCount(), 'fds back to the baseline').to.equal(baselineFds);
  });

  it('packets both ways, IPv4 and IPv6', async () => {
    const adapter = await createAdapter('adn0', { binding, ...OPTIONS });
    const ready = await eventually(() => ipAddresses('adn0').every((a) => !a.tentative), 5000);
    expect(ready, 'addresses still tentative').to.equal(true);
    const sockets: dgram.Socket[] = [];
    try {
      for (const [type, local, remote, build] of [
        ['udp4', '10.231.0.1', '10.232.0.9', buildIPv4Udp],
        ['udp6', 'fd00:231::1', 'fd00:232::9', buildIPv6Udp],
      ] as const) {
        const socket = await bindUdp(type, local);
        sockets.push(socket);
        const port = socket.address().port;
        // Out of the kernel into the adapter: a datagram routed via the TUN.
        const outbound = nextPacket(adapter, isUdp({ src: local, dst: remote, dstPort: 4000 }));
        socket.send(Buffer.from(`to-${type}`), 4000, remote);
        const packet = parsePacket(await outbound);
        expect(Buffer.from(packet.udp!.payload).toString()).to.equal(`to-${type}`);
        // From the adapter into the kernel: a crafted packet arrives at the socket.
        const received = new Promise<[Buffer, dgram.RemoteInfo]>((resolve) => socket.once('message', (m, r) => resolve([m, r])));
        const wrote = adapter.write(build({ src: remote, dst: local, srcPort: 5000, dstPort: port, payload: Buffer.from(`from-${type}`) }));
        expect(wrote).to.equal(true);
        const [message, rinfo] = await received;
        expect(message.toString()).to.equal(`from-${type}`);
        expect(rinfo.address).to.equal(remote);
        expect(rinfo.port).to.equal(5000);
      }
      const stats = await adapter.stats();
      expect(Number(stats.kernel!.rxPackets)).to.be.greaterThanOrEqual(2);
      expect(Number(stats.kernel!.txPackets)).to.be.greaterThanOrEqual(2);
    } finally {
      for (const socket of sockets) socket.close();
      await adapter.cleanup();
    }
    expectKernelClean('adn0');
  });

  it('outside `ip link del` → error → recovery re-creates it → ready, configured again', async () => {
    let before: number | undefined;
    const { adapter, faults } = await recoveredAfter(binding, (adapter) => { before = adapter.ifindex; ip('link', 'del', 'adn0'); });
    expect(faults, 'named deleted, though the kernel announces the down first').to.have.length(1);
    expect(faults[0]).to.be.instanceOf(InterfaceFaultError).and.include({ reason: 'deleted' });
    expect(adapter.ifindex).to.not.equal(before);
    expectKernelConfigured('adn0', adapter);
    await adapter.cleanup();
    expectKernelClean('adn0');
    expect(openFdCount()).to.equal(baselineFds);
  });

  it('an address removed right after ready, before the link monitor attached, is still a fault that recovery heals', async () => {
    // Synchronous (execFileSync): the event loop has not turned since ready, so the monitor is not attached yet.
    const { adapter, faults } = await recoveredAfter(binding, () => ip('addr', 'del', '10.231.0.1/24', 'dev', 'adn0'));
    expect(faults[0]).to.be.instanceOf(InterfaceFaultError).and.include({ reason: 'address-removed 10.231.0.1/24' });
    expectKernelConfigured('adn0', adapter);
    await adapter.cleanup();
    expectKernelClean('adn0');
  });

  it('outside `ip link set down` → recovery brings it up and restores the routes the kernel flushed', async () => {
    const { adapter, faults } = await recoveredAfter(binding, () => ip('link', 'set', 'adn0', 'down'));
    expect(faults[0]).to.be.instanceOf(InterfaceFaultError).and.include({ reason: 'down' });
    expectKernelConfigured('adn0', adapter);
    await adapter.cleanup();
    expectKernelClean('adn0');
  });

  it('an AbortSignal already aborted: rejects at once (typed), no link appears', async () => {
    const controller = new AbortController();
    const reason = new Error('no');
    controller.abort(reason);
    const error = await createAdapter('ada0', { binding, ...OPTIONS, signal: controller.signal }).then(() => undefined, (e: unknown) => e);
    expect(error).to.be.instanceOf(AbortError).and.include({ code: 'ABORT_ERR', state: 'uninitialized', cause: reason });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expectKernelClean('ada0');
  });

  it('an AbortSignal aborted while initializing: rejects once nothing is left; createAdapter again at once succeeds', async () => {
    const controller = new AbortController();
    const creating = new TunAdapter('ada0', { binding, ...OPTIONS, signal: controller.signal });
    creating.once('state', (to) => { if (to === 'initializing') controller.abort('gave up'); });
    const error = await creating.start().then(() => undefined, (e: unknown) => e);
    expectKernelClean('ada0');
    expect(error).to.be.instanceOf(AbortError).and.include({ code: 'ABORT_ERR', state: 'initializing', cause: 'gave up' });
    const again = await createAdapter('ada0', { binding, ...OPTIONS });
    expectKernelConfigured('ada0', again);
    await again.cleanup();
    expectKernelClean('ada0');
  });

  it('persistent: cleanup closes the fds, then deletes the link', async () => {
    const adapter = await createAdapter('adp0', { binding, ...OPTIONS, persist: true });
    expect(ip('-d', 'link', 'show', 'adp0')).to.match(/persist on/);
    await adapter.cleanup();
    expectKernelClean('adp0');
    expect(openFdCount()).to.equal(baselineFds);
  });

  it('the default binding is the native one, loaded lazily', async () => {
    const adapter = await createAdapter('add0', { ...OPTIONS });
    expectKernelConfigured('add0', adapter);
    await adapter.cleanup();
    expectKernelClean('add0');
  });

  it('never touches an untagged interface that exists: ConfigurationFailedError (EEXIST)', async () => {
    ip('tuntap', 'add', 'dev', 'adx0', 'mode', 'tun');
    try {
      const index = ipLink('adx0')!.ifindex;
      const error = await createAdapter('adx0', { binding, persist: true }).then(() => undefined, (e: unknown) => e);
      expect(error).to.be.instanceOf(ConfigurationFailedError);
      expect(((error as Error).cause as { code?: string }).code).to.equal('EEXIST');
      expect(ipLink('adx0')?.ifindex, 'still there, untouched').to.equal(index);
      expect(ipLink('adx0')?.ifalias).to.equal(undefined);
    } finally {
      ip('link', 'del', 'adx0');
    }
  });

  it('process exit closes the fds synchronously; the tagged persistent leftover is reclaimed by a later start', async () => {
    const source = `
      const { createAdapter } = await import(${JSON.stringify(indexUrl)});
      const iface = await createAdapter('adl0', { persist: true, addresses: ['10.233.0.1/24'] });
      console.log('ready ' + iface.ifindex);
      process.exit(0);
    `;
    const result = await runChild(source);
    expect(result.code, result.stderr).to.equal(0);
    const leftover = ipLink('adl0');
    expect(leftover, 'a persistent link outlives the process').to.not.equal(undefined);
    expect(leftover!.ifalias).to.match(/^tun-lifecycle:\d+$/);
    expect(leftover!.ifalias).to.not.equal(`tun-lifecycle:${process.pid}`);
    expect(ip('-d', 'link', 'show', 'adl0'), 'its fds were closed at exit').to.not.match(/UP,LOWER_UP/);
    const adapter = await createAdapter('adl0', { binding, persist: true });
    expect(adapter.ifindex).to.not.equal(leftover!.ifindex);
    expect(ipLink('adl0')!.ifalias).to.equal(`tun-lifecycle:${process.pid}`);
    await adapter.cleanup();
    expectKernelClean('adl0');
  });

  it('handleSignals: SIGTERM cleans up (the persistent link is deleted) and the process then dies of the signal', async () => {
    const source = `
      const { createAdapter } = await import(${JSON.stringify(indexUrl)});
      const iface = await createAdapter('ads0', { persist: true, handleSignals: true });
      console.log('ready');
      setInterval(() => {}, 1000);
    `;
    const result = await runChild(source, (line, child) => {
      if (line === 'ready') {
        expect(ipLink('ads0'), 'created by the child').to.not.equal(undefined);
        child.kill('SIGTERM');
      }
    });
    expect(result.signal, result.stderr).to.equal('SIGTERM');
    expectKernelClean('ads0');
  });
});
