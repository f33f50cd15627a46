// The throughput bench's mini-TCP pieces (bench/lib/tcp-segment.ts,
// tcp-ranges.ts), checked against the test helpers' own RFC 1071 sums and
// virtio header reader: a segment the kernel would drop for a bad checksum,
// or a SACK block pointing at the wrong bytes, would make the bench's TCP
// rows measure retransmissions instead of the queue.
import { expect } from 'chai';
import { onesSum } from '../../bench/lib/packet.js';
import { StreamRanges } from '../../bench/lib/tcp-ranges.js';
import {
  buildTcp4, endpoints, parseTcp4, payloadOf, repeatPayload, sackOption, synOptions, TCP_ACK, TCP_SYN,
} from '../../bench/lib/tcp-segment.js';
import { addressBytes, internetChecksum, pseudoHeader } from '../helpers/packets.js';
import { readVnetHeader } from '../helpers/packets-offload.js';

const ends = endpoints('10.11.0.2', 40001, '10.11.0.1', 7001);
const segment = payloadOf(Uint8Array.from({ length: 1460 }, (_, i) => (i * 7) & 0xff));
const src = addressBytes('10.11.0.2', 4);
const dst = addressBytes('10.11.0.1', 4);

describe('bench mini-TCP: segments', () => {
  it('a plain segment carries a valid IPv4 header checksum and a valid TCP checksum over its payload', () => {
    const p = buildTcp4(ends, { seq: 0xfffffff0, ack: 5, flags: TCP_ACK, window: 1234 }, segment);
    expect(p.length).to.equal(40 + 1460);
    expect(internetChecksum(p.subarray(0, 20))).to.equal(0);
    expect(p.readUInt16BE(2)).to.equal(1500);
    expect(internetChecksum(pseudoHeader(src, dst, 6, 1480), p.subarray(20))).to.equal(0);
  });

  it('options are counted in the data offset and the checksum', () => {
    const p = buildTcp4(ends, { seq: 1, ack: 0, flags: TCP_SYN, window: 0xffff, options: synOptions(1460, 14, true) });
    expect(p[32]! >> 4).to.equal(8);
    expect(internetChecksum(pseudoHeader(src, dst, 6, 32), p.subarray(20))).to.equal(0);
  });

  it('vnet framing is the same packet behind ten zero bytes', () => {
    const fields = { seq: 7, ack: 9, flags: TCP_ACK, window: 1 };
    const plain = buildTcp4(ends, fields, segment);
    const framed = buildTcp4(ends, fields, segment, { kind: 'vnet' });
    expect([...framed.subarray(0, 10)]).to.deep.equal(new Array(10).fill(0));
    expect(framed.subarray(10).equals(plain)).to.equal(true);
  });

  it('a superframe has a TCPV4 virtio header and the pseudo-header sum of its whole length in the checksum field', () => {
    const big = repeatPayload(segment, 44);
    expect(big.sum).to.equal(onesSum(big.bytes));
    const f = buildTcp4(ends, { seq: 100, ack: 1, flags: TCP_ACK, window: 1 }, big, { kind: 'gso', mss: 1460 });
    const h = readVnetHeader(f);
    expect(h).to.include({ flags: 1, gsoType: 1, hdrLen: 40, gsoSize: 1460, csumStart: 20, csumOffset: 16 });
    expect(f.length).to.equal(10 + 40 + 44 * 1460);
    expect(f.readUInt16BE(10 + 2)).to.equal(40 + 44 * 1460);
    const l4 = 20 + 44 * 1460;
    expect(f.readUInt16BE(10 + 20 + 16)).to.equal(~internetChecksum(pseudoHeader(src, dst, 6, l4)) & 0xffff);
  });

  it('parseTcp4 reads back what buildTcp4 wrote, SYN options included, behind a virtio header too', () => {
    const f = buildTcp4(ends, { seq: 0x80000001, ack: 42, flags: TCP_SYN | TCP_ACK, window: 999, options: synOptions(1460, 7, true) },
      payloadOf(new Uint8Array(10)), { kind: 'vnet' });
    expect(parseTcp4(f, 10)).to.deep.equal({
      sport: 40001, dport: 7001, seq: 0x80000001, ack: 42, flags: TCP_SYN | TCP_ACK, window: 999, payloadLength: 10,
      syn: { windowScale: 7, sackPermitted: true },
    });
    expect(parseTcp4(Buffer.from([0x60, 0, 0, 0]), 0)).to.equal(undefined);
  });

  it('a SACK option holds at most four blocks behind two NOPs', () => {
    const o = sackOption([[1, 2], [3, 4], [5, 6], [7, 8], [9, 10]]);
    expect(o.length).to.equal(36);
    expect([...o.subarray(0, 4)]).to.deep.equal([1, 1, 5, 34]);
    expect(o.readUInt32BE(4 + 8 * 3 + 4)).to.equal(8);
  });
});

describe('bench mini-TCP: stream ranges', () => {
  it('moves the edge in order and not for bytes it already has', () => {
    const r = new StreamRanges();
    expect(r.take(0, 100)).to.equal(100);
    expect(r.take(50, 100)).to.equal(0);
    expect(r.take(50, 150)).to.equal(50);
    expect(r.edge).to.equal(150);
  });

  it('holds ranges past a gap, merges them, and jumps over them when the hole fills', () => {
    const r = new StreamRanges();
    r.take(0, 10);
    expect(r.take(20, 30)).to.equal(0);
    expect(r.take(40, 50)).to.equal(0);
    expect(r.take(30, 40)).to.equal(0); // joins both held ranges
    expect(r.blocks(4)).to.deep.equal([[20, 50]]);
    expect(r.take(60, 70)).to.equal(0);
    expect(r.blocks(4)).to.deep.equal([[60, 70], [20, 50]]);
    expect(r.take(10, 20)).to.equal(40);
    expect(r.edge).to.equal(50);
    expect(r.blocks(4)).to.deep.equal([[60, 70]]);
  });
});
