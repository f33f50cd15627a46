// The kernel tests trust test/helpers/packets.ts to build packets the kernel
// accepts and to verify packets the kernel made. These vectors were captured
// from a real TUN (Linux 6.18: a UDP socket sending 'abc' / 'abcd' into a
// routed prefix), so the helper is checked against the kernel's own bytes.

import { expect } from 'chai';
import { buildIPv4Udp, buildIPv6Udp, internetChecksum, isKernelNoise, isUdp, parsePacket, payloadText, textPacket } from '../helpers/packets.js';

const KERNEL_IPV4_UDP = Buffer.from('4500001fcd4f4000401157d40ad200010ad300059ab91e61000b6cb0616263', 'hex');
const KERNEL_IPV6_UDP = Buffer.from(
  '600d2364000c1140fd000210000000000000000000000001fd000211000000000000000000000005e2e81e61000c3b9d61626364',
  'hex',
);
/** A router solicitation as the kernel sends it after link-up (ICMPv6 type 133 from ::). */
const ROUTER_SOLICITATION = Buffer.concat([
  Buffer.from('6000000000083aff', 'hex'),
  Buffer.alloc(16), // ::
  Buffer.from('ff020000000000000000000000000002', 'hex'), // ff02::2
  Buffer.from('85007bb800000000', 'hex'),
]);

describe('test helper: packets', function () {
  it('parses and verifies a kernel-made IPv4/UDP packet', function () {
    const p = parsePacket(KERNEL_IPV4_UDP);
    expect(p).to.include({ version: 4, src: '10.210.0.1', dst: '10.211.0.5', protocol: 17, headerChecksumValid: true });
    expect(p.udp).to.deep.include({ srcPort: 39609, dstPort: 7777, length: 11, checksumValid: true });
    expect(p.udp!.payload.toString()).to.equal('abc');
  });

  it('parses and verifies a kernel-made IPv6/UDP packet', function () {
    const p = parsePacket(KERNEL_IPV6_UDP);
    expect(p).to.include({ version: 6, src: 'fd00:210::1', dst: 'fd00:211::5', protocol: 17 });
    expect(p.udp).to.deep.include({ srcPort: 58088, dstPort: 7777, checksumValid: true });
    expect(p.udp!.payload.toString()).to.equal('abcd');
  });

  it('notices one flipped bit in the header or the payload', function () {
    const header = Buffer.from(KERNEL_IPV4_UDP);
    header[8]! ^= 1; // TTL
    expect(parsePacket(header).headerChecksumValid).to.equal(false);
    const payload4 = Buffer.from(KERNEL_IPV4_UDP);
    payload4[payload4.length - 1]! ^= 0x10;
    expect(parsePacket(payload4).udp!.checksumValid).to.equal(false);
    const payload6 = Buffer.from(KERNEL_IPV6_UDP);
    payload6[payload6.length - 1]! ^= 0x10;
    expect(parsePacket(payload6).udp!.checksumValid).to.equal(false);
  });

  it('builds byte for byte what the kernel builds (IPv4, same id and ports)', function () {
    const built = buildIPv4Udp({ src: '10.210.0.1', dst: '10.211.0.5', srcPort: 39609, dstPort: 7777, payload: Buffer.from('abc') });
    // The identification field is ours to choose; take the kernel's to compare whole packets.
    built.writeUInt16BE(KERNEL_IPV4_UDP.readUInt16BE(4), 4);
    built.writeUInt16BE(0, 10);
    built.writeUInt16BE(internetChecksum(built.subarray(0, 20)), 10);
    expect(built.toString('hex')).to.equal(KERNEL_IPV4_UDP.toString('hex'));
  });

  it('builds an IPv6/UDP packet whose UDP checksum matches the kernel’s', function () {
    const built = buildIPv6Udp({ src: 'fd00:210::1', dst: 'fd00:211::5', srcPort: 58088, dstPort: 7777, payload: Buffer.from('abcd') });
    // Only the flow label (set by the kernel per socket) differs.
    expect(built.subarray(4).toString('hex')).to.equal(KERNEL_IPV6_UDP.subarray(4).toString('hex'));
  });

  it('computes the RFC 1071 example sum', function () {
    // RFC 1071 §3: the words 0001 f203 f4f5 f6f7 sum (one's complement) to ddf2.
    expect(internetChecksum(Buffer.from('0001f203f4f5f6f7', 'hex'))).to.equal(~0xddf2 & 0xffff);
  });

  it('tells kernel chatter from test traffic', function () {
    expect(isKernelNoise(ROUTER_SOLICITATION)).to.equal(true);
    expect(isKernelNoise(KERNEL_IPV4_UDP)).to.equal(false);
    expect(isKernelNoise(KERNEL_IPV6_UDP)).to.equal(false);
    expect(isKernelNoise(Buffer.from([0x50, 1, 2]))).to.equal(false);
    expect(isUdp({ dstPort: 7777, dst: '10.211.0.5' })(KERNEL_IPV4_UDP)).to.equal(true);
    expect(isUdp({ dstPort: 7778 })(KERNEL_IPV4_UDP)).to.equal(false);
    expect(isUdp({})(ROUTER_SOLICITATION)).to.equal(false);
  });

  it('textPacket builds a checksummed IPv4/UDP datagram whose payload payloadText reads back', function () {
    const p = parsePacket(textPacket('via helper', { src: '10.0.0.2', dst: '10.0.0.1' }));
    expect(p).to.include({ version: 4, src: '10.0.0.2', dst: '10.0.0.1', protocol: 17, headerChecksumValid: true });
    expect(p.udp!.checksumValid).to.equal(true);
    expect(payloadText(textPacket('via helper'))).to.equal('via helper');
    expect(parsePacket(textPacket()).dst, 'to 10.0.0.2 by default').to.equal('10.0.0.2');
    expect(() => payloadText(ROUTER_SOLICITATION)).to.throw(TypeError);
  });
});
