// Offload in the simulated twin, the way a user's own tests (no root) use it:
// the state and the 'offload' event through the adapter, a superframe injected
// and read split into ordinary packets, writes of one turn observed coalesced
// into one superframe, pass-through frames unsplit, the probe failing by
// fault injection (coalescing off, traffic intact), the runtime switches.

import { expect } from 'chai';
import { SimulatedBinding } from '../../src/binding/simulated/binding.js';
import { TunAdapter } from '../../src/adapter/index.js';
import type { OffloadState } from '../../src/binding/contract/types.js';
import type { SimulatedPacketQueue } from '../../src/binding/simulated/queue.js';
import { buildSegment, buildSuperframe, parseSegment, patternPayload, readVnetHeader, GSO_TCPV4, TCP_ACK } from '../helpers/packets-offload.js';
import { nextEvent } from '../helpers/wait.js';

const FLOW = { family: 4 as const, proto: 'tcp' as const, src: '10.40.0.2', dst: '10.40.0.1', srcPort: 40000, dstPort: 5201, ack: 7, flags: TCP_ACK };

function segments(count: number, size: number): Buffer[] {
  return Array.from({ length: count }, (_, i) => buildSegment({ ...FLOW, seq: 1000 + i * size, payload: patternPayload(size, i) }));
}

describe('offload in the simulated binding', function () {
  const adapters: TunAdapter[] = [];
  afterEach(async function () {
    for (const adapter of adapters.splice(0)) await adapter.cleanup().catch(() => undefined);
  });

  async function started(binding: SimulatedBinding, offload?: false | true | 'auto' | 'raw'): Promise<{ adapter: TunAdapter; state: OffloadState }> {
    const adapter = new TunAdapter('sof0', { binding, addresses: ['10.40.0.1/24'], ...(offload === undefined ? {} : { offload }) });
    adapters.push(adapter);
    const told = nextEvent<[OffloadState]>(adapter, 'offload');
    await adapter.start();
    const [state] = await told;
    return { adapter, state };
  }

  it("a simulated kernel without offload: 'auto' opens with offload off and says why", async function () {
    const { adapter, state } = await started(new SimulatedBinding());
    expect(state.mode).to.equal('off');
    expect(state.reason).to.match(/simulated kernel has no offload/);
    expect((await adapter.stats()).offload).to.equal(state);
  });

  it("'auto' (the default): segmented; an injected superframe is read as ordinary packets", async function () {
    const binding = new SimulatedBinding({ offload: {} });
    const { adapter, state } = await started(binding);
    expect(state).to.deep.include({ mode: 'segmented', tso: true, uso: true, reason: undefined });
    expect(state.coalesce).to.deep.equal({ tcp: true, udp: true });
    const got: Buffer[] = [];
    adapter.on('packet', (packet: Buffer) => got.push(packet));
    const payload = patternPayload(3000, 9);
    expect(binding.world.injectSuperframe('sof0', buildSuperframe({ ...FLOW, seq: 1, gsoSize: 1000, payload }))).to.equal(true);
    await new Promise((r) => setTimeout(r, 20));
    expect(got).to.have.length(3);
    const parsed = got.map(parseSegment);
    expect(Buffer.concat(parsed.map((p) => p.payload)).equals(payload)).to.equal(true);
    expect(parsed.map((p) => p.seq)).to.deep.equal([1, 1001, 2001]);
    expect(parsed.every((p) => p.valid)).to.equal(true);
    expect((await adapter.stats()).queues[0]!.rxSuperframes).to.equal(1);
  });

  it('writes of one turn reach the fd coalesced into one superframe; the kernel receives every packet', async function () {
    const binding = new SimulatedBinding({ offload: {} });
    const { adapter } = await started(binding);
    const packets = segments(4, 500);
    for (const packet of packets) expect(adapter.write(packet)).to.equal(true);
    await new Promise((r) => setImmediate(r));
    const queue = binding.kernel.find('sof0')!.fds[0] as SimulatedPacketQueue;
    expect(queue.frames).to.have.length(1);
    const header = readVnetHeader(queue.frames[0]!);
    expect(header.gsoType).to.equal(GSO_TCPV4);
    expect(header.gsoSize).to.equal(500);
    expect(binding.world.transmitted('sof0').map((p) => p.toString('hex'))).to.deep.equal(packets.map((p) => p.toString('hex')));
  });

  it("the probe refused (offload: { probe: 'EINVAL' }): coalescing off with the reason, reads still split, writes intact", async function () {
    const binding = new SimulatedBinding({ offload: { probe: 'EINVAL' } });
    const { adapter, state } = await started(binding, true);
    expect(state.mode).to.equal('segmented');
    expect(state.coalesce).to.deep.equal({ tcp: false, udp: false });
    expect(state.reason).to.match(/EINVAL.*tailscale#13041/);
    expect(state.probeFailures, 'the refusal counted').to.equal(1);
    expect((await adapter.stats()).offload?.probeFailures).to.equal(1);
    const packets = segments(3, 400);
    for (const packet of packets) adapter.write(packet);
    await new Promise((r) => setImmediate(r));
    const queue = binding.kernel.find('sof0')!.fds[0] as SimulatedPacketQueue;
    expect(queue.frames.map((f) => readVnetHeader(f).gsoType), 'each alone').to.deep.equal([0, 0, 0]);
    expect(binding.world.transmitted('sof0')).to.have.length(3);
  });

  it('setOffload({ tcp: false }) on a running adapter: the event says so, writes go alone', async function () {
    const binding = new SimulatedBinding({ offload: {} });
    const { adapter } = await started(binding);
    const told = nextEvent<[OffloadState]>(adapter, 'offload');
    const now = adapter.setOffload({ tcp: false });
    expect(now?.coalesce).to.deep.equal({ tcp: false, udp: true });
    expect((await told)[0]).to.equal(now);
    expect(now?.reason).to.match(/setOffload/);
    for (const packet of segments(2, 400)) adapter.write(packet);
    await new Promise((r) => setImmediate(r));
    const queue = binding.kernel.find('sof0')!.fds[0] as SimulatedPacketQueue;
    expect(queue.frames).to.have.length(2);
    expect(() => adapter.setOffload({ tcp: 'no' as unknown as boolean })).to.throw(TypeError, /switches\.tcp/);
  });

  it("'raw': superframes read whole with their header, written frames split for the kernel", async function () {
    const binding = new SimulatedBinding({ offload: {} });
    const { adapter, state } = await started(binding, 'raw');
    expect(state.mode).to.equal('raw');
    const got: Buffer[] = [];
    adapter.on('packet', (packet: Buffer) => got.push(packet));
    const frame = buildSuperframe({ ...FLOW, seq: 1, gsoSize: 700, payload: patternPayload(2100, 3) });
    binding.world.injectSuperframe('sof0', frame);
    await new Promise((r) => setTimeout(r, 20));
    expect(got).to.have.length(1);
    expect(got[0]!.equals(frame)).to.equal(true);
    // Relayed back as it came: the kernel receives the three segments.
    adapter.write(got[0]!);
    expect(binding.world.transmitted('sof0')).to.have.length(3);
    expect(() => adapter.write(segments(1, 100)[0]!), 'a bare packet in raw mode').to.throw(TypeError, /virtio_net_hdr/);
  });
});
