// Packets keep flowing while the adapter reconfigures: a paced UDP stream
// from a real socket in the run's namespace, routed into the TUN by a route
// that stays configured, loses nothing across 100 route reconfigurations
// (each adding or removing ten other routes), and the link drops nothing.

import { expect } from 'chai';
import { describeKernel } from '../helpers/netns.js';
import { ipJson } from '../helpers/iproute.js';
import { loadNativeBinding } from '../helpers/native-binding.js';
import { bindUdp } from '../helpers/udp.js';
import { isUdp, parsePacket } from '../helpers/packets.js';
import { eventually, sleep } from '../helpers/wait.js';
import { createAdapter } from '../../src/index.js';
import type { TunAdapter } from '../../src/index.js';

const NAME = 'rctr0';
const LOCAL = '10.236.0.1';
const TARGET = '10.237.0.9'; // through the route that stays
const PORT = 40_123;
const RECONFIGURATIONS = 100;

function txDropped(): number {
  const [row] = ipJson<Array<{ stats64: { tx: { dropped: number } } }>>('-s', 'link', 'show', 'dev', NAME);
  return row!.stats64.tx.dropped;
}

describeKernel('reconfigure() under traffic (native)', function () {
  this.timeout(60_000);
  let tun: TunAdapter;
  afterEach(async () => {
    if (tun && tun.state !== 'stopped') await tun.cleanup();
  });

  it(`a paced UDP stream to an address that stays configured loses nothing across ${RECONFIGURATIONS} route reconfigurations`, async () => {
    const binding = await loadNativeBinding();
    tun = await createAdapter(NAME, { binding, addresses: [`${LOCAL}/24`], routes: ['10.237.0.0/16'] });
    const received = new Set<number>();
    const ours = isUdp({ dst: TARGET, dstPort: PORT });
    tun.on('packet', (packet: Buffer) => {
      if (ours(packet)) received.add(parsePacket(packet).udp!.payload.readUInt32BE(0));
    });
    const socket = await bindUdp('udp4', LOCAL);
    let sent = 0;
    let sending = true;
    // Paced: one datagram per millisecond or so, from the event loop the adapter also runs on.
    const pacer = (async () => {
      while (sending) {
        const payload = Buffer.alloc(64);
        payload.writeUInt32BE(sent, 0);
        await new Promise<void>((resolve, reject) => socket.send(payload, PORT, TARGET, (e) => (e ? reject(e) : resolve())));
        sent += 1;
        await sleep(1);
      }
    })();
    const droppedBefore = txDropped();
    const extra = (k: number) => Array.from({ length: 10 }, (_, i) => `10.${238 + (k % 2)}.${i}.0/24`);
    let applied = 0;
    for (let k = 0; k < RECONFIGURATIONS; k++) {
      // Even k: ten routes in; odd k: those out again and ten others in.
      const diff = await tun.reconfigure({ routes: ['10.237.0.0/16', ...extra(k)] });
      applied += diff.routes.added.length + diff.routes.removed.length;
      await sleep(2);
    }
    sending = false;
    await pacer;
    socket.close();
    expect(await eventually(() => received.size === sent, 3000), `received ${received.size} of ${sent}`).to.equal(true);
    expect(sent, 'the stream ran through the reconfigurations').to.be.above(RECONFIGURATIONS);
    expect(applied, 'every reconfiguration changed routes').to.equal(10 + (RECONFIGURATIONS - 1) * 20);
    expect(txDropped() - droppedBefore, 'nothing dropped at the TUN').to.equal(0);
    expect(tun.state).to.equal('ready');
    expect((await tun.stats()).faults).to.equal(0);
  });
});
