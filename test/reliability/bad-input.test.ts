// Bad input, more than sixty cases over names, options, addresses, routes,
// packets and API misuse (wrong state, after cleanup, concurrent). Each gets a
// typed error (a stable `code`) whose message names the problem; the state
// is unchanged; nothing reached the kernel or was left in it; the process
// goes on. Run on the simulated binding, whose fault counters prove that a
// refused call never reached the "kernel".

import { expect } from 'chai';
import { InterfaceNotReadyError, InvalidStateTransitionError, TunAdapter } from '../../src/index.js';
import type { AdapterOptions } from '../../src/index.js';
import { SimulatedBinding } from '../../src/testing.js';
import { recordResult } from './results.js';

let tried = 0;
let held = 0;
let leaks = 0;

function leftovers(binding: SimulatedBinding): number {
  return binding.world.links().filter((l) => l.kind !== 'loopback').length + binding.world.openFds().length;
}

function expectTyped(error: unknown, mentions: RegExp | string, code?: string): void {
  expect(error, 'an error was thrown').to.be.instanceOf(Error);
  const e = error as Error & { code?: string };
  expect(e.code, `${e.name}: ${e.message}`).to.be.a('string');
  if (code) expect(e.code).to.equal(code);
  expect(e.message).to.match(typeof mentions === 'string' ? new RegExp(mentions.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) : mentions);
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return undefined;
}

const BAD_NAMES: Array<[string, unknown]> = [
  ['empty', ''],
  ['16 bytes', 'a'.repeat(16)],
  ['a space', 'tun 0'],
  ['a slash', 'tun/0'],
  ['a colon', 'tun:0'],
  ['"."', '.'],
  ['".."', '..'],
  ['a NUL', 'tun\0'],
  ['a number', 42],
  ['null', null],
  ['an object', { name: 'tun0' }],
  ['multibyte over 15 bytes', 'ü'.repeat(8)],
];

const BAD_OPTIONS: Array<[string, unknown, RegExp]> = [
  ['options null', null, /options/],
  ['options an array', [], /options/],
  ['options a string', 'fast', /options/],
  ['an unknown option', { retries: 3 }, /options\.retries/],
  ['retryAttempts -1', { retryAttempts: -1 }, /retryAttempts/],
  ['retryAttempts 1.5', { retryAttempts: 1.5 }, /retryAttempts/],
  ['retryAttempts a string', { retryAttempts: '3' }, /retryAttempts/],
  ['retryDelay NaN', { retryDelay: Number.NaN }, /retryDelay/],
  ['retryDelay negative', { retryDelay: -5 }, /retryDelay/],
  ['retryDelayMax below retryDelay', { retryDelay: 500, retryDelayMax: 100 }, /retryDelayMax/],
  ['retryJitter 2', { retryJitter: 2 }, /retryJitter/],
  ['cleanupTimeout 0', { cleanupTimeout: 0 }, /cleanupTimeout/],
  ['cleanupTimeout Infinity', { cleanupTimeout: Infinity }, /cleanupTimeout/],
  ['validateState a string', { validateState: 'no' }, /validateState/],
  ['alertThreshold -1', { alertThreshold: -1 }, /alertThreshold/],
  ['mtu 0', { mtu: 0 }, /mtu/],
  ['mtu 67', { mtu: 67 }, /mtu/],
  ['mtu 70000', { mtu: 70_000 }, /mtu/],
  ['mtu a string', { mtu: '1500' }, /mtu/],
  ['mtu 1000 with an IPv6 address', { mtu: 1000, addresses: ['fd00::1/64'] }, /mtu/],
  ['queues 0', { queues: 0 }, /queues/],
  ['queues 1.5', { queues: 1.5 }, /queues/],
  ['queues 100000', { queues: 100_000 }, /queues/],
  ['persist a string', { persist: 'yes' }, /persist/],
  ['owner -2', { owner: -2 }, /owner/],
  ['group a string', { group: 'wheel' }, /group/],
  ['binding an empty object', { binding: {} }, /binding/],
  ['logger a number', { logger: 5 }, /logger/],
  ['signal not an AbortSignal', { signal: {} }, /signal/],
  ['inspect a number', { inspect: 5 }, /inspect/],
  ['handleSignals 1', { handleSignals: 1 }, /handleSignals/],
  ['addresses not an array', { addresses: '10.0.0.1/24' }, /addresses/],
  ['an address without prefix', { addresses: ['10.0.0.1'] }, /addresses\[0\]/],
  ['an IPv4 prefix of 33', { addresses: ['10.0.0.1/33'] }, /addresses\[0\]/],
  ['an IPv4 octet of 300', { addresses: ['300.0.0.1/24'] }, /addresses\[0\]/],
  ['an IPv6 prefix of 129', { addresses: ['fd00::1/129'] }, /addresses\[0\]/],
  ['an address that is words', { addresses: ['; rm -rf /'] }, /addresses\[0\]/],
  ['an address that is a number', { addresses: [167772161] }, /addresses\[0\]/],
  ['the same address twice', { addresses: ['10.0.0.1/24', '10.0.0.1/24'] }, /addresses\[1\]/],
  ['routes not an array', { routes: { destination: '10.0.0.0/8' } }, /routes/],
  ['a route with two prefixes', { routes: ['10.0.0.0/8/1'] }, /routes\[0\]/],
  ['a route that is words', { routes: [{ destination: 'the internet' }] }, /routes\[0\]/],
  ['a route metric -1', { routes: [{ destination: '10.0.0.0/8', metric: -1 }] }, /metric/],
  ['a route "default"', { routes: ['default'] }, /routes\[0\]/],
  ['the same route twice', { routes: ['10.1.0.0/16', '10.1.0.0/16'] }, /routes\[1\]/],
  ['a route with a host part and no prefix', { routes: ['10.1.0.1'] }, /routes\[0\]/],
];

describe('reliability: bad input', () => {
  let binding: SimulatedBinding;
  beforeEach(() => { binding = new SimulatedBinding(); });
  afterEach(function () {
    tried++;
    const left = leftovers(binding);
    if (left > 0) leaks++;
    if (this.currentTest?.state === 'passed' && left === 0) held++;
  });
  after(() => recordResult('bad-input', { tried, held, leaks, notes: 'names, options, addresses, routes, packets, API misuse (wrong state, after cleanup, concurrent)' }));

  describe('names', () => {
    for (const [what, name] of BAD_NAMES) {
      it(`name with ${what} → typed error naming "name", nothing touched`, () => {
        const error = thrown(() => new TunAdapter(name as string, { binding }));
        expectTyped(error, /"name"/);
        expect(binding.faults.calls(), 'no kernel call').to.equal(0);
      });
    }
  });

  describe('options, addresses, routes', () => {
    for (const [what, options, mentions] of BAD_OPTIONS) {
      it(`${what} → typed error naming it, nothing touched`, () => {
        const merged = options !== null && typeof options === 'object' && !Array.isArray(options) ? { binding, ...(options as object) } : options;
        const error = thrown(() => new TunAdapter('tun0', merged as AdapterOptions));
        expectTyped(error, mentions);
        expect(binding.faults.calls(), 'no kernel call').to.equal(0);
      });
    }
  });

  describe('packets (adapter ready)', () => {
    const badPackets: Array<[string, unknown, number, RegExp]> = [
      ['a string', 'hello', 0, /packet/],
      ['null', null, 0, /packet/],
      ['an empty buffer', Buffer.alloc(0), 0, /packet/],
      ['a first nibble of 5', Buffer.from([0x50, 0, 0, 20, ...new Array(16).fill(0)]), 0, /packet|version|nibble/i],
      ['larger than the MTU', Buffer.alloc(1500 + 100, 0x45), 0, /packet|mtu|size|length/i],
      ['truncated (IPv4 total length 40, 20 bytes)', Buffer.from([0x45, 0, 0, 40, ...new Array(16).fill(0)]), 0, /total length says 40/],
      ['truncated (IPv6 payload length 8, 40 bytes)', Buffer.from([0x60, 0, 0, 0, 0, 8, ...new Array(34).fill(0)]), 0, /payload length says 48/],
      ['queue index 1 of 1', Buffer.from([0x45, 0, 0, 20, ...new Array(16).fill(0)]), 1, /queue/],
      ['queue index -1', Buffer.from([0x45, 0, 0, 20, ...new Array(16).fill(0)]), -1, /queue/],
    ];
    for (const [what, packet, queue, mentions] of badPackets) {
      it(`write(${what}) → typed error naming it; still ready, nothing sent`, async () => {
        const adapter = new TunAdapter('tun0', { binding, retryDelay: 1 });
        await adapter.start();
        try {
          const error = thrown(() => adapter.write(packet as Uint8Array, queue));
          expectTyped(error, mentions);
          expect(adapter.state).to.equal('ready');
          expect(binding.world.transmitted('tun0')).to.deep.equal([]);
        } finally {
          // Cleaned up whatever the assertions said, so a leftover counted after is a real leak.
          await adapter.cleanup();
        }
      });
    }
  });

  describe('API misuse', () => {
    const make = () => new TunAdapter('tun0', { binding, retryDelay: 1 });

    it('cleanup() before start() → InvalidStateTransitionError; still uninitialized, nothing touched', async () => {
      const adapter = make();
      const error = await adapter.cleanup().then(() => undefined, (e: unknown) => e);
      expectTyped(error, /cleanup\(\).*uninitialized/, 'ERR_INVALID_STATE_TRANSITION');
      expect(adapter.state).to.equal('uninitialized');
      expect(binding.faults.calls()).to.equal(0);
    });

    it('recover() before start() → InvalidStateTransitionError', async () => {
      const adapter = make();
      expectTyped(await adapter.recover().then(() => undefined, (e: unknown) => e), /recover\(\)/, 'ERR_INVALID_STATE_TRANSITION');
      expect(adapter.state).to.equal('uninitialized');
    });

    it('write() before start() → InterfaceNotReadyError', () => {
      const error = thrown(() => make().write(Buffer.from([0x45, ...new Array(19).fill(0)])));
      expect(error).to.be.instanceOf(InterfaceNotReadyError);
      expectTyped(error, /write\(\).*ready/, 'ERR_INTERFACE_NOT_READY');
    });

    it('start() when ready → InvalidStateTransitionError; still ready', async () => {
      const adapter = await make().start();
      expectTyped(await adapter.start().then(() => undefined, (e: unknown) => e), /start\(\).*ready/, 'ERR_INVALID_STATE_TRANSITION');
      expect(adapter.state).to.equal('ready');
      await adapter.cleanup();
    });

    it('recover() when ready → InvalidStateTransitionError; still ready', async () => {
      const adapter = await make().start();
      expectTyped(await adapter.recover().then(() => undefined, (e: unknown) => e), /recover\(\)/, 'ERR_INVALID_STATE_TRANSITION');
      expect(adapter.state).to.equal('ready');
      await adapter.cleanup();
    });

    for (const call of ['start', 'cleanup', 'recover'] as const) {
      it(`${call}() after cleanup → InvalidStateTransitionError; still stopped`, async () => {
        const adapter = await make().start();
        await adapter.cleanup();
        const error = await adapter[call]().then(() => undefined, (e: unknown) => e);
        expect(error).to.be.instanceOf(InvalidStateTransitionError);
        expectTyped(error, new RegExp(`${call}\\(\\).*stopped`), 'ERR_INVALID_STATE_TRANSITION');
        expect(adapter.state).to.equal('stopped');
      });
    }

    it('write() after cleanup → InterfaceNotReadyError', async () => {
      const adapter = await make().start();
      await adapter.cleanup();
      expectTyped(thrown(() => adapter.write(Buffer.from([0x45, ...new Array(19).fill(0)]))), /write\(\).*stopped/, 'ERR_INTERFACE_NOT_READY');
    });

    it('write() while stopping → InterfaceNotReadyError', async () => {
      const adapter = await make().start();
      const release = binding.faults.hang('setUp');
      const cleaning = adapter.cleanup();
      expect(adapter.state).to.equal('stopping');
      expectTyped(thrown(() => adapter.write(Buffer.from([0x45, ...new Array(19).fill(0)]))), /write\(\).*stopping/, 'ERR_INTERFACE_NOT_READY');
      release();
      await cleaning;
    });

    it('concurrent start() calls share one attempt (one open)', async () => {
      const adapter = make();
      const [a, b] = [adapter.start(), adapter.start()];
      expect(a).to.equal(b);
      await a;
      expect(binding.faults.calls('open')).to.equal(1);
      await adapter.cleanup();
    });

    it('concurrent cleanup() calls share one run', async () => {
      const adapter = await make().start();
      const [a, b] = [adapter.cleanup(), adapter.cleanup()];
      expect(a).to.equal(b);
      await Promise.all([a, b]);
      expect(adapter.state).to.equal('stopped');
    });

    it('cleanup() during start(): start rejects with AbortError, cleanup leaves nothing', async () => {
      const adapter = make();
      const release = binding.faults.hang('open');
      const starting = adapter.start();
      const cleaning = adapter.cleanup();
      release();
      const error = await starting.then(() => undefined, (e: unknown) => e);
      expectTyped(error, /cleanup\(\) was called before/, 'ABORT_ERR');
      await cleaning;
      expect(adapter.state).to.equal('stopped');
    });

    it('start() during cleanup → InvalidStateTransitionError', async () => {
      const adapter = await make().start();
      const release = binding.faults.hang('setUp');
      const cleaning = adapter.cleanup();
      expectTyped(await adapter.start().then(() => undefined, (e: unknown) => e), /start\(\).*stopping/, 'ERR_INVALID_STATE_TRANSITION');
      release();
      await cleaning;
    });

    it('a name already taken by an interface we do not own → ConfigurationFailedError (EEXIST), the other untouched', async () => {
      const first = await make().start();
      const second = new TunAdapter('tun0', { binding, retryDelay: 1 });
      const error = await second.start().then(() => undefined, (e: unknown) => e);
      expectTyped(error, /configuration failed/, 'ERR_CONFIGURATION_FAILED');
      expect(((error as Error).cause as { code: string }).code).to.equal('EEXIST');
      expect(first.state).to.equal('ready');
      expect(binding.world.link('tun0')!.ifindex).to.equal(first.ifindex);
      await second.cleanup();
      await first.cleanup();
    });
  });
});
