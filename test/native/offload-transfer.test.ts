// Offload against the kernel, end to end: 100 MB of TCP from namespace A to
// namespace B through this package's relay (a TUN in each namespace, this
// process between them), SHA-256 of the stream compared at both ends, with
// offload off, segmented (reads split natively, writes coalesced) and
// pass-through (superframes and their virtio headers relayed unsplit). The
// queue counters show superframes really crossed (or, offload off, did not).

import { expect } from 'chai';
import { describeKernel } from '../helpers/netns.js';
import { loadNativeBinding } from '../helpers/native-binding.js';
import { startRelay, tcpTransfer, useRelayNamespaces, type RelayWrites } from '../helpers/relay-transfer.js';
import type { OffloadOption } from '../../src/binding/contract/types.js';

const MB = 1 << 20;

interface Case { title: string; offload: OffloadOption; writes: RelayWrites; mode: string; superframes: boolean; reuse?: boolean }

const CASES: Case[] = [
  { title: 'offload off', offload: false, writes: 'write', mode: 'off', superframes: false },
  { title: 'segmented, one write() per packet (coalesced per turn)', offload: true, writes: 'write', mode: 'segmented', superframes: true },
  { title: 'segmented, writeBatch()', offload: 'auto', writes: 'writeBatch', mode: 'segmented', superframes: true },
  { title: 'pass-through', offload: 'raw', writes: 'writeBatch', mode: 'raw', superframes: true },
  // Lent batches: write() gathers until process.nextTick, which runs before the next read reuses the buffer.
  { title: 'segmented, write() per packet, reuseReadBuffer(true)', offload: true, writes: 'write', mode: 'segmented', superframes: true, reuse: true },
  { title: 'pass-through, reuseReadBuffer(true)', offload: 'raw', writes: 'writeBatch', mode: 'raw', superframes: true, reuse: true },
];

describeKernel('offload: 100 MB of TCP between two namespaces through the relay', function () {
  this.timeout(180_000);
  const w = useRelayNamespaces(loadNativeBinding);

  for (const c of CASES) {
    it(`${c.title}: the stream arrives whole (SHA-256 equal)`, async function () {
      const relay = w.relay = await startRelay(w.binding, w.nsA, w.nsB, c.offload, c.writes, c.reuse);
      expect(relay.a.offload?.mode).to.equal(c.mode);
      const result = await tcpTransfer(w.nsA, w.nsB, 100 * MB);
      expect(result.receivedBytes).to.equal(100 * MB);
      expect(result.received).to.have.length(64);
      expect(result.received).to.equal(result.sent);
      const a = relay.a.queues[0]!.stats();
      const b = relay.b.queues[0]!.stats();
      // A's TUN hands the sender's TSO superframes over; B's gets acks only.
      if (c.superframes) expect(a.rxSuperframes, 'superframes read from A').to.be.greaterThan(0);
      else expect(a.rxSuperframes ?? 0).to.equal(0);
      if (c.mode === 'segmented' && c.superframes) expect(b.txSuperframes, 'superframes coalesced into B').to.be.greaterThan(0);
      expect(a.splitErrors ?? 0).to.equal(0);
    });
  }
});
