// offload::Split, table by table from the rules of the offload issue: a TSO/USO
// superframe becomes ordinary packets with their own lengths, IDs, sequence
// numbers, flags and full checksums; an unsegmented read gets its partial
// checksum completed; a malformed header is EINVAL, too little room ENOBUFS.

import { expect } from 'chai';
import { loadAddon, type TunAddon } from '../../src/binding/native/addon.js';
import {
  GSO_NONE,
  GSO_TCPV4,
  TCP_ACK,
  TCP_CWR,
  TCP_FIN,
  TCP_PSH,
  buildPartialChecksumFrame,
  buildSegment,
  buildSuperframe,
  parseSegment,
  patternPayload,
  splitPackets,
  writeVnetHeader,
  type SuperframeSpec,
} from '../helpers/packets-offload.js';

function expectErrno(fn: () => unknown, code: string): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught, `expected ${code}`).to.be.instanceOf(Error);
  expect((caught as { code?: string }).code).to.equal(code);
  expect((caught as { syscall?: string }).syscall).to.equal('offloadSplit');
}

describe('offload split', () => {
  let addon: TunAddon;
  before(() => {
    addon = loadAddon();
  });

  function split(frame: Uint8Array, maxPackets?: number): Buffer[] {
    return splitPackets(addon.offloadSplit(frame, maxPackets));
  }

  // The four cases of wireguard-go's Test_handleVirtioRead, lengths from the headers.
  const shapes: Array<{ name: string; spec: Omit<SuperframeSpec, 'payload' | 'gsoSize'>; header: number }> = [
    { name: 'TCP over IPv4', spec: { family: 4, proto: 'tcp' }, header: 40 },
    { name: 'TCP over IPv6', spec: { family: 6, proto: 'tcp' }, header: 60 },
    { name: 'UDP over IPv4', spec: { family: 4, proto: 'udp' }, header: 28 },
    { name: 'UDP over IPv6', spec: { family: 6, proto: 'udp' }, header: 48 },
    { name: 'TCP over IPv6 with an extension header', spec: { family: 6, proto: 'tcp', extensionHeader: true }, header: 68 },
    { name: 'UDP over IPv6 with an extension header', spec: { family: 6, proto: 'udp', extensionHeader: true }, header: 56 },
    { name: 'TCP over IPv4 with IP options', spec: { family: 4, proto: 'tcp', ipOptions: Buffer.from([1, 1, 1, 0]) }, header: 44 },
    { name: 'TCP with options (timestamps)', spec: { family: 4, proto: 'tcp', tcpOptions: Buffer.from([1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2]) }, header: 52 },
  ];

  for (const { name, spec, header } of shapes) {
    it(`${name}: 250 bytes at gso_size 100 → 100, 100, 50 with every field right`, () => {
      const payload = patternPayload(250);
      const packets = split(buildSuperframe({ ...spec, payload, gsoSize: 100, id: 0xfffe, seq: 0xffffff00, flags: TCP_ACK | TCP_PSH | TCP_FIN }));
      expect(packets.map((p) => p.length)).to.deep.equal([header + 100, header + 100, header + 50]);
      const parsed = packets.map(parseSegment);
      parsed.forEach((p, i) => {
        expect(p.valid, `segment ${i} checksums and lengths`).to.equal(true);
        expect(p.payload).to.deep.equal(payload.subarray(i * 100, Math.min(250, i * 100 + 100)));
        expect(p.ttl).to.equal(64);
      });
      if (spec.family === 4) expect(parsed.map((p) => p.id)).to.deep.equal([0xfffe, 0xffff, 0]);
      if (spec.proto === 'tcp') {
        expect(parsed.map((p) => p.seq)).to.deep.equal([0xffffff00, 0xffffff64, 0xffffffc8]);
        expect(parsed.map((p) => p.flags)).to.deep.equal([TCP_ACK, TCP_ACK, TCP_ACK | TCP_PSH | TCP_FIN]);
        expect(parsed.every((p) => p.ack === 77)).to.equal(true);
      } else {
        expect(parsed.map((p) => p.udpLength)).to.deep.equal([108, 108, 58]);
      }
    });
  }

  it('IPv6 payload length counts the extension headers but not the fixed header', () => {
    const [first] = split(buildSuperframe({ family: 6, proto: 'udp', extensionHeader: true, payload: patternPayload(300), gsoSize: 200 }));
    expect(first!.readUInt16BE(4)).to.equal(8 + 8 + 200);
    expect(first!.length).to.equal(40 + 8 + 8 + 200);
  });

  it('CWR only on the first segment (ECN superframe), the ECN bit of gso_type masked', () => {
    const frame = buildSuperframe({ family: 4, proto: 'tcp', payload: patternPayload(300), gsoSize: 100, ecn: true, flags: TCP_ACK | TCP_CWR });
    const flags = split(frame).map((p) => parseSegment(p).flags);
    expect(flags).to.deep.equal([TCP_ACK | TCP_CWR, TCP_ACK, TCP_ACK]);
  });

  it('a bogus hdr_len is ignored: recomputed from csum_start and the TCP data offset', () => {
    for (const hdrLen of [0, 1, 40 + 100 /* the whole first packet */, 65535]) {
      const payload = patternPayload(200);
      const packets = split(buildSuperframe({ family: 4, proto: 'tcp', tcpOptions: Buffer.alloc(8, 1), payload, gsoSize: 100, hdrLen }));
      expect(packets.map((p) => p.length), `hdr_len ${hdrLen}`).to.deep.equal([148, 148]);
      expect(Buffer.concat(packets.map((p) => parseSegment(p).payload))).to.deep.equal(payload);
    }
  });

  it('a short tail is its own segment; an exact multiple has none', () => {
    expect(split(buildSuperframe({ family: 4, proto: 'udp', payload: patternPayload(1001), gsoSize: 100 })).length).to.equal(11);
    expect(split(buildSuperframe({ family: 4, proto: 'udp', payload: patternPayload(1000), gsoSize: 100 })).length).to.equal(10);
    expect(split(buildSuperframe({ family: 4, proto: 'udp', payload: patternPayload(40), gsoSize: 100 })).map((p) => p.length)).to.deep.equal([68]);
  });

  it('the smallest gso_size that fits 128 outputs: 512 for 64 KiB of payload, 511 is ENOBUFS', () => {
    const payload = patternPayload(65535 - 40 - 20 - 15); // a 64 KiB superframe (65,460 bytes of payload)
    const frame = (gsoSize: number) => buildSuperframe({ family: 4, proto: 'tcp', payload, gsoSize });
    expect(split(frame(512), 128).length).to.equal(128);
    expectErrno(() => split(frame(511), 128), 'ENOBUFS');
    expect(split(frame(511), 129).length).to.equal(129);
  });

  it('too many segments for the output is ENOBUFS, never a partial result', () => {
    const frame = buildSuperframe({ family: 6, proto: 'tcp', payload: patternPayload(1000), gsoSize: 100 });
    expect(split(frame, 10).length).to.equal(10);
    expectErrno(() => split(frame, 9), 'ENOBUFS');
    expectErrno(() => split(frame, 0), 'ENOBUFS');
  });

  it('GSO_NONE with NEEDS_CSUM gets its checksum completed (TCP and UDP, v4 and v6)', () => {
    for (const family of [4, 6] as const) {
      for (const proto of ['tcp', 'udp'] as const) {
        const spec = { family, proto, payload: patternPayload(333, family) };
        const [packet, ...rest] = split(buildPartialChecksumFrame(spec));
        expect(rest).to.have.length(0);
        expect(packet).to.deep.equal(buildSegment(spec));
        expect(parseSegment(packet!).valid).to.equal(true);
      }
    }
  });

  it('a UDP checksum that computes to 0 is written 0xFFFF', () => {
    // Find a payload whose checksum computes to 0; each segment below carries exactly it.
    let payload: Buffer | undefined;
    for (let v = 0; v < 0x10000 && !payload; v++) {
      const candidate = Buffer.from([v >> 8, v & 0xff, 1, 2, 3, 4]);
      // The builder writes 0xFFFF only for a computed 0 (a sum that folds to 0 needs all-zero words).
      if (buildSegment({ family: 4, proto: 'udp', payload: candidate }).readUInt16BE(26) === 0xffff) payload = candidate;
    }
    expect(payload, 'a payload with checksum 0 exists').to.not.equal(undefined);
    const partial = split(buildPartialChecksumFrame({ family: 4, proto: 'udp', payload: payload! }));
    expect(partial[0]!.readUInt16BE(26)).to.equal(0xffff);
    const segments = split(buildSuperframe({ family: 4, proto: 'udp', payload: Buffer.concat([payload!, payload!]), gsoSize: 6 }));
    expect(segments.map((p) => p.readUInt16BE(26))).to.deep.equal([0xffff, 0xffff]);
    expect(segments.every((p) => parseSegment(p).valid)).to.equal(true);
  });

  it('an unsegmented read without NEEDS_CSUM is passed through as it is', () => {
    const packet = buildSegment({ family: 6, proto: 'udp', payload: patternPayload(10) });
    const frame = Buffer.concat([writeVnetHeader({ flags: 0, gsoType: GSO_NONE, hdrLen: 0, gsoSize: 0, csumStart: 0, csumOffset: 0 }), packet]);
    expect(split(frame)).to.deep.equal([packet]);
  });

  describe('malformed frames are EINVAL', () => {
    const good = () => buildSuperframe({ family: 4, proto: 'tcp', payload: patternPayload(300), gsoSize: 100 });
    const cases: Array<[string, () => Buffer]> = [
      ['shorter than the virtio header', () => good().subarray(0, 9)],
      ['only the virtio header', () => good().subarray(0, 10)],
      ['IP version 5', () => { const f = good(); f[10] = 0x55; return f; }],
      ['TCPV4 on an IPv6 packet', () => { const f = buildSuperframe({ family: 6, proto: 'tcp', payload: patternPayload(300), gsoSize: 100 }); f[1] = GSO_TCPV4; return f; }],
      ['unknown gso_type (UFO)', () => { const f = good(); f[1] = 3; return f; }],
      ['gso_size 0', () => { const f = good(); f.writeUInt16LE(0, 4); return f; }],
      ['csum_start not the IPv4 header length', () => { const f = good(); f.writeUInt16LE(24, 6); return f; }],
      ['csum_offset not where TCP keeps its checksum', () => { const f = good(); f.writeUInt16LE(6, 8); return f; }],
      ['IPv4 protocol not TCP', () => { const f = good(); f[10 + 9] = 17; return f; }],
      ['TCP data offset below 5', () => { const f = good(); f[10 + 20 + 12] = 0x40; return f; }],
      ['TCP header past the end', () => good().subarray(0, 10 + 20 + 19)],
      ['TCP options past the end', () => { const f = good().subarray(0, 10 + 20 + 30); f[10 + 20 + 12] = 0xf0; return f; }],
      ['NEEDS_CSUM with csum_start inside the IP header (GSO_NONE; would overwrite it)', () => { const f = buildPartialChecksumFrame({ family: 4, proto: 'udp', payload: patternPayload(4) }); f.writeUInt16LE(0, 6); f.writeUInt16LE(0, 8); return f; }],
      ['NEEDS_CSUM field past the end (GSO_NONE)', () => { const f = buildPartialChecksumFrame({ family: 4, proto: 'udp', payload: patternPayload(4) }); f.writeUInt16LE(40, 8); return f; }],
    ];
    for (const [name, make] of cases) {
      it(name, () => expectErrno(() => split(make()), 'EINVAL'));
    }
  });
});
