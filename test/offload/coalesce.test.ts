// offload::Coalesce, table by table from the rules of the offload issue (the
// cases of wireguard-go's Test_handleGRO and more): which packets end up in
// one superframe, in what order, and what the superframe's virtio header and
// rewritten headers say. Every superframe is also split back (offloadSplit)
// and must give exactly the packets that went in.

import { expect } from 'chai';
import { loadAddon, type TunAddon } from '../../src/binding/native/addon.js';
import {
  F_NEEDS_CSUM,
  GSO_NONE,
  GSO_TCPV4,
  GSO_TCPV6,
  GSO_UDP_L4,
  TCP_ACK,
  TCP_CWR,
  TCP_FIN,
  TCP_PSH,
  TCP_RST,
  TCP_SYN,
  VNET_HDR_LEN,
  buildSegment,
  parseSegment,
  patternPayload,
  readVnetHeader,
  splitPackets,
  type SegmentSpec,
} from '../helpers/packets-offload.js';

type Spec = Omit<SegmentSpec, 'payload'> & { size?: number };

/** A run of segments of one flow: consecutive sequence numbers and IPv4 IDs unless a spec says otherwise. */
function flow(base: Spec, ...variants: Array<Partial<Spec>>): Buffer[] {
  let seq = base.seq ?? 1;
  let id = base.id ?? 100;
  return variants.map((variant, i) => {
    const spec = { ...base, seq, id, ...variant };
    const size = spec.size ?? 100;
    seq = (spec.seq ?? seq) + size;
    id = (spec.id ?? id) + 1;
    return buildSegment({ ...spec, payload: patternPayload(size, i) });
  });
}

const tcp4: Spec = { family: 4, proto: 'tcp' };
const tcp6: Spec = { family: 6, proto: 'tcp' };
const udp4: Spec = { family: 4, proto: 'udp' };
const udp6: Spec = { family: 6, proto: 'udp' };

describe('offload coalesce', () => {
  let addon: TunAddon;
  before(() => {
    addon = loadAddon();
  });

  /** Coalesces, checks every frame splits back into its packets, returns the packets of each frame. */
  function coalesce(packets: Buffer[], options?: { tcp?: boolean; udp?: boolean }): Buffer[][] {
    const frames = addon.offloadCoalesce(packets, options);
    expect(frames.length).to.be.at.most(packets.length);
    return frames.map((frame) => {
      const vnet = readVnetHeader(frame);
      const back = splitPackets(addon.offloadSplit(frame, 128));
      if (vnet.gsoType === GSO_NONE) {
        expect(vnet).to.deep.equal({ flags: 0, gsoType: 0, hdrLen: 0, gsoSize: 0, csumStart: 0, csumOffset: 0 });
        expect(back).to.have.length(1);
      } else {
        expect(back.length).to.be.greaterThan(1);
      }
      return back;
    });
  }

  /** Which input packets (by index) each frame holds. */
  function grouping(packets: Buffer[], options?: { tcp?: boolean; udp?: boolean }): number[][] {
    return coalesce(packets, options).map((frame) =>
      frame.map((packet) => {
        const index = packets.findIndex((p) => p.equals(packet));
        expect(index, 'every packet split back is one that went in, unchanged').to.be.at.least(0);
        return index;
      }),
    );
  }

  it('multiple protocols and flows: each flow its own superframe, in the order of first packets', () => {
    const [a1, a2] = flow(tcp4, {}, {});
    const [u1, u2] = flow(udp4, {}, {});
    const [b1] = flow({ ...tcp4, srcPort: 40001 }, {});
    const [c1, c2] = flow(tcp6, {}, {});
    const [v1, v2] = flow(udp6, {}, {});
    const packets = [a1!, u1!, a2!, b1!, u2!, c1!, v1!, c2!, v2!];
    expect(grouping(packets)).to.deep.equal([[0, 2], [1, 4], [3], [5, 7], [6, 8]]);
  });

  it('with UDP coalescing off, UDP packets go alone and TCP still merges', () => {
    const packets = [...flow(udp4, {}, {}), ...flow(tcp4, {}, {})];
    expect(grouping(packets, { udp: false })).to.deep.equal([[0], [1], [2, 3]]);
    expect(grouping(packets, { tcp: false })).to.deep.equal([[0, 1], [2], [3]]);
  });

  it('the superframe header: NEEDS_CSUM, gso_type, hdr_len, gso_size, csum_start/offset, lengths and IPv4 checksum', () => {
    const cases: Array<[Spec, number, number, number]> = [
      [tcp4, GSO_TCPV4, 20, 16],
      [tcp6, GSO_TCPV6, 40, 16],
      [udp4, GSO_UDP_L4, 20, 6],
      [udp6, GSO_UDP_L4, 40, 6],
    ];
    for (const [spec, gsoType, ipLength, csumOffset] of cases) {
      const packets = flow(spec, { size: 300 }, { size: 300 }, { size: 120 });
      const [frame, ...rest] = addon.offloadCoalesce(packets);
      expect(rest).to.have.length(0);
      const l4Header = spec.proto === 'tcp' ? 20 : 8;
      expect(readVnetHeader(frame!)).to.deep.equal({
        flags: F_NEEDS_CSUM,
        gsoType,
        hdrLen: ipLength + l4Header,
        gsoSize: 300,
        csumStart: ipLength,
        csumOffset,
      });
      const ip = frame!.subarray(VNET_HDR_LEN);
      expect(ip.length).to.equal(ipLength + l4Header + 720);
      if (spec.family === 4) expect(ip.readUInt16BE(2)).to.equal(ip.length);
      else expect(ip.readUInt16BE(4)).to.equal(ip.length - 40);
      if (spec.proto === 'udp') expect(ip.readUInt16BE(ipLength + 4)).to.equal(ip.length - ipLength);
      // The checksum field holds the pseudo-header sum: completed as GSO_NONE + NEEDS_CSUM it verifies.
      const asPartial = Buffer.from(frame!);
      asPartial[1] = GSO_NONE;
      const [whole] = splitPackets(addon.offloadSplit(asPartial));
      expect(parseSegment(whole!).valid, `${spec.family}/${spec.proto} partial checksum`).to.equal(true);
    }
  });

  it('PSH interleaved: a PSH segment ends its superframe, and its PSH is kept', () => {
    const packets = flow(tcp4, {}, { flags: TCP_ACK | TCP_PSH }, {}, { flags: TCP_ACK | TCP_PSH }, {});
    expect(grouping(packets)).to.deep.equal([[0, 1], [2, 3], [4]]);
    const [frame] = addon.offloadCoalesce(packets);
    expect(frame![VNET_HDR_LEN + 20 + 13]).to.equal(TCP_ACK | TCP_PSH);
  });

  it('a bad checksum is written alone, and the flow goes on after it', () => {
    expect(grouping(flow(tcp4, {}, { badChecksum: true }, {}, {}))).to.deep.equal([[0], [1], [2, 3]]);
    expect(grouping(flow(udp6, {}, {}, { badChecksum: true }, {}))).to.deep.equal([[0, 1], [2], [3]]);
    const bad = flow(tcp4, {}, {});
    bad[0]![10] ^= 0xff; // the IPv4 header checksum
    expect(grouping(bad)).to.deep.equal([[0], [1]]);
  });

  it('IPv4 UDP without a checksum (0) cannot be verified: written alone', () => {
    const packets = flow(udp4, {}, {}, {});
    packets[1]!.writeUInt16BE(0, 26);
    expect(grouping(packets)).to.deep.equal([[0], [1], [2]]);
  });

  it('out-of-order segments are not merged and keep their order', () => {
    const packets = flow(tcp4, { seq: 101 }, { seq: 1 }, { seq: 201 });
    expect(grouping(packets)).to.deep.equal([[0], [1], [2]]);
    expect(grouping(flow(tcp4, {}, { seq: 50 }))).to.deep.equal([[0], [1]]);
  });

  const unequal: Array<[string, Spec, Partial<Spec>]> = [
    ['TTL', tcp4, { ttl: 63 }],
    ['TOS', tcp4, { tos: 0x10 }],
    ['DF', tcp4, { df: false }],
    ['MF (a fragment)', tcp4, { mf: true }],
    ['hop limit', tcp6, { ttl: 63 }],
    ['traffic class', tcp6, { tos: 0x20 }],
    ['ACK number', tcp4, { ack: 78 }],
    ['TCP options', tcp4, { tcpOptions: Buffer.from([1, 1, 1, 0]) }],
    ['UDP TTL', udp4, { ttl: 1 }],
    ['UDP hop limit', udp6, { ttl: 1 }],
    ['UDP traffic class', udp6, { tos: 4 }],
  ];
  for (const [name, spec, variant] of unequal) {
    it(`unequal ${name}: not merged`, () => {
      expect(grouping(flow(spec, {}, variant))).to.deep.equal([[0], [1]]);
    });
  }

  it('equal TCP options do merge', () => {
    const options = Buffer.from([1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2]);
    expect(grouping(flow({ ...tcp4, tcpOptions: options }, {}, {}))).to.deep.equal([[0, 1]]);
  });

  it('only ACK or ACK|PSH merge: SYN, FIN, RST, URG, ECE, CWR and no-ACK go alone and end the flow\'s superframe', () => {
    for (const flags of [TCP_ACK | TCP_SYN, TCP_ACK | TCP_FIN, TCP_ACK | TCP_RST, TCP_ACK | 0x20, TCP_ACK | 0x40, TCP_ACK | TCP_CWR, 0]) {
      expect(grouping(flow(tcp4, {}, { flags }, {})), `flags ${flags}`).to.deep.equal([[0], [1], [2]]);
    }
  });

  it('nothing after a short segment, nothing larger after a smaller one', () => {
    expect(grouping(flow(udp4, {}, { size: 50 }, {}))).to.deep.equal([[0, 1], [2]]);
    expect(grouping(flow(tcp6, {}, { size: 50 }, {}))).to.deep.equal([[0, 1], [2]]);
    expect(grouping(flow(udp4, { size: 50 }, {}))).to.deep.equal([[0], [1]]);
  });

  it('IPv4 options and IPv6 extension headers never merge', () => {
    expect(grouping(flow({ ...tcp4, ipOptions: Buffer.from([1, 1, 1, 0]) }, {}, {}))).to.deep.equal([[0], [1]]);
    expect(grouping(flow({ ...udp6, extensionHeader: true }, {}, {}))).to.deep.equal([[0], [1]]);
  });

  it('a packet of the flow that cannot be read (an extension header) ends the flow\'s superframe', () => {
    const [a, b, c] = flow(tcp6, {}, {}, {});
    const hidden = buildSegment({ ...tcp6, extensionHeader: true, payload: patternPayload(10) });
    expect(grouping([a!, hidden, b!, c!])).to.deep.equal([[0], [1], [2, 3]]);
  });

  it('other flows in between do not end a superframe', () => {
    const [a1, a2, a3] = flow(tcp4, {}, {}, {});
    const [b1, b2] = flow({ ...tcp4, dst: '10.9.9.9' }, { flags: TCP_ACK | TCP_SYN }, {});
    expect(grouping([a1!, b1!, a2!, b2!, a3!])).to.deep.equal([[0, 2, 4], [1], [3]]);
  });

  it('at most 64 UDP segments per superframe', () => {
    const packets = flow(udp4, ...Array.from({ length: 70 }, () => ({ size: 20 })));
    const groups = grouping(packets);
    expect(groups.map((g) => g.length)).to.deep.equal([64, 6]);
  });

  it('at most 65,535 bytes per superframe', () => {
    // 40 bytes of headers + 46 × 1400 = 64,440; a 47th would make 65,840.
    const packets = flow(tcp4, ...Array.from({ length: 50 }, () => ({ size: 1400 })));
    const frames = addon.offloadCoalesce(packets);
    expect(frames.map((f) => f.length - VNET_HDR_LEN)).to.deep.equal([40 + 46 * 1400, 40 + 4 * 1400]);
    // Exactly 65,535 is allowed: 40 + 5 × 13,099; a sixth segment starts the next superframe.
    const exact = addon.offloadCoalesce(flow(tcp4, ...Array.from({ length: 6 }, () => ({ size: 13099 }))));
    expect(exact.map((f) => f.length - VNET_HDR_LEN)).to.deep.equal([65535, 40 + 13099]);
  });

  it('a single packet is written as it is, with an all-zero virtio header', () => {
    const [packet] = flow(tcp4, {});
    const [frame] = addon.offloadCoalesce([packet!]);
    expect(frame).to.deep.equal(Buffer.concat([Buffer.alloc(VNET_HDR_LEN), packet!]));
  });

  it('not IP at all, or too short: written alone, unchanged', () => {
    const junk = [Buffer.from([0x00, 1, 2]), Buffer.alloc(0), Buffer.from([0x45, 0, 0])];
    const frames = addon.offloadCoalesce(junk);
    expect(frames).to.deep.equal(junk.map((p) => Buffer.concat([Buffer.alloc(VNET_HDR_LEN), p])));
  });
});
