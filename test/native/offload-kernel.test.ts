// Offload's kernel conversations, each against a real TUN: the mask the kernel
// accepted (read back with ethtool -k), the mask a persistent device kept
// cleared by an attach without offload (tun-rs#141), the process-wide switch,
// the coalesced-write probe failing through the native fault hook (coalescing
// off, traffic intact), and UDP through USO where the kernel has it.

import { expect } from 'chai';
import { execFileSync, spawn } from 'node:child_process';
import { describeKernel } from '../helpers/netns.js';
import { ipJson } from '../helpers/iproute.js';
import { loadNativeBinding } from '../helpers/native-binding.js';
import { B_ADDR, nodeIn, startRelay, tcpTransfer, useRelayNamespaces } from '../helpers/relay-transfer.js';
import type { OffloadState, TunBinding, TunDevice } from '../../src/binding/contract/types.js';
import { TunAdapter } from '../../src/adapter/index.js';
import { nextEvent } from '../helpers/wait.js';
import { OFFLOAD_ENV } from '../../src/binding/contract/offload.js';

const MB = 1 << 20;

/** ethtool -k NAME as { feature: on }; `ns` runs it inside that namespace. */
function features(name: string, ns?: string): Record<string, boolean> {
  const args = ns === undefined ? ['-k', name] : ['netns', 'exec', ns, 'ethtool', '-k', name];
  const out = execFileSync(ns === undefined ? 'ethtool' : 'ip', args, { encoding: 'utf8' });
  const map: Record<string, boolean> = {};
  for (const line of out.split('\n')) {
    const m = /^\s*([\w-]+): (on|off)/.exec(line);
    if (m) map[m[1]!] = m[2] === 'on';
  }
  return map;
}

async function addonOf(): Promise<{ setOffloadProbeFault(errno: number): void; setOffloadWriteFault(errno: number): void }> {
  const { loadAddon } = await import('../../src/binding/native/addon.js');
  return loadAddon();
}

describeKernel('offload: the kernel side', function () {
  this.timeout(120_000);
  let binding: TunBinding;
  const open: TunDevice[] = [];

  before(async function () {
    binding = await loadNativeBinding();
  });

  afterEach(async function () {
    for (const device of open.splice(0)) {
      if (device.persistent && !device.closed) await device.setPersist(false).catch(() => undefined);
      device.close();
    }
  });

  it('offload: true sets CSUM|TSO4|TSO6 (+USO where the kernel has it) on the device; false leaves them off', async function () {
    const on = await binding.open({ name: 'tlon%d', offload: true });
    open.push(on);
    const f = features(on.name);
    expect(on.offload?.mode).to.equal('segmented');
    expect(on.offload?.tso).to.equal(true);
    expect(f['tx-tcp-segmentation'], 'tx-tcp-segmentation').to.equal(true);
    expect(f['tx-tcp6-segmentation'], 'tx-tcp6-segmentation').to.equal(true);
    expect(f['tx-checksum-ip-generic'], 'tx-checksum-ip-generic').to.equal(true);
    // USO is what the second TUNSETOFFLOAD found: the device says the same.
    expect(on.offload?.uso, 'uso as ethtool shows it').to.equal(f['tx-udp-segmentation'] === true);
    const off = await binding.open({ name: 'tloff%d', offload: false });
    open.push(off);
    expect(off.offload?.mode).to.equal('off');
    expect(features(off.name)['tx-tcp-segmentation']).to.equal(false);
  });

  it('a persistent device attached with offload, then without: the mask is cleared (TUNSETOFFLOAD 0)', async function () {
    const first = await binding.open({ name: 'tlpm0', persist: true, offload: true });
    expect(features('tlpm0')['tx-tcp-segmentation'], 'set by the first owner').to.equal(true);
    first.close();
    // The device outlives its fd, and so does its mask.
    expect(features('tlpm0')['tx-tcp-segmentation'], 'kept across owners').to.equal(true);
    const second = await binding.open({ name: 'tlpm0', attachExisting: true, offload: false });
    open.push(second);
    const f = features('tlpm0');
    expect(f['tx-tcp-segmentation'], 'tx-tcp-segmentation').to.equal(false);
    expect(f['tx-checksum-ip-generic'], 'tx-checksum-ip-generic').to.equal(false);
    expect(f['tx-udp-segmentation'] ?? false, 'tx-udp-segmentation').to.equal(false);
  });

  it(`${OFFLOAD_ENV}=0 turns every mode off for the process, with the reason`, async function () {
    const saved = process.env[OFFLOAD_ENV];
    process.env[OFFLOAD_ENV] = '0';
    try {
      for (const offload of [true, 'auto', 'raw'] as const) {
        const device = await binding.open({ name: 'tlenv%d', offload });
        open.push(device);
        expect(device.offload?.mode, String(offload)).to.equal('off');
        expect(device.offload?.reason).to.include(OFFLOAD_ENV);
        expect(features(device.name)['tx-tcp-segmentation']).to.equal(false);
      }
    } finally {
      if (saved === undefined) delete process.env[OFFLOAD_ENV];
      else process.env[OFFLOAD_ENV] = saved;
    }
  });

  it('the probe passes on this kernel: coalescing stays on after link-up', async function () {
    const device = await binding.open({ name: 'tlpr%d', offload: true, configure: { up: true } });
    open.push(device);
    expect(device.offload?.coalesce.tcp).to.equal(true);
    expect(device.offload?.reason).to.equal(undefined);
    expect(device.offload?.probeFailures).to.equal(0);
    // The probe's write reached the kernel (its rx counters: nobody else writes
    // into this device); its TTL-0 segments were then dropped by the stack.
    const [link] = ipJson<Array<{ stats64: { rx: { packets: number; bytes: number } } }>>('-s', 'link', 'show', 'dev', device.name);
    // One superframe: one set of headers (40 bytes) and both 64-byte payloads.
    expect(link!.stats64.rx.packets, 'one write').to.equal(1);
    expect(link!.stats64.rx.bytes, 'headers once, both payloads').to.equal(40 + 2 * 64);
  });

  it("an adapter with the default ('auto'): the 'offload' event and stats() say segmented; setOffload switches TCP off", async function () {
    const adapter = new TunAdapter('tlad0', { binding, addresses: ['10.231.0.1/24'] });
    try {
      const told = nextEvent<[OffloadState]>(adapter, 'offload');
      await adapter.start();
      const [state] = await told;
      expect(state).to.deep.include({ mode: 'segmented', tso: true, reason: undefined });
      expect(state.coalesce.tcp).to.equal(true);
      expect(features('tlad0')['tx-tcp-segmentation']).to.equal(true);
      expect((await adapter.stats()).offload).to.equal(state);
      const off = adapter.setOffload({ tcp: false });
      expect(off?.coalesce.tcp).to.equal(false);
      expect(off?.reason).to.match(/setOffload/);
      expect((await adapter.stats()).offload).to.equal(off);
    } finally {
      await adapter.cleanup();
    }
  });
});

describeKernel('offload: the probe failing (native fault hook) and UDP with USO, through the relay', function () {
  this.timeout(120_000);
  const w = useRelayNamespaces(loadNativeBinding, async () => {
    const addon = await addonOf();
    addon.setOffloadProbeFault(0);
    addon.setOffloadWriteFault(0);
  });

  it('EINVAL from the probe: coalescing off, the reason stated, reads still split, 20 MB of TCP intact', async function () {
    (await addonOf()).setOffloadProbeFault(22);
    const relay = w.relay = await startRelay(w.binding, w.nsA, w.nsB, 'auto', 'writeBatch');
    for (const device of [relay.a, relay.b]) {
      expect(device.offload?.mode).to.equal('segmented');
      expect(device.offload?.coalesce).to.deep.equal({ tcp: false, udp: false });
      expect(device.offload?.reason).to.match(/EINVAL.*coalesc/);
      expect(device.offload?.probeFailures, 'the refused probe counted').to.equal(1);
    }
    const result = await tcpTransfer(w.nsA, w.nsB, 20 * MB);
    expect(result.receivedBytes).to.equal(20 * MB);
    expect(result.received).to.equal(result.sent);
    expect(relay.a.queues[0]!.stats().rxSuperframes, 'TSO superframes still read and split').to.be.greaterThan(0);
    expect(relay.b.queues[0]!.stats().txSuperframes, 'nothing coalesced').to.equal(0);
  });

  it('a superframe refused after the probe passed (native write fault): coalescing off, its packets written alone, 20 MB intact', async function () {
    const relay = w.relay = await startRelay(w.binding, w.nsA, w.nsB, 'auto', 'writeBatch');
    expect(relay.b.offload?.coalesce.tcp, 'the probe passed').to.equal(true);
    (await addonOf()).setOffloadWriteFault(22);
    const result = await tcpTransfer(w.nsA, w.nsB, 20 * MB);
    expect(result.receivedBytes).to.equal(20 * MB);
    expect(result.received).to.equal(result.sent);
    const b = relay.b.queues[0]!.stats();
    // Refused in the batch where it happened (the frames already grouped there), never after.
    expect(b.coalesceRefusals, 'refused').to.be.within(1, 64);
    expect(b.txSuperframes).to.equal(0);
    expect(relay.b.offload?.coalesce).to.deep.equal({ tcp: false, udp: false });
    expect(relay.b.offload?.reason).to.match(/after the probe passed/);
    expect(relay.b.offload?.probeFailures, 'a refused superframe is not a probe').to.equal(0);
    // Coalescing stays off: more traffic, no more refusals.
    const again = await tcpTransfer(w.nsA, w.nsB, 5 * MB, 5202);
    expect(again.received).to.equal(again.sent);
    expect(relay.b.queues[0]!.stats().coalesceRefusals).to.equal(b.coalesceRefusals);
  });

  for (const offload of ['auto', 'raw'] as const) {
    it(`UDP with USO (${offload === 'raw' ? 'pass-through' : 'segmented'}): UDP_SEGMENT sends cross as superframes, every datagram intact`, async function () {
      const relay = w.relay = await startRelay(w.binding, w.nsA, w.nsB, offload, 'writeBatch');
      if (!relay.a.offload?.uso) {
        // Not a skip: a kernel without USO must say so through the state.
        expect(relay.a.offload?.coalesce.udp).to.equal(false);
        return;
      }
      const count = 16 * 100;
      const receiver = nodeIn(w.nsB, `
        const s = require('dgram').createSocket('udp4'); let good = 0, bad = 0;
        const check = (m) => { const seq = m.readUInt32BE(0); if (m.length !== 1400) return false;
          for (let i = 4; i < m.length; i++) if (m[i] !== ((seq + i) & 255)) return false; return true; };
        s.on('message', (m) => { if (check(m)) good++; else bad++; });
        s.bind(5300, '${B_ADDR}', () => process.stdout.write('READY\\n'));
        setTimeout(() => { process.stdout.write('GOT ' + good + ' ' + bad + '\\n'); process.exit(0); }, 4000);`);
      await receiver.ready;
      const sender = `
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_UDP, 103, 1400)  # UDP_SEGMENT
for burst in range(${count / 16}):
    buf = bytearray()
    for k in range(16):
        seq = burst * 16 + k
        d = bytearray((seq + i) & 255 for i in range(1400))
        d[0:4] = seq.to_bytes(4, 'big')
        buf += d
    s.sendto(bytes(buf), ('${B_ADDR}', 5300))
    time.sleep(0.002)
`;
      await new Promise<void>((resolve, reject) => {
        const child = spawn('ip', ['netns', 'exec', w.nsA, 'python3', '-c', sender]);
        child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`sender exited ${code}`))));
      });
      const out = await receiver.done;
      const [, good, bad] = /GOT (\d+) (\d+)/.exec(out)!.map(Number);
      expect(bad, 'datagrams corrupted').to.equal(0);
      expect(good, 'datagrams delivered').to.be.greaterThan(count * 0.9);
      expect(relay.a.queues[0]!.stats().rxSuperframes, 'USO superframes read from A').to.be.greaterThan(0);
      if (offload === 'auto') expect(relay.b.queues[0]!.stats().txSuperframes, 'UDP coalesced into B').to.be.greaterThan(0);
    });
  }
});
