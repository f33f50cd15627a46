// Bad input to the NATIVE binding must be refused with a typed error before
// anything reaches the kernel. "Before any syscall" is proven from outside:
// after each refusal the namespace's links, addresses, routes and link
// counters (read by iproute2), the process's fds and the binding's own fd
// count are exactly what they were. And the process is still here to check.

import { expect } from 'chai';
import { describeKernel } from '../helpers/netns.js';
import { ipJson, ipLink, ipLinks } from '../helpers/iproute.js';
import { openFdCount } from '../helpers/fds.js';
import { loadNativeBinding } from '../helpers/native-binding.js';
import { buildIPv4Udp, buildIPv6Udp } from '../helpers/packets.js';
import { TunSystemError } from '../../src/binding/contract/system-error.js';
import type { TunBinding, TunDevice } from '../../src/binding/contract/types.js';

const NAME = 'bad0';
const MTU = 1400;

type Expected = { class: typeof TypeError | typeof RangeError; code: string };
const TYPE: Expected = { class: TypeError, code: 'ERR_INVALID_ARG_TYPE' };
const VALUE: Expected = { class: TypeError, code: 'ERR_INVALID_ARG_VALUE' };
const RANGE: Expected = { class: RangeError, code: 'ERR_OUT_OF_RANGE' };

/** The error of a call, whether thrown synchronously or as a rejection; fails when the call succeeds. */
async function failureOf(call: () => unknown): Promise<unknown> {
  let result: unknown;
  try {
    result = call();
  } catch (err) {
    return err;
  }
  try {
    await result;
  } catch (err) {
    return err;
  }
  throw new Error('the call succeeded; it should have been refused');
}

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value instanceof Uint8Array) return `Buffer(${value.length}) ${Buffer.from(value.subarray(0, 4)).toString('hex')}…`;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

describeKernel('native binding: bad input is refused before any syscall', function () {
  let binding: TunBinding;
  let device: TunDevice;

  function snapshot() {
    return {
      links: ipLinks().map((l) => `${l.ifindex}:${l.ifname}:mtu ${l.mtu}:${[...l.flags].sort().join(',')}`),
      addresses: JSON.stringify(ipJson('addr', 'show')),
      routes4: JSON.stringify(ipJson('-4', 'route', 'show', 'table', 'all')),
      routes6: JSON.stringify(ipJson('-6', 'route', 'show', 'table', 'all')),
      // Only the receive side: the kernel transmits into the TUN by itself (router solicitations).
      kernelReceived: JSON.stringify(ipJson<Array<{ stats64: { rx: unknown } }>>('-s', 'link', 'show', 'dev', NAME)[0]!.stats64.rx),
      processFds: openFdCount(),
      bindingFds: binding.openFdCount(),
    };
  }

  async function expectRefused(what: string, value: unknown, expected: Expected, call: () => unknown): Promise<void> {
    const before = snapshot();
    const err = await failureOf(call);
    const label = `${what}(${show(value)})`;
    expect(err, label).to.be.instanceOf(expected.class);
    expect(err, `${label} is a validation error, not a kernel one`).to.not.be.instanceOf(TunSystemError);
    expect((err as { code?: string }).code, `${label} code`).to.equal(expected.code);
    expect(snapshot(), `${label} left the kernel and the fds untouched`).to.deep.equal(before);
  }

  before(async function () {
    binding = await loadNativeBinding();
    device = await binding.open({ name: NAME });
    await binding.setMtu(device.ifindex, MTU);
    await binding.addAddress(device.ifindex, '10.218.0.1/24');
    await binding.setUp(device.ifindex, true);
    expect(device.mtu).to.equal(MTU);
    // Let link-up's own address and route changes land before the first snapshot.
    await new Promise((r) => setTimeout(r, 200));
  });

  after(function () {
    device?.close();
  });

  it('refuses bad interface names in open()', async function () {
    const cases: Array<[unknown, Expected]> = [
      ['', VALUE],
      ['a'.repeat(16), VALUE],
      ['é'.repeat(8), VALUE], // 8 characters, 16 bytes: IFNAMSIZ counts bytes
      ['ab/cd', VALUE],
      ['/', VALUE],
      [' ', VALUE],
      ['tun 0', VALUE],
      ['tun\t0', VALUE],
      ['tun\n0', VALUE],
      ['tun:0', VALUE],
      [':', VALUE],
      ['.', VALUE],
      ['..', VALUE],
      ['tun\0x', VALUE],
      ['tun%d%d', VALUE],
      [42, TYPE],
      [null, TYPE],
      [{}, TYPE],
      [['tun0'], TYPE],
      [Symbol('tun0'), TYPE],
    ];
    for (const [name, expected] of cases) {
      await expectRefused('open({ name })', name, expected, () => binding.open({ name: name as string }));
    }
  });

  it('refuses bad open() options', async function () {
    await expectRefused('open', 'tun0', TYPE, () => binding.open('tun0' as never));
    for (const queues of [0, -1, 1.5, 257]) {
      await expectRefused('open({ queues })', queues, RANGE, () => binding.open({ name: 'bq0', queues }));
    }
    await expectRefused('open({ queues })', '2', TYPE, () => binding.open({ name: 'bq0', queues: '2' as never }));
    await expectRefused('open({ persist })', 'yes', TYPE, () => binding.open({ name: 'bq0', persist: 'yes' as never }));
    await expectRefused('open({ queues: 2, multiQueue: false })', 2, VALUE, () => binding.open({ name: 'bq0', queues: 2, multiQueue: false }));
  });

  it('refuses MTUs out of range or not numbers, and bad ifindexes', async function () {
    for (const mtu of [0, 67, 65536, 1.5, -1, Number.NaN, Infinity]) {
      await expectRefused('setMtu', mtu, RANGE, () => binding.setMtu(device.ifindex, mtu));
    }
    for (const mtu of ['1400', null, undefined, 1400n]) {
      await expectRefused('setMtu', mtu, TYPE, () => binding.setMtu(device.ifindex, mtu as never));
    }
    for (const ifindex of [0, -1, 1.5]) {
      await expectRefused('setMtu(ifindex)', ifindex, RANGE, () => binding.setMtu(ifindex, 1300));
    }
    await expectRefused('setMtu(ifindex)', String(device.ifindex), TYPE, () => binding.setMtu(String(device.ifindex) as never, 1300));
    expect(ipLink(NAME)!.mtu).to.equal(MTU);
    expect(device.mtu).to.equal(MTU);
  });

  it('refuses malformed CIDRs for addresses', async function () {
    const cases: Array<[unknown, Expected]> = [
      ['10.0.0.1', VALUE],
      ['10.0.0.1/33', VALUE],
      ['300.1.1.1/24', VALUE],
      ['fd00::1/129', VALUE],
      ['', VALUE],
      ['10.0.0.1/', VALUE],
      ['10.0.0.1/-1', VALUE],
      ['10.0.0/24', VALUE],
      ['fd00::1', VALUE],
      ['fd00:::1/64', VALUE],
      ['fe80::1%lo/64', VALUE],
      ['10.0.0.1/24; reboot', VALUE],
      [42, TYPE],
      [null, TYPE],
    ];
    for (const [cidr, expected] of cases) {
      await expectRefused('addAddress', cidr, expected, () => binding.addAddress(device.ifindex, cidr as string));
      await expectRefused('deleteAddress', cidr, expected, () => binding.deleteAddress(device.ifindex, cidr as string));
    }
  });

  it('refuses malformed routes', async function () {
    const cases: Array<[unknown, Expected]> = [
      [{ destination: '10.219.0.1/16' }, VALUE], // host bits set
      [{ destination: 'default' }, VALUE],
      [{ destination: '10.219.0.0/33' }, VALUE],
      [{ destination: 'fd00:219::/129' }, VALUE],
      [{ destination: '' }, VALUE],
      [{ destination: 42 }, TYPE],
      [{ destination: '10.219.0.0/16', metric: -1 }, RANGE],
      [{ destination: '10.219.0.0/16', metric: 1.5 }, RANGE],
      [{ destination: '10.219.0.0/16', metric: 2 ** 32 }, RANGE],
      [{ destination: '10.219.0.0/16', metric: '5' }, TYPE],
      [null, TYPE],
      [42, TYPE],
    ];
    for (const [route, expected] of cases) {
      await expectRefused('addRoute', route, expected, () => binding.addRoute(device.ifindex, route as never));
      await expectRefused('deleteRoute', route, expected, () => binding.deleteRoute(device.ifindex, route as never));
    }
  });

  it('refuses packets that are not bytes, empty, over the MTU, not IPv4/IPv6, or whose IP length field disagrees with the buffer', async function () {
    const queue = device.queues[0]!;
    const header = buildIPv4Udp({ src: '10.219.0.9', dst: '10.218.0.1', srcPort: 1, dstPort: 9, payload: Buffer.alloc(8) });
    const tooBig = Buffer.alloc(MTU + 1);
    header.copy(tooBig);
    const version5 = Buffer.from(header);
    version5[0] = 0x55;
    const version0 = Buffer.from(header);
    version0[0] = 0x05;
    const truncated = header.subarray(0, header.length - 3);
    const padded = Buffer.concat([header, Buffer.alloc(4)]);
    const ipv6 = buildIPv6Udp({ src: 'fd00:219::9', dst: 'fd00:218::1', srcPort: 1, dstPort: 9, payload: Buffer.alloc(8) });
    const cases: Array<[unknown, Expected]> = [
      ['a string packet', TYPE],
      [Array.from(header), TYPE],
      [null, TYPE],
      [undefined, TYPE],
      [header.buffer.slice(header.byteOffset, header.byteOffset + header.length), TYPE], // an ArrayBuffer, not a view
      [Buffer.alloc(0), RANGE],
      [tooBig, RANGE],
      [Buffer.alloc(65536, 0x45), RANGE],
      [version5, VALUE],
      [version0, VALUE],
      [truncated, VALUE],
      [padded, VALUE],
      [ipv6.subarray(0, ipv6.length - 1), VALUE],
      [ipv6.subarray(0, 30), VALUE],
    ];
    for (const [packet, expected] of cases) {
      await expectRefused('queue.write', packet, expected, () => queue.write(packet as Uint8Array));
    }
    // writeBatch refuses the whole batch before writing any of it, naming the bad packet by its index.
    expect(() => queue.writeBatch!([header, padded, header])).to.throw(/packets\[1\]/);
    expect(() => queue.writeBatch!([header, 'a string' as unknown as Uint8Array])).to.throw(TypeError, /packets\[1\]/);
    expect(queue.stats().txPackets, 'nothing was written').to.equal(0);
    expect(queue.closed, 'a refused packet does not end the queue').to.equal(false);

    // The boundary itself is accepted: a well-formed packet of exactly MTU bytes reaches the kernel.
    const exact = buildIPv4Udp({ src: '10.219.0.9', dst: '10.218.0.1', srcPort: 1, dstPort: 9, payload: Buffer.alloc(MTU - 28) });
    expect(exact.length).to.equal(MTU);
    expect(queue.write(exact)).to.equal(true);
    expect(queue.stats().txPackets).to.equal(1);
    const [row] = ipJson<Array<{ stats64: { rx: { packets: number } } }>>('-s', 'link', 'show', 'dev', NAME);
    expect(row!.stats64.rx.packets).to.equal(1);
  });

  it('is still alive and working after all of it', async function () {
    const link = await binding.getLink(device.ifindex);
    expect(link.name).to.equal(NAME);
    expect(link.mtu).to.equal(MTU);
  });
});
