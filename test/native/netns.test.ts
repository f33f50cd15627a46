// The netns option against the kernel: namespaces made here with `ip netns add`
// (unique names, deleted in after hooks), every claim cross-checked with
// `ip -n NS -j`. The interface, its addresses, its netlink requests and its
// link monitor live in the named namespace; the test's own namespace and every
// thread of this process (the JS thread, libuv's pool) stay where they were.

import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { readdirSync, readlinkSync } from 'node:fs';
import { describeKernel } from '../helpers/netns.js';
import { ip, ipJson } from '../helpers/iproute.js';
import { deleteNamespace, makeNamespace as newNamespace, ownLinks } from '../helpers/namespaces.js';
import { openFdCount } from '../helpers/fds.js';
import { loadNativeBinding } from '../helpers/native-binding.js';
import { parsePacket } from '../helpers/packets.js';
import { eventually, sleep } from '../helpers/wait.js';
import { TunAdapter } from '../../src/adapter/index.js';
import type { TunBinding } from '../../src/binding/contract/types.js';

const made: string[] = [];
/** A namespace of this suite's, deleted by its after hook. */
function makeNamespace(tag: string): string {
  const name = newNamespace(`ns-${tag}`);
  made.push(name);
  return name;
}
const linksIn = (ns: string) => ipJson<Array<{ ifname: string }>>('-n', ns, 'link', 'show').map((l) => l.ifname);

/** A UDP datagram sent from inside ns (a child process, so this event loop keeps reading the TUN). */
function sendUdpFrom(ns: string, address: string, port: number, text: string): Promise<void> {
  const script = `const s=require('dgram').createSocket('udp4');s.send(${JSON.stringify(text)},${port},${JSON.stringify(address)},()=>s.close())`;
  return new Promise((resolve, reject) => execFile('ip', ['netns', 'exec', ns, process.execPath, '-e', script], (err) => (err ? reject(err) : resolve())));
}

/** Runs a UDP receiver inside ns; resolves with the first datagram's text. */
function receiveUdpIn(ns: string, address: string, port: number): { ready: Promise<void>; message: Promise<string> } {
  const script = `const s=require('dgram').createSocket('udp4');s.on('message',(m)=>{process.stdout.write('MSG '+m);s.close()});s.bind(${port},${JSON.stringify(address)},()=>process.stdout.write('READY\\n'))`;
  const child = execFile('ip', ['netns', 'exec', ns, process.execPath, '-e', script], { timeout: 10_000 });
  let out = '';
  let onReady!: () => void;
  const ready = new Promise<void>((resolve) => { onReady = resolve; });
  child.stdout!.on('data', (chunk: Buffer) => { out += chunk; if (out.includes('READY')) onReady(); });
  const message = new Promise<string>((resolve, reject) => child.on('exit', () => {
    const at = out.indexOf('MSG ');
    if (at < 0) reject(new Error(`no datagram reached ${address}:${port} in ${ns}: ${out}`));
    else resolve(out.slice(at + 4));
  }));
  return { ready, message };
}

function threadNamespaces(): string[] {
  return readdirSync('/proc/self/task').map((tid) => readlinkSync(`/proc/self/task/${tid}/ns/net`));
}

/** The addon's fds: queues, monitors and pooled sockets (idle ones of the test's own namespace may stay from earlier tests). */
function bindingFdCount(binding: TunBinding): number {
  return binding.openFdCount();
}

describeKernel('netns: the interface lives in the namespace named', function () {
  this.timeout(30_000);
  let binding: TunBinding;
  let ownBefore: string;

  before(async function () {
    binding = await loadNativeBinding();
    ownBefore = ownLinks();
  });

  after(function () {
    for (const ns of made) deleteNamespace(ns);
    expect(ownLinks(), 'the test\'s own namespace changed').to.equal(ownBefore);
  });

  it('creates and configures the interface inside a namespace the test made, and cleans it up there', async function () {
    const ns = makeNamespace('create');
    const fds = openFdCount();
    const bindingFds = bindingFdCount(binding);
    const adapter = new TunAdapter('nsc0', { binding, netns: ns, mtu: 1400, addresses: ['10.61.0.1/24'], routes: ['10.62.0.0/16'] });
    await adapter.start();
    expect(adapter.state).to.equal('ready');
    const [link] = ipJson<Array<{ ifname: string; mtu: number; ifindex: number }>>('-n', ns, 'link', 'show', 'dev', 'nsc0');
    expect(link!.mtu).to.equal(1400);
    expect(link!.ifindex).to.equal(adapter.ifindex);
    const addresses = ipJson<Array<{ addr_info: Array<{ local: string; prefixlen: number }> }>>('-n', ns, 'addr', 'show', 'dev', 'nsc0');
    expect(addresses[0]!.addr_info.map((a) => `${a.local}/${a.prefixlen}`)).to.include('10.61.0.1/24');
    const routes = ipJson<Array<{ dst: string }>>('-n', ns, 'route', 'show', 'dev', 'nsc0');
    expect(routes.map((r) => r.dst)).to.include('10.62.0.0/16');
    expect(ipJson<Array<{ ifname: string }>>('link', 'show').map((l) => l.ifname)).not.to.include('nsc0');
    await adapter.cleanup();
    expect(adapter.state).to.equal('stopped');
    expect(linksIn(ns)).to.deep.equal(['lo']);
    expect(openFdCount(), 'fds left').to.equal(fds);
    expect(bindingFdCount(binding), 'sockets and the namespace fd let go of').to.equal(bindingFds);
  });

  it('a socket inside the namespace reaches the adapter', async function () {
    const ns = makeNamespace('traffic');
    const adapter = new TunAdapter('nst0', { binding, netns: ns, addresses: ['10.63.0.1/24'] });
    await adapter.start();
    const got = new Promise<Buffer>((resolve) => {
      adapter.on('packet', (packet: Buffer) => {
        const p = parsePacket(packet);
        if (p.udp?.dstPort === 4777) resolve(Buffer.from(packet));
      });
    });
    await sendUdpFrom(ns, '10.63.0.9', 4777, 'through the namespace');
    const packet = parsePacket(await got);
    expect(packet.src).to.equal('10.63.0.1');
    expect(packet.dst).to.equal('10.63.0.9');
    expect(packet.udp!.payload.toString()).to.equal('through the namespace');
    await adapter.cleanup();
  });

  it('two adapters in two namespaces relay a datagram from one namespace into the other', async function () {
    const a = makeNamespace('relayA');
    const b = makeNamespace('relayB');
    const left = new TunAdapter('nsr0', { binding, netns: a, addresses: ['10.64.0.1/30'] });
    const right = new TunAdapter('nsr1', { binding, netns: b, addresses: ['10.64.0.2/30'] });
    await Promise.all([left.start(), right.start()]);
    let crossed = 0;
    left.on('packet', (p: Buffer) => { crossed += 1; right.write(p); });
    right.on('packet', (p: Buffer) => { left.write(p); });
    const receiver = receiveUdpIn(b, '10.64.0.2', 4778);
    await receiver.ready;
    await sendUdpFrom(a, '10.64.0.2', 4778, 'from A to B');
    expect(await receiver.message).to.equal('from A to B');
    expect(crossed).to.be.greaterThan(0);
    await Promise.all([left.cleanup(), right.cleanup()]);
    expect(linksIn(a)).to.deep.equal(['lo']);
    expect(linksIn(b)).to.deep.equal(['lo']);
  });

  it('a link deleted from outside (ip -n NS link del) is recovered inside the namespace', async function () {
    const ns = makeNamespace('recover');
    const adapter = new TunAdapter('nsv0', { binding, netns: ns, addresses: ['10.65.0.1/24'], retryDelay: 10 });
    await adapter.start();
    const states: string[] = [];
    adapter.on('state', (to: string) => states.push(to));
    ip('-n', ns, 'link', 'del', 'nsv0');
    expect(await eventually(() => adapter.state === 'ready' && states.includes('error'), 10_000), `states: ${states}`).to.equal(true);
    const addresses = ipJson<Array<{ addr_info: Array<{ local: string }> }>>('-n', ns, 'addr', 'show', 'dev', 'nsv0');
    expect(addresses[0]!.addr_info.map((x) => x.local)).to.include('10.65.0.1');
    await adapter.cleanup();
    expect(linksIn(ns)).to.deep.equal(['lo']);
  });

  it('two adapters in one namespace, named two ways: a link deleted outside faults only its own adapter', async function () {
    const ns = makeNamespace('shared');
    const bindingFds = bindingFdCount(binding);
    const one = new TunAdapter('nsh0', { binding, netns: ns, addresses: ['10.67.0.1/24'], retryDelay: 10 });
    const two = new TunAdapter('nsh1', { binding, netns: `/var/run/netns/${ns}`, addresses: ['10.67.1.1/24'] });
    await Promise.all([one.start(), two.start()]);
    const states: string[] = [];
    two.on('state', (to: string) => states.push(to));
    let oneFaulted = false;
    one.on('state', (to: string) => { if (to === 'error') oneFaulted = true; });
    ip('-n', ns, 'link', 'del', 'nsh0');
    expect(await eventually(() => oneFaulted && one.state === 'ready', 10_000)).to.equal(true);
    expect(states, 'the other adapter saw nothing').to.deep.equal([]);
    await Promise.all([one.cleanup(), two.cleanup()]);
    expect(linksIn(ns)).to.deep.equal(['lo']);
    expect(bindingFdCount(binding), 'sockets and the namespace fd let go of').to.equal(bindingFds);
  });

  it('the namespace deleted (ip netns del) under a ready adapter: cleanup still completes and leaves nothing', async function () {
    // `ip netns del` only unmounts the name: the namespace lives on while an
    // fd holds it (the TUN fd does), so the adapter keeps working, and its
    // cleanup, which still holds the namespace handle, removes the interface.
    const ns = makeNamespace('gone');
    const fds = openFdCount();
    const adapter = new TunAdapter('nsg0', { binding, netns: ns, addresses: ['10.66.0.1/24'] });
    await adapter.start();
    deleteNamespace(ns);
    await sleep(200);
    expect(adapter.state).to.equal('ready');
    await adapter.cleanup();
    expect(adapter.state).to.equal('stopped');
    expect(openFdCount(), 'fds left').to.equal(fds);
    // The name is gone: a new adapter there fails at once, typed, before any kernel change.
    const late = new TunAdapter('nsg1', { binding, netns: ns, retryAttempts: 0 });
    const failure = await late.start().then(() => undefined, (e: unknown) => e as { cause?: { code?: string; message: string } });
    expect(failure?.cause?.code).to.equal('ENOENT');
    expect(failure?.cause?.message).to.include(`/var/run/netns/${ns}`);
    await late.cleanup();
  });

  it('refuses what is not a network namespace with EINVAL and a missing one with ENOENT, before any change', async function () {
    const before = ownLinks();
    const notNs = await binding.namespace('/proc/self/ns/uts').then(() => undefined, (e: { code: string }) => e.code);
    const file = await binding.namespace('/etc/hostname').then(() => undefined, (e: { code: string }) => e.code);
    const missing = await binding.namespace(`tlns-missing-${process.pid}`).then(() => undefined, (e: { code: string; message: string }) => e);
    expect(notNs).to.equal('EINVAL');
    expect(file).to.equal('EINVAL');
    expect((missing as { code: string }).code).to.equal('ENOENT');
    expect((missing as { message: string }).message).to.include(`tlns-missing-${process.pid}`);
    expect(ownLinks()).to.equal(before);
  });

  it('without privilege over the namespace (no CAP_SYS_ADMIN for setns) the binding refuses with EPERM, before any change', async function () {
    const ns = makeNamespace('eperm');
    const bindingUrl = new URL('../../src/binding/native/binding.js', import.meta.url).href;
    const script = `import(${JSON.stringify(bindingUrl)}).then((m) => m.createNativeBinding().namespace(${JSON.stringify(ns)})).then(() => console.log('OK'), (e) => console.log(e.code, e.message))`;
    const out = await new Promise<string>((resolve, reject) => execFile('setpriv', ['--bounding-set', '-sys_admin', '--inh-caps', '-sys_admin', '--', process.execPath, '-e', script], (err, stdout) => (err ? reject(err) : resolve(stdout))));
    expect(out).to.match(/^EPERM .*setns/);
    expect(out).to.include(ns);
    expect(linksIn(ns)).to.deep.equal(['lo']);
  });

  it('1,000 opens in a namespace leave every thread of the process in its own namespace, and no fd', async function () {
    this.timeout(120_000);  // ~20 ms per open+close here, most of it the kernel unregistering the device
    const ns = makeNamespace('threads');
    const threadBefore = readlinkSync('/proc/thread-self/ns/net');
    const processNs = readlinkSync('/proc/self/ns/net');
    const fds = openFdCount();
    const inside = await binding.namespace(ns);
    for (let i = 0; i < 1000; i++) {
      const device = await inside.open({ name: 'nsk%d' });
      device.close();
    }
    // Pool threads ran every request: were any left in the namespace, an fs call's thread would show it.
    await Promise.all(Array.from({ length: 8 }, () => import('node:fs/promises').then((f) => f.stat('/'))));
    expect(readlinkSync('/proc/thread-self/ns/net')).to.equal(threadBefore);
    expect(new Set(threadNamespaces())).to.deep.equal(new Set([processNs]));
    expect(linksIn(ns)).to.deep.equal(['lo']);
    expect(openFdCount(), 'fds left').to.equal(fds);
  });
});
