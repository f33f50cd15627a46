// TunAdapter's public API over the simulated binding: lifecycle, configuration
// landing in the (simulated) kernel, packets both ways, stats, errors, options.

import { expect } from 'chai';
import {
  AbortError, ConfigurationFailedError, DEFAULT_OPTIONS, InterfaceNotReadyError, InterfaceState, InvalidStateTransitionError,
  TunAdapter, TunError, createAdapter,
} from '../../src/index.js';
import { SimulatedBinding } from '../../src/testing.js';
import { adapterGroup } from '../../src/lifecycle/ownership.js';
import type { OpenOptions } from '../../src/binding/contract/types.js';

import { expectNothingLeft, tunLinks } from '../helpers/leftovers.js';
import { payloadText, textPacket } from '../helpers/packets.js';
import { until } from '../helpers/wait.js';

/** The way packets come in: from the peer to the interface's address. */
const inbound = { src: '10.0.0.2', dst: '10.0.0.1' };

describe('TunAdapter on the simulated binding', () => {
  let binding: SimulatedBinding;
  beforeEach(() => { binding = new SimulatedBinding(); });

  it('createAdapter: ready, with the kernel holding exactly what was asked', async () => {
    const iface = await createAdapter('tun0', {
      binding, mtu: 1400, addresses: ['10.0.0.1/24', 'fd00::1/64'], routes: ['10.1.0.0/16', { destination: 'fd01::/64', metric: 5 }],
    });
    expect(iface.state).to.equal(InterfaceState.Ready).and.equal('ready');
    expect(iface.name).to.equal('tun0');
    const link = binding.world.link('tun0')!;
    expect(iface.ifindex).to.equal(link.ifindex);
    expect(link.up).to.equal(true);
    expect(link.mtu).to.equal(1400);
    expect(link.alias).to.equal(`tun-lifecycle:${process.pid}`);
    expect(link.addresses.filter((a) => a.scope !== 'link').map((a) => a.cidr).sort()).to.deep.equal(['10.0.0.1/24', 'fd00::1/64']);
    expect(link.routes.map((r) => `${r.destination}@${r.metric}`).sort()).to.deep.equal(['10.1.0.0/16@0', 'fd01::/64@5']);
    expect(binding.world.openFds()).to.have.length(1);
    await iface.cleanup();
    expectNothingLeft(binding);
  });

  it('opens and configures in one round trip: open() carries the plan, in kernel order', async () => {
    const plans: unknown[] = [];
    const open = binding.open.bind(binding);
    const fast = Object.assign(binding, {
      async open(options?: OpenOptions) {
        plans.push(options?.configure);
        return open(options);
      },
    });
    const iface = await createAdapter('tun0', { binding: fast, mtu: 1400, addresses: ['10.0.0.1/24'], routes: ['10.1.0.0/16'] });
    expect(plans).to.deep.equal([{
      alias: `tun-lifecycle:${process.pid}`, group: adapterGroup(), mtu: 1400, addresses: ['10.0.0.1/24'], up: true, routes: [{ destination: '10.1.0.0/16', metric: 0 }],
    }]);
    expect(binding.world.link('tun0')!.routes.map((r) => r.destination)).to.deep.equal(['10.1.0.0/16']);
    await iface.cleanup();
    expectNothingLeft(binding);
  });

  it('a tun%d pattern gets the kernel\'s name', async () => {
    const iface = await createAdapter('lc%d', { binding });
    expect(iface.name).to.match(/^lc\d+$/);
    expect(binding.world.link(iface.name)).to.not.equal(undefined);
    await iface.cleanup();
    expectNothingLeft(binding);
  });

  it('step-wise: uninitialized is observable, then state events initializing → ready', async () => {
    const iface = new TunAdapter('tun1', { binding });
    expect(iface.state).to.equal('uninitialized');
    expect(binding.faults.calls(), 'nothing touched before start()').to.equal(0);
    const seen: Array<[string, string]> = [];
    iface.on('state', (to, from) => seen.push([from, to]));
    expect(await iface.start()).to.equal(iface);
    expect(seen).to.deep.equal([['uninitialized', 'initializing'], ['initializing', 'ready']]);
    await iface.cleanup();
    expect(seen.slice(2)).to.deep.equal([['ready', 'stopping'], ['stopping', 'stopped']]);
    expect(iface.actor.getSnapshot().status).to.equal('done');
  });

  it('start() twice gives the same promise; start() after ready is an invalid transition', async () => {
    const iface = new TunAdapter('tun1', { binding });
    const first = iface.start();
    expect(iface.start()).to.equal(first);
    await first;
    const again = await iface.start().then(() => undefined, (e: unknown) => e);
    expect(again).to.be.instanceOf(InvalidStateTransitionError);
    expect((again as InvalidStateTransitionError).state).to.equal('ready');
    await iface.cleanup();
    const late = new TunAdapter('tun2', { binding });
    await late.start();
    await late.cleanup();
    const error = await late.start().then(() => undefined, (e: unknown) => e);
    expect(error).to.be.instanceOf(InvalidStateTransitionError);
    expect((error as InvalidStateTransitionError).state).to.equal('stopped');
  });

  it('write(): InterfaceNotReadyError outside ready, bytes to the kernel inside', async () => {
    const iface = new TunAdapter('tun0', { binding, addresses: ['10.0.0.1/24'] });
    const before = (() => { try { iface.write(textPacket()); return undefined; } catch (e) { return e; } })();
    expect(before).to.be.instanceOf(InterfaceNotReadyError).and.instanceOf(TunError);
    expect((before as InterfaceNotReadyError).code).to.equal('ERR_INTERFACE_NOT_READY');
    expect((before as InterfaceNotReadyError).state).to.equal('uninitialized');
    await iface.start();
    const packet = textPacket('out');
    expect(iface.write(packet)).to.equal(true);
    expect(binding.world.transmitted('tun0').map((p) => p.toString('hex'))).to.deep.equal([packet.toString('hex')]);
    expect(() => iface.write(Buffer.from([0x10, 0, 0]))).to.throw(TypeError);
    await iface.cleanup();
    expect(() => iface.write(packet)).to.throw(InterfaceNotReadyError, /state stopped/);
  });

  it("packets in: 'packet' events and the packets() iterator, which ends at stopped", async () => {
    const iface = await createAdapter('tun0', { binding, addresses: ['10.0.0.1/24'] });
    const events: string[] = [];
    iface.on('packet', (p: Buffer) => events.push(payloadText(p)));
    const collected: string[] = [];
    const reading = (async () => {
      for await (const packet of iface.packets()) collected.push(payloadText(packet));
    })();
    for (const text of ['a', 'b', 'c']) binding.world.inject('tun0', textPacket(text, inbound));
    await until(() => collected.length === 3);
    await iface.cleanup();
    await reading;
    expect(collected).to.deep.equal(['a', 'b', 'c']);
    expect(events).to.deep.equal(['a', 'b', 'c']);
  });

  it('packets(): breaking out of the loop stops listening', async () => {
    const iface = await createAdapter('tun0', { binding, addresses: ['10.0.0.1/24'] });
    binding.world.inject('tun0', textPacket('x', inbound));
    for await (const packet of iface.packets()) {
      expect(payloadText(packet)).to.equal('x');
      break;
    }
    expect(iface.listenerCount('packet')).to.equal(0);
    await iface.cleanup();
  });

  it('stream(): a Duplex view — writes go out, injected packets come in, ends at stopped', async () => {
    const iface = await createAdapter('tun0', { binding, addresses: ['10.0.0.1/24'] });
    const duplex = iface.stream();
    const received: string[] = [];
    duplex.on('data', (p: Buffer) => received.push(payloadText(p)));
    const ended = new Promise((resolve) => duplex.on('end', resolve));
    await new Promise<void>((resolve, reject) => duplex.write(textPacket('via-stream'), (e) => (e ? reject(e) : resolve())));
    expect(binding.world.transmitted('tun0').map((p) => payloadText(p))).to.deep.equal(['via-stream']);
    binding.world.inject('tun0', textPacket('in', inbound));
    await until(() => received.length === 1);
    expect(received).to.deep.equal(['in']);
    await iface.cleanup();
    await ended;
  });

  it("backpressure: write() returns false while the fd is full, 'drain' follows, the stream waits for it", async () => {
    const iface = await createAdapter('tun0', { binding, addresses: ['10.0.0.1/24'] });
    binding.world.blockWrites('tun0', true);
    expect(iface.write(textPacket('queued'))).to.equal(false);
    const drained = new Promise((resolve) => iface.once('drain', resolve));
    const duplex = iface.stream();
    let streamed = false;
    duplex.write(textPacket('streamed'), () => { streamed = true; });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(streamed, 'the stream waits for drain').to.equal(false);
    binding.world.blockWrites('tun0', false);
    expect(await drained).to.equal(0);
    await until(() => streamed);
    expect(binding.world.transmitted('tun0').map((p) => payloadText(p))).to.deep.equal(['queued', 'streamed']);
    duplex.destroy();
    await iface.cleanup();
  });

  it('packets(): pauses the queues past highWaterMark and resumes as the consumer catches up', async () => {
    const iface = await createAdapter('tun0', { binding, addresses: ['10.0.0.1/24'] });
    const iterator = iface.packets({ highWaterMark: 4 });
    for (let i = 0; i < 10; i++) {
      binding.world.inject('tun0', textPacket(`p${i}`, inbound));
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    const queue = (await iface.stats()).queues[0]!;
    expect(queue.rxPackets, 'reading stopped at the high-water mark').to.equal(4);
    const got: string[] = [];
    for (let i = 0; i < 10; i++) got.push(payloadText((await iterator.next()).value!));
    expect(got).to.deep.equal(Array.from({ length: 10 }, (_, i) => `p${i}`));
    await iterator.return!();
    await iface.cleanup();
  });

  it('stats(): kernel counters and the library counters', async () => {
    const iface = await createAdapter('tun0', { binding, addresses: ['10.0.0.1/24'] });
    iface.write(textPacket());
    iface.write(textPacket());
    const stats = await iface.stats();
    expect(stats.state).to.equal('ready');
    expect(stats.attempts).to.equal(1);
    expect(stats.retries).to.equal(0);
    expect(stats.queues).to.have.length(1);
    expect(stats.queues[0]!.txPackets).to.equal(2);
    expect(stats.kernel).to.not.equal(undefined);
    expect(typeof stats.kernel!.rxPackets).to.equal('bigint');
    expect(Number(stats.kernel!.rxPackets + stats.kernel!.txPackets)).to.be.greaterThanOrEqual(2);
    await iface.cleanup();
    expect((await iface.stats()).cleanups).to.equal(1);
  });

  it('cleanup(): InvalidStateTransitionError before start and once stopped', async () => {
    const iface = new TunAdapter('tun0', { binding });
    const early = await iface.cleanup().then(() => undefined, (e: unknown) => e);
    expect(early).to.be.instanceOf(InvalidStateTransitionError);
    expect((early as InvalidStateTransitionError).code).to.equal('ERR_INVALID_STATE_TRANSITION');
    expect((early as InvalidStateTransitionError).state).to.equal('uninitialized');
    await iface.start();
    await iface.cleanup();
    const late = await iface.cleanup().then(() => undefined, (e: unknown) => e);
    expect(late).to.be.instanceOf(InvalidStateTransitionError);
    expect((late as InvalidStateTransitionError).state).to.equal('stopped');
  });

  it('Symbol.asyncDispose cleans up a live adapter and is a no-op once stopped', async () => {
    {
      await using iface = await createAdapter('tun0', { binding });
      expect(iface.state).to.equal('ready');
      expect(tunLinks(binding)).to.have.length(1);
    }
    expectNothingLeft(binding);
    const stopped = await createAdapter('tun1', { binding });
    await stopped.cleanup();
    await stopped[Symbol.asyncDispose]();
    expect(stopped.state).to.equal('stopped');
  });

  it('an AbortSignal cleans up', async () => {
    const controller = new AbortController();
    const iface = await createAdapter('tun0', { binding, signal: controller.signal });
    const stopped = new Promise((resolve) => iface.on('state', (to) => { if (to === 'stopped') resolve(to); }));
    controller.abort();
    await stopped;
    expectNothingLeft(binding);
  });

  it('an AbortSignal already aborted: rejects at once with a typed AbortError and touches nothing', async () => {
    const controller = new AbortController();
    const reason = new Error('shutting down');
    controller.abort(reason);
    const error = await createAdapter('tun0', { binding, signal: controller.signal }).then(() => undefined, (e: unknown) => e);
    expect(error).to.be.instanceOf(AbortError).and.instanceOf(TunError);
    expect(error).to.include({ name: 'AbortError', code: 'ABORT_ERR', state: 'uninitialized', by: 'signal', cause: reason });
    expect((error as Error).message).to.match(/options\.signal was aborted/).and.not.match(/cleanup\(\)/);
    expect(binding.faults.calls(), 'no kernel conversation at all').to.equal(0);
    expect(tunLinks(binding)).to.have.length(0);
  });

  it('an AbortSignal aborted while initializing: rejects only once the cleanup left nothing; the name is free at once', async () => {
    const controller = new AbortController();
    const release = binding.faults.hang('addAddress');
    const creating = createAdapter('tun0', { binding, addresses: ['10.0.0.1/24'], signal: controller.signal });
    await until(() => binding.world.openFds().length === 1);
    controller.abort('user gave up');
    release();
    const error = await creating.then(() => undefined, (e: unknown) => e);
    expectNothingLeft(binding);
    expect(error).to.be.instanceOf(AbortError);
    expect(error).to.include({ code: 'ABORT_ERR', state: 'initializing', by: 'signal', cause: 'user gave up' });
    const again = await createAdapter('tun0', { binding });
    expect(again.state).to.equal('ready');
    await again.cleanup();
  });

  it('logs every transition to a pluggable logger (object first, message second)', async () => {
    const lines: Array<[string, Record<string, unknown>, string]> = [];
    const logger = {
      debug: (o: Record<string, unknown>, m: string) => lines.push(['debug', o, m]),
      info: (o: Record<string, unknown>, m: string) => lines.push(['info', o, m]),
      warn: (o: Record<string, unknown>, m: string) => lines.push(['warn', o, m]),
      error: (o: Record<string, unknown>, m: string) => lines.push(['error', o, m]),
    };
    const iface = await createAdapter('tun0', { binding, logger });
    await iface.cleanup();
    const transitions = lines.filter(([level]) => level === 'info').map(([, o]) => `${JSON.stringify(o.from)}→${JSON.stringify(o.to)}`);
    expect(transitions).to.deep.equal([
      '"uninitialized"→{"initializing":"attempt"}', '{"initializing":"attempt"}→"ready"', '"ready"→{"stopping":"round"}', '{"stopping":"round"}→"stopped"',
    ]);
    expect(lines.every(([, o, m]) => o.interface === 'tun0' && typeof m === 'string')).to.equal(true);
  });

  it('passes the inspect option to the actor (every actor event observable)', async () => {
    const types = new Set<string>();
    const iface = await createAdapter('tun0', { binding, inspect: (event) => types.add(event.type) });
    await iface.cleanup();
    expect([...types]).to.include.members(['@xstate.actor', '@xstate.event', '@xstate.snapshot']);
  });

  it('NODE_DEBUG=tun-lifecycle prints the transitions through util.debuglog', async () => {
    const { spawnSync } = await import('node:child_process');
    const index = new URL('../../src/index.js', import.meta.url).href;
    const testing = new URL('../../src/testing.js', import.meta.url).href;
    const source = `
      const { createAdapter } = await import(${JSON.stringify(index)});
      const { SimulatedBinding } = await import(${JSON.stringify(testing)});
      const iface = await createAdapter('dbg0', { binding: new SimulatedBinding() });
      await iface.cleanup();
    `;
    const run = (env: Record<string, string>) => spawnSync(process.execPath, ['--input-type=module', '-e', source], {
      env: { ...process.env, ...env }, encoding: 'utf8',
    });
    const on = run({ NODE_DEBUG: 'tun-lifecycle' });
    expect(on.status, on.stderr).to.equal(0);
    expect(on.stderr).to.match(/TUN-LIFECYCLE \d+: tun-lifecycle: dbg0 initializing → ready/);
    expect(on.stderr).to.match(/dbg0 stopping → stopped/);
    const off = run({ NODE_DEBUG: '' });
    expect(off.stderr, 'silent by default').to.equal('');
  });

  describe('handleSignals', () => {
    const index = new URL('../../src/index.js', import.meta.url).href;
    const testing = new URL('../../src/testing.js', import.meta.url).href;
    async function runWithSignals(hang: boolean, signals: number) {
      const { spawn } = await import('node:child_process');
      const source = `
        const { createAdapter } = await import(${JSON.stringify(index)});
        const { SimulatedBinding } = await import(${JSON.stringify(testing)});
        const binding = new SimulatedBinding();
        const iface = await createAdapter('sig0', { binding, handleSignals: true, cleanupTimeout: 60000 });
        iface.on('state', (to) => console.log(to));
        ${hang ? "binding.faults.hang('setUp');" : ''}
        console.log('ready');
        setInterval(() => {}, 1000);
      `;
      const child = spawn(process.execPath, ['--input-type=module', '-e', source], { stdio: ['ignore', 'pipe', 'pipe'] });
      const lines: string[] = [];
      let stderr = '';
      child.stderr.on('data', (chunk) => { stderr += chunk; });
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        for (const line of chunk.split('\n').filter(Boolean)) {
          lines.push(line);
          if (line === 'ready') {
            child.kill('SIGTERM');
            if (signals > 1) setTimeout(() => child.kill('SIGTERM'), 150);
          }
        }
      });
      const [code, signal] = await new Promise<[number | null, string | null]>((resolve) => child.on('exit', (c, s) => resolve([c, s])));
      return { code, signal, lines, stderr };
    }

    it('a signal cleans up, then the process dies of that signal', async () => {
      const result = await runWithSignals(false, 1);
      expect(result.signal, result.stderr).to.equal('SIGTERM');
      expect(result.lines).to.deep.equal(['ready', 'stopping', 'stopped']);
    });

    it('a second signal while cleanup hangs exits at once (128 + signal number)', async () => {
      const result = await runWithSignals(true, 2);
      expect(result.code, result.stderr).to.equal(143);
      expect(result.lines).to.deep.equal(['ready', 'stopping']);
    });
  });

  it("'alert' on every alertThreshold-th consecutive failure", async () => {
    binding.faults.fail('open', 'EAGAIN', Infinity);
    const alerts: number[] = [];
    const iface = new TunAdapter('tun0', { binding, retryAttempts: 4, retryDelay: 1, alertThreshold: 2 });
    iface.on('alert', (info) => alerts.push(info.consecutiveFailures));
    const error = await iface.start().then(() => undefined, (e: unknown) => e);
    expect(error).to.be.instanceOf(ConfigurationFailedError);
    expect(alerts).to.deep.equal([2, 4]);
    await iface.cleanup();
  });

  describe('persistent interfaces and leftovers', () => {
    it('persist: cleanup deletes the link only after closing its fds', async () => {
      const iface = await createAdapter('tunp', { binding, persist: true, addresses: ['10.9.0.1/24'] });
      expect(binding.world.link('tunp')!.persistent).to.equal(true);
      await iface.cleanup();
      expectNothingLeft(binding);
      expect(binding.faults.calls('deleteLink')).to.equal(1);
    });

    it('reclaims a tagged leftover whose owner process is gone', async () => {
      const leftover = await binding.open({ name: 'tunp', persist: true });
      await binding.setAlias(leftover.ifindex, 'tun-lifecycle:999999999');
      leftover.close();
      const oldIndex = binding.world.link('tunp')!.ifindex;
      const iface = await createAdapter('tunp', { binding, persist: true });
      expect(iface.ifindex).to.not.equal(oldIndex);
      expect(binding.world.link('tunp')!.alias).to.equal(`tun-lifecycle:${process.pid}`);
      await iface.cleanup();
      expectNothingLeft(binding);
    });

    it('never touches an untagged interface that already exists: ConfigurationFailedError (EEXIST)', async () => {
      const foreign = await binding.open({ name: 'tunx', persist: true });
      foreign.close();
      const index = binding.world.link('tunx')!.ifindex;
      const error = await createAdapter('tunx', { binding, persist: true }).then(() => undefined, (e: unknown) => e);
      expect(error).to.be.instanceOf(ConfigurationFailedError);
      expect(((error as Error).cause as { code: string }).code).to.equal('EEXIST');
      expect(binding.world.link('tunx')!.ifindex).to.equal(index);
      expect(binding.faults.calls('deleteLink')).to.equal(0);
      expect(binding.faults.calls('setAlias')).to.equal(0);
    });
  });
});

describe('adapter options', () => {
  it('DEFAULT_OPTIONS holds the reference defaults', () => {
    expect(DEFAULT_OPTIONS).to.include({ retryAttempts: 5, retryDelay: 200, cleanupTimeout: 10_000, validateState: true });
    expect(Object.isFrozen(DEFAULT_OPTIONS)).to.equal(true);
  });

  const bad: Array<[string, string, Record<string, unknown>, typeof TypeError | typeof RangeError, RegExp]> = [
    ['name', '', {}, TypeError, /"name"/],
    ['name', 'a/b', {}, TypeError, /"name"/],
    ['name', 'x'.repeat(16), {}, TypeError, /"name"/],
    ['retryAttempts', 'tun0', { retryAttempts: -1 }, RangeError, /options\.retryAttempts/],
    ['retryAttempts', 'tun0', { retryAttempts: '3' }, TypeError, /options\.retryAttempts/],
    ['retryDelay', 'tun0', { retryDelay: 1.5 }, RangeError, /options\.retryDelay/],
    ['retryDelayMax', 'tun0', { retryDelay: 500, retryDelayMax: 100 }, RangeError, /options\.retryDelayMax/],
    ['retryJitter', 'tun0', { retryJitter: 2 }, RangeError, /options\.retryJitter/],
    ['cleanupTimeout', 'tun0', { cleanupTimeout: 0 }, RangeError, /options\.cleanupTimeout/],
    ['cleanupTimeout', 'tun0', { cleanupTimeout: 2 ** 31 }, RangeError, /options\.cleanupTimeout/],
    ['validateState', 'tun0', { validateState: 'yes' }, TypeError, /options\.validateState/],
    ['mtu', 'tun0', { mtu: 67 }, RangeError, /options\.mtu/],
    ['mtu', 'tun0', { mtu: 1000, addresses: ['fd00::1/64'] }, RangeError, /options\.mtu.*1280/],
    ['mtu', 'tun0', { mtu: 1000, routes: ['fd01::/64'] }, RangeError, /options\.mtu.*1280/],
    ['addresses', 'tun0', { addresses: '10.0.0.1/24' }, TypeError, /options\.addresses/],
    ['addresses', 'tun0', { addresses: ['10.0.0.1'] }, TypeError, /options\.addresses\[0\]/],
    ['addresses', 'tun0', { addresses: ['10.0.0.1/24', '10.0.0.300/24'] }, TypeError, /options\.addresses\[1\]/],
    ['addresses', 'tun0', { addresses: ['10.0.0.1/24', '10.0.0.1/16'] }, TypeError, /options\.addresses\[1\]/],
    ['routes', 'tun0', { routes: ['10.1.0.1/16'] }, TypeError, /options\.routes\[0\]\.destination.*10\.1\.0\.0\/16/],
    ['routes', 'tun0', { routes: [{ destination: '10.1.0.0/16', metric: -1 }] }, RangeError, /options\.routes\[0\]\.metric/],
    ['queues', 'tun0', { queues: 0 }, RangeError, /options\.queues/],
    ['binding', 'tun0', { binding: {} }, TypeError, /options\.binding/],
    ['signal', 'tun0', { signal: {} }, TypeError, /options\.signal/],
    ['unknown', 'tun0', { retryAttempt: 3 }, TypeError, /options\.retryAttempt\b/],
  ];
  for (const [option, name, options, type, message] of bad) {
    it(`refuses a bad ${option} (${JSON.stringify(options)}) before touching the kernel`, async () => {
      const binding = new SimulatedBinding();
      expect(() => new TunAdapter(name, { binding, ...options } as never)).to.throw(type, message);
      const error = await createAdapter(name, { binding, ...options } as never).then(() => undefined, (e: unknown) => e);
      expect(error).to.be.instanceOf(type);
      expect(binding.faults.calls()).to.equal(0);
      expect(tunLinks(binding)).to.deep.equal([]);
    });
  }
});
