// Bad input must be refused with a typed, Node-style error naming the
// argument, before anything reaches the kernel. These run the validators
// directly and through a binding (the binding must not touch the kernel).

import { expect } from 'chai';
import {
  InvalidArgumentTypeError, InvalidArgumentValueError, OutOfRangeError, normalizeRoute, parseCidr,
  validateInterfaceName, validateMtu, validateNetns, validateOpenOptions, validatePacket,
} from '../../src/binding/contract/validate.js';
import { SimulatedBinding } from '../../src/testing.js';
import { effectiveMetric } from '../../src/binding/contract/route-metric.js';
import { DEFAULT_POLICY } from '../../machines/tunLifecycle.js';
import { DEFAULT_OPTIONS as PUBLIC_DEFAULTS } from '../../src/index.js';
import { DEFAULT_OPTIONS, OPTION_KEYS, OPTION_PARTS, resolveAll, resolveOptions } from '../../src/options.js';

type ErrorClass = typeof InvalidArgumentTypeError | typeof InvalidArgumentValueError | typeof OutOfRangeError;

function expectRefused(fn: () => unknown, cls: ErrorClass, argument: string): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught, 'expected a throw').to.be.instanceOf(cls);
  const err = caught as Error & { code: string };
  const code = cls === InvalidArgumentTypeError ? 'ERR_INVALID_ARG_TYPE' : cls === OutOfRangeError ? 'ERR_OUT_OF_RANGE' : 'ERR_INVALID_ARG_VALUE';
  expect(err.code).to.equal(code);
  expect(err.message).to.include(`"${argument}"`);
  // Node's conventions: TypeError for type/value, RangeError for ranges
  expect(err).to.be.instanceOf(cls === OutOfRangeError ? RangeError : TypeError);
}

describe('argument validation', () => {
  describe('interface names', () => {
    const badValues: Array<[string, string]> = [
      ['', 'empty'],
      ['abcdefghijklmnop', '16 bytes'],
      ['a'.repeat(40), 'far too long'],
      ['tun/0', "a '/'"],
      ['tun 0', 'a space'],
      ['tun\t0', 'a tab'],
      ['tun\n0', 'a newline'],
      ['tun:0', "a ':'"],
      ['.', "'.'"],
      ['..', "'..'"],
      ['tun\u00000', 'a NUL'],
      ['ééééééééx', 'multi-byte UTF-8 over 15 bytes (17 bytes, 9 characters)'],
      ['tun%d%d', 'two patterns'],
      ['tun%s', "'%' not as %d"],
    ];
    for (const [name, why] of badValues) {
      it(`refuses ${why}: ${JSON.stringify(name)}`, () => {
        expectRefused(() => validateInterfaceName(name, 'options.name', true), InvalidArgumentValueError, 'options.name');
      });
    }

    for (const value of [undefined, null, 42, {}, ['tun0'], Buffer.from('tun0'), Symbol.iterator] as unknown[]) {
      it(`refuses a non-string name (${typeof value === 'symbol' ? 'symbol' : JSON.stringify(value) ?? String(value)})`, () => {
        expectRefused(() => validateInterfaceName(value, 'name'), InvalidArgumentTypeError, 'name');
      });
    }

    it('refuses a %d pattern where only a real name can go', () => {
      expectRefused(() => validateInterfaceName('tun%d', 'link'), InvalidArgumentValueError, 'link');
    });

    it('accepts names up to 15 bytes, multi-byte included, and a single %d pattern', () => {
      expect(validateInterfaceName('abcdefghijklmno', 'name')).to.equal('abcdefghijklmno');
      expect(validateInterfaceName('ééééééé', 'name')).to.equal('ééééééé'); // 14 bytes
      expect(validateInterfaceName('tun%d', 'name', true)).to.equal('tun%d');
      expect(validateInterfaceName('a-b_c.d', 'name')).to.equal('a-b_c.d');
    });
  });

  describe('MTU', () => {
    for (const mtu of [0, 67, -1, 65536, 1e9, 1500.5, NaN, Infinity, -Infinity]) {
      it(`refuses ${mtu} as out of range`, () => expectRefused(() => validateMtu(mtu), OutOfRangeError, 'mtu'));
    }
    for (const mtu of ['1500', null, undefined, 1500n, {}] as unknown[]) {
      it(`refuses a non-number (${typeof mtu})`, () => expectRefused(() => validateMtu(mtu), InvalidArgumentTypeError, 'mtu'));
    }
    it('accepts 68, 1280, 1500 and 65535', () => {
      for (const mtu of [68, 1280, 1500, 65535]) expect(validateMtu(mtu)).to.equal(mtu);
    });
  });

  describe('CIDRs', () => {
    const malformed = [
      '10.0.0.1', '10.0.0.1/', '/24', '10.0.0.1/33', '10.0.0.1/-1', '10.0.0.1/24/1', '10.0.0.1/2a', '10.0.0.1/ 24',
      '10.0.0/24', '10.0.0.256/24', '10.0.0.1.1/24', ' 10.0.0.1/24', '10.0.0.1 /24', '010.0.0.1/24x', 'fd00::1/129',
      'fd00:::1/64', 'fd00::1::2/64', 'fe80::1%eth0/64', 'gggg::1/64', 'fd00::1', '::/', 'localhost/8', '', '/', '1.2.3.4/0024',
    ];
    for (const cidr of malformed) {
      it(`refuses ${JSON.stringify(cidr)}`, () => expectRefused(() => parseCidr(cidr, 'cidr'), InvalidArgumentValueError, 'cidr'));
    }
    for (const value of [undefined, null, 10, { address: '10.0.0.1', prefix: 24 }, ['10.0.0.1/24']] as unknown[]) {
      it(`refuses a non-string CIDR (${JSON.stringify(value) ?? 'undefined'})`, () => {
        expectRefused(() => parseCidr(value, 'cidr'), InvalidArgumentTypeError, 'cidr');
      });
    }
    it('canonicalises what it accepts', () => {
      expect(parseCidr('10.0.0.1/24', 'cidr').cidr).to.equal('10.0.0.1/24');
      expect(parseCidr('FD00:0:0:0::0001/64', 'cidr').cidr).to.equal('fd00::1/64');
      expect(parseCidr('::ffff:10.0.0.1/128', 'cidr').cidr).to.equal('::ffff:a00:1/128');
      expect(parseCidr('0.0.0.0/0', 'cidr').family).to.equal(4);
    });
  });

  describe('routes', () => {
    it('refuses a destination with host bits set, suggesting the network', () => {
      for (const [dst, network] of [['10.1.2.3/16', '10.1.0.0/16'], ['fd00::1/64', 'fd00::/64'], ['10.0.0.1/0', '0.0.0.0/0']]) {
        let message = '';
        try {
          normalizeRoute({ destination: dst! });
        } catch (err) {
          expect(err).to.be.instanceOf(InvalidArgumentValueError);
          message = (err as Error).message;
        }
        expect(message).to.include('"route.destination"').and.include(network!);
      }
    });
    it('refuses "default", a bad metric and a route that is not an object', () => {
      expectRefused(() => normalizeRoute({ destination: 'default' }), InvalidArgumentValueError, 'route.destination');
      expectRefused(() => normalizeRoute({ destination: '10.0.0.0/8', metric: -1 }), OutOfRangeError, 'route.metric');
      expectRefused(() => normalizeRoute({ destination: '10.0.0.0/8', metric: 2 ** 32 }), OutOfRangeError, 'route.metric');
      expectRefused(() => normalizeRoute({ destination: '10.0.0.0/8', metric: '5' as never }), InvalidArgumentTypeError, 'route.metric');
      expectRefused(() => normalizeRoute(null), InvalidArgumentTypeError, 'route');
      expectRefused(() => normalizeRoute(7), InvalidArgumentTypeError, 'route');
    });
    it('accepts networks, IPv4 and IPv6, with and without metric', () => {
      expect(normalizeRoute({ destination: '10.1.0.0/16' })).to.include({ family: 4, metric: 0 });
      expect(normalizeRoute({ destination: 'fd01::/64', metric: 7 }).destination.cidr).to.equal('fd01::/64');
    });
  });

  describe('packets', () => {
    const ipv4 = Buffer.from('45000014000000004011000a0a0000010a000002', 'hex');
    it('refuses what is not bytes', () => {
      for (const value of ['hello', [0x45, 0], null, undefined, 42, new ArrayBuffer(20), new Uint16Array(10)] as unknown[]) {
        // a Uint16Array is a typed array but not bytes
        if (value instanceof Uint16Array) {
          expect(() => validatePacket(value, 1500)).to.throw(TypeError);
          continue;
        }
        expectRefused(() => validatePacket(value, 1500), InvalidArgumentTypeError, 'packet');
      }
    });
    it('refuses an empty packet and one over the MTU', () => {
      expectRefused(() => validatePacket(Buffer.alloc(0), 1500), OutOfRangeError, 'packet.length');
      const big = Buffer.alloc(1501);
      big[0] = 0x45;
      big.writeUInt16BE(1501, 2);
      expectRefused(() => validatePacket(big, 1500), OutOfRangeError, 'packet.length');
      const exact = big.subarray(0, 1500);
      exact.writeUInt16BE(1500, 2);
      expect(validatePacket(exact, 1500).length).to.equal(1500);
    });
    it('refuses a version nibble other than 4 or 6', () => {
      for (const first of [0x00, 0x15, 0x50, 0xf0]) {
        const packet = Buffer.from(ipv4);
        packet[0] = first;
        expectRefused(() => validatePacket(packet, 1500), InvalidArgumentValueError, 'packet');
      }
      expect(validatePacket(ipv4, 1500)).to.equal(ipv4);
    });
    it('refuses a packet whose IP length field disagrees with the buffer (truncated or padded), or shorter than its header', () => {
      const ipv6 = Buffer.alloc(48);
      ipv6[0] = 0x60;
      ipv6.writeUInt16BE(8, 4);
      expect(validatePacket(ipv6, 1500)).to.equal(ipv6);
      const refused = [
        ipv4.subarray(0, 19), Buffer.concat([ipv4, Buffer.alloc(1)]), ipv6.subarray(0, 47), Buffer.concat([ipv6, Buffer.alloc(2)]),
        ipv6.subarray(0, 39), Buffer.from('4400001400000000', 'hex'),
      ];
      for (const packet of refused) expectRefused(() => validatePacket(packet, 1500), InvalidArgumentValueError, 'packet');
      const shortHeader = Buffer.from(ipv4);
      shortHeader[0] = 0x44; // IHL 4: 16 bytes, less than the least IPv4 header
      expectRefused(() => validatePacket(shortHeader, 1500), InvalidArgumentValueError, 'packet');
    });
  });

  describe('open options', () => {
    it('refuses bad shapes, naming the option', () => {
      expectRefused(() => validateOpenOptions('tun0'), InvalidArgumentTypeError, 'options');
      expectRefused(() => validateOpenOptions(null), InvalidArgumentTypeError, 'options');
      expectRefused(() => validateOpenOptions({ queues: 0 }), OutOfRangeError, 'options.queues');
      expectRefused(() => validateOpenOptions({ queues: 257 }), OutOfRangeError, 'options.queues');
      expectRefused(() => validateOpenOptions({ queues: 2, multiQueue: false }), InvalidArgumentValueError, 'options.multiQueue');
      expectRefused(() => validateOpenOptions({ persist: 'yes' }), InvalidArgumentTypeError, 'options.persist');
      expectRefused(() => validateOpenOptions({ attachExisting: 1 }), InvalidArgumentTypeError, 'options.attachExisting');
      expectRefused(() => validateOpenOptions({ owner: -1 }), OutOfRangeError, 'options.owner');
      expectRefused(() => validateOpenOptions({ name: 'bad name' }), InvalidArgumentValueError, 'options.name');
    });
    it('fills defaults', () => {
      expect(validateOpenOptions(undefined)).to.deep.equal({
        name: 'tun%d', queues: 1, multiQueue: false, persist: false, owner: undefined, group: undefined, attachExisting: false,
        netns: undefined, readBack: false, offload: false,
      });
      expect(validateOpenOptions({ queues: 4 }).multiQueue).to.equal(true);
      expect(() => validateOpenOptions({ readBack: 'yes' })).to.throw(TypeError, /options\.readBack/u);
    });

    it("offload: false, true, 'auto' or 'raw'; anything else is refused naming the option", () => {
      for (const offload of [false, true, 'auto', 'raw'] as const) expect(validateOpenOptions({ offload }).offload).to.equal(offload);
      for (const bad of ['on', 1, null, 'RAW']) {
        expect(() => validateOpenOptions({ offload: bad }), String(bad)).to.throw(TypeError, /options\.offload/);
      }
    });

    it('netns: a name means /var/run/netns/NAME, a path stays, an fd is a non-negative integer; anything else is refused', () => {
      expect(validateNetns('blue')).to.deep.equal({ path: '/var/run/netns/blue' });
      expect(validateNetns('/proc/1/ns/net')).to.deep.equal({ path: '/proc/1/ns/net' });
      expect(validateNetns(7)).to.deep.equal({ fd: 7 });
      expect(() => validateNetns('')).to.throw(TypeError, /netns/);
      expect(() => validateNetns('..')).to.throw(TypeError, /netns/);
      expect(() => validateNetns('a\0b')).to.throw(TypeError, /NUL/);
      expect(() => validateNetns(-1)).to.throw(RangeError, /netns/);
      expect(() => validateNetns(1.5)).to.throw(/netns/);
      expect(() => validateNetns({})).to.throw(TypeError, /netns/);
      expect(() => validateOpenOptions({ netns: 3.5 })).to.throw(/options\.netns/);
    });
  });

  describe('through a binding: refused before any kernel call, nothing made', () => {
    let binding: SimulatedBinding;
    beforeEach(() => {
      binding = new SimulatedBinding();
    });

    async function refusedAsync(call: () => Promise<unknown>, cls: ErrorClass, argument: string): Promise<void> {
      let caught: unknown;
      try {
        await call();
      } catch (err) {
        caught = err;
      }
      expectRefused(() => { if (caught) throw caught; }, cls, argument);
    }

    it('rejects bad arguments of every method and counts no call', async () => {
      const b = binding;
      await refusedAsync(() => b.open({ name: '../etc' }), InvalidArgumentValueError, 'options.name');
      await refusedAsync(() => b.getLink({} as never), InvalidArgumentTypeError, 'link');
      await refusedAsync(() => b.getLink(0), OutOfRangeError, 'link');
      await refusedAsync(() => b.setMtu(1, 10), OutOfRangeError, 'mtu');
      await refusedAsync(() => b.setMtu(-3, 1500), OutOfRangeError, 'ifindex');
      await refusedAsync(() => b.setUp(1, 'yes' as never), InvalidArgumentTypeError, 'up');
      await refusedAsync(() => b.setAlias(1, 5 as never), InvalidArgumentTypeError, 'alias');
      await refusedAsync(() => b.setAlias(1, 'x'.repeat(256)), InvalidArgumentValueError, 'alias');
      await refusedAsync(() => b.setGroup(1, -1), OutOfRangeError, 'group');
      await refusedAsync(() => b.addAddress(1, '10.0.0.1'), InvalidArgumentValueError, 'cidr');
      await refusedAsync(() => b.deleteAddress(1, 'nope/8'), InvalidArgumentValueError, 'cidr');
      await refusedAsync(() => b.addRoute(1, { destination: '10.0.0.1/8' }), InvalidArgumentValueError, 'route.destination');
      await refusedAsync(() => b.deleteRoute(1, { destination: '10.0.0.0/8', metric: 1.5 }), OutOfRangeError, 'route.metric');
      await refusedAsync(() => b.listAddresses('lo' as never), InvalidArgumentTypeError, 'ifindex');
      await refusedAsync(() => b.listRoutes(2 ** 31), OutOfRangeError, 'ifindex');
      await refusedAsync(() => b.deleteLink(NaN), OutOfRangeError, 'ifindex');
      await refusedAsync(() => b.deleteLinkGroup(0), OutOfRangeError, 'group');
      expectRefused(() => b.monitor(1, 'callback' as never), InvalidArgumentTypeError, 'onEvent');
      expectRefused(() => b.monitor(0, () => {}), OutOfRangeError, 'ifindex');
      expect(b.faults.calls(), JSON.stringify(b.faults.callCounts())).to.equal(0);
      expect(b.world.links().map((l) => l.name)).to.deep.equal(['lo']);
      expect(b.openFdCount()).to.equal(0);
    });

    it('a queue refuses bad packets synchronously, counting nothing as sent', async () => {
      const device = await binding.open();
      await binding.setUp(device.ifindex, true);
      const queue = device.queues[0]!;
      expectRefused(() => queue.write('packet' as never), InvalidArgumentTypeError, 'packet');
      expectRefused(() => queue.write(Buffer.alloc(0)), OutOfRangeError, 'packet.length');
      const huge = Buffer.alloc(1501);
      huge[0] = 0x60;
      expectRefused(() => queue.write(huge), OutOfRangeError, 'packet.length');
      expectRefused(() => queue.write(Buffer.from([0x20, 0, 0, 0])), InvalidArgumentValueError, 'packet');
      expect(queue.stats().txPackets).to.equal(0);
      expect(binding.world.transmitted(device.name)).to.have.length(0);
      device.close();
    });
  });
});

describe('options: one table', () => {
  it('every key has a part and a check: a wrong value is refused naming options.<key>', () => {
    expect(OPTION_KEYS.length).to.be.greaterThan(15);
    for (const key of OPTION_KEYS) {
      expect(['policy', 'link', 'wiring'], key).to.include(OPTION_PARTS[key]);
      let caught: unknown;
      try {
        resolveOptions({ [key]: Symbol('wrong') });
      } catch (error) {
        caught = error;
      }
      expect(caught, `options.${key} accepted a symbol`).to.be.instanceOf(TypeError);
      expect((caught as Error).message, key).to.include(`"options.${key}`);
    }
  });

  it('an unknown key is refused; the known keys are the table\'s', () => {
    expectRefused(() => resolveOptions({ retryAttempt: 1 }), InvalidArgumentValueError, 'options.retryAttempt');
    expect(Object.keys(resolveAll({})).sort()).to.deep.equal([...OPTION_KEYS].sort());
  });

  it('DEFAULT_OPTIONS: the public one, derived from the table, its policy half the chart\'s DEFAULT_POLICY', () => {
    expect(PUBLIC_DEFAULTS).to.equal(DEFAULT_OPTIONS);
    expect(Object.isFrozen(DEFAULT_OPTIONS)).to.equal(true);
    expect(DEFAULT_OPTIONS).to.deep.equal({
      retryAttempts: 5, retryDelay: 200, retryDelayMax: 30_000, retryJitter: 0, cleanupTimeout: 10_000, reconfigureTimeout: 10_000, validateState: true,
      alertThreshold: 3, mtu: undefined, addresses: [], routes: [], queues: 1, multiQueue: false, persist: false, offload: 'auto', handleSignals: false,
    });
    for (const key of Object.keys(DEFAULT_POLICY)) {
      expect(OPTION_PARTS[key as keyof typeof OPTION_PARTS], key).to.equal('policy');
      expect((DEFAULT_OPTIONS as Record<string, unknown>)[key], key).to.equal((DEFAULT_POLICY as Record<string, unknown>)[key]);
    }
    const policyKeys = OPTION_KEYS.filter((key) => OPTION_PARTS[key] === 'policy');
    expect(policyKeys.sort()).to.deep.equal(Object.keys(DEFAULT_POLICY).sort());
  });

  it('resolveOptions() gives three parts: policy (the chart\'s), link (built once, parsed once), wiring', () => {
    const binding = new SimulatedBinding();
    const { policy, link, wiring } = resolveOptions({
      binding, retryDelay: 50_000, mtu: 1400, addresses: ['10.0.0.1/24', 'fd00::1/64'], routes: ['10.1.0.0/16', { destination: 'fd01::/64', metric: 7 }],
      queues: 2, persist: true,
    });
    expect(policy).to.deep.equal({ ...DEFAULT_POLICY, retryDelay: 50_000, retryDelayMax: 50_000 });
    expect(Object.keys(wiring).sort()).to.deep.equal(OPTION_KEYS.filter((key) => OPTION_PARTS[key] === 'wiring').sort());
    expect(wiring.binding).to.equal(binding);
    expect(link.open).to.deep.equal({ queues: 2, multiQueue: true, persist: true, offload: 'auto' });
    expect(link.plan).to.deep.equal({
      mtu: 1400, addresses: ['10.0.0.1/24', 'fd00::1/64'], routes: [{ destination: '10.1.0.0/16', metric: 0 }, { destination: 'fd01::/64', metric: 7 }],
    });
    // The plan's strings are the parsed forms' own: nothing parsed twice.
    expect(link.plan.addresses).to.deep.equal(link.addresses.map((a) => a.cidr));
    expect(link.routes.map((r) => r.family)).to.deep.equal([4, 6]);
    expect(link.validateState).to.equal(true);
    for (const key of OPTION_KEYS.filter((k) => OPTION_PARTS[k] === 'link')) expect(link, key).to.have.property(key);
    expect(resolveOptions({}).link.plan).to.deep.equal({ addresses: [], routes: [] });
  });

  it('rules across options keep their messages and the table order', () => {
    expectRefused(() => resolveOptions({ retryDelay: 100, retryDelayMax: 10 }), OutOfRangeError, 'options.retryDelayMax');
    expectRefused(() => resolveOptions({ mtu: 1000, routes: ['fd00::/64'] }), OutOfRangeError, 'options.mtu');
    expectRefused(() => resolveOptions({ queues: 2, multiQueue: false }), InvalidArgumentValueError, 'options.multiQueue');
    // retryDelay is checked before cleanupTimeout: the first wrong one is reported.
    expectRefused(() => resolveOptions({ cleanupTimeout: 0, retryDelay: -1 }), OutOfRangeError, 'options.retryDelay');
  });
});

describe('route metric (one rule for the simulated kernel and verification)', () => {
  it('an IPv6 route asked with metric 0 gets 1024; anything else keeps its metric', () => {
    expect(effectiveMetric(6, 0)).to.equal(1024);
    expect(effectiveMetric(6, 7)).to.equal(7);
    expect(effectiveMetric(4, 0)).to.equal(0);
  });

  it('routes are told apart by the metric the kernel gives them: IPv6 metric 0 and 1024 to one destination repeat a route', () => {
    // The kernel holds `ip -6 route add fd01::/64 metric 0` as metric 1024 and refuses a second add with 1024 (EEXIST).
    for (const routes of [
      [{ destination: 'fd01::/64', metric: 0 }, { destination: 'fd01::/64', metric: 1024 }],
      ['fd01::/64', { destination: 'fd01::/64', metric: 1024 }],
    ]) {
      expectRefused(() => resolveOptions({ routes }), InvalidArgumentValueError, 'options.routes[1]');
    }
    // IPv4 keeps metric 0 as 0: two routes. So do two IPv6 metrics other than 0/1024.
    expect(resolveOptions({ routes: ['10.6.0.0/16', { destination: '10.6.0.0/16', metric: 1024 }] }).link.routes).to.have.length(2);
    expect(resolveOptions({ routes: [{ destination: 'fd01::/64', metric: 5 }, 'fd01::/64'] }).link.routes).to.have.length(2);
  });

  it('the simulated kernel reports the same metric verification expects', async () => {
    const binding = new SimulatedBinding();
    const device = await binding.open({ name: 'met0', configure: { up: true, addresses: ['fd00:9::1/64'], routes: [{ destination: 'fd00:a::/64', metric: 0 }] } });
    const routes = await binding.listRoutes(device.ifindex);
    expect(routes.find((r) => r.destination === 'fd00:a::/64')?.metric).to.equal(effectiveMetric(6, 0));
    device.close();
  });
});
