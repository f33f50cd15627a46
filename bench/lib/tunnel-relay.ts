// The Node relays of bench/tunnel.ts, each its own process (so its CPU time is its own):
//   node tunnel-relay.js package NS_A NS_B NAME_A NAME_B
//       this package: an interface in each namespace (binding.namespace()), one
//       queue each, every batch read from one written to the other (inside
//       the listener, so with reuseReadBuffer(true)).
//   node tunnel-relay.js workers N NS_A NS_B NAME_A NAME_B
//       the same with N queues per interface, queue i of both handed to
//       worker_threads Worker i (tunnel-relay-worker.ts); this thread only
//       opened them.
//   node tunnel-relay.js offload MODE NS_A NS_B NAME_A NAME_B
//       the package relay with offload: MODE off (offload: false, each batch
//       written with writeBatch), segmented (offload: true: reads split,
//       each batch coalesced by writeBatch) or raw (offload: 'raw': frames and
//       their virtio headers passed through unsplit).
//   node tunnel-relay.js naive
//       fs.read / fs.write on fds 3 and 4 (opened by bench/c/tun_relay.c exec),
//       one packet per threadpool round trip, the way a Node program without
//       this package would do it.
// Prints "ready"; on SIGTERM prints one JSON line and exits.
import fs from 'node:fs';
import { createNativeBinding } from '../../src/binding/native/binding.js';
import { Worker } from 'node:worker_threads';
import type { OffloadOption, PacketQueue } from '../../src/binding/contract/types.js';
import type { NativePacketQueue } from '../../src/binding/native/device.js';

let packets = 0;
function finishOnTerm(close: () => void): void {
  process.on('SIGTERM', () => {
    close();
    console.log(JSON.stringify({ packets }));
    // naive: the last fs.read stays parked in the kernel and libuv would join it at exit.
    process.kill(process.pid, 'SIGKILL');
  });
}

/**
 * The package relay: an interface in each namespace (binding.namespace()),
 * one queue each, every batch read from one written to the other — packet by
 * packet with write(), or whole with writeBatch().
 */
async function relay(nsA: string, nsB: string, nameA: string, nameB: string, offload: OffloadOption, batched: boolean): Promise<void> {
  const binding = createNativeBinding();
  const [a, b] = await Promise.all([
    binding.namespace(nsA).then((ns) => ns.open({ name: nameA, offload })),
    binding.namespace(nsB).then((ns) => ns.open({ name: nameB, offload })),
  ]);
  const pipe = (from: PacketQueue, to: PacketQueue) => {
    // Every batch is written before the listener returns: it can be a view of
    // one reused read buffer (TUNNEL_RELAY_HANDOVER=1 measures without).
    if (process.env.TUNNEL_RELAY_HANDOVER !== '1') (from as NativePacketQueue).reuseReadBuffer(true);
    from.on('packets', (batch: Buffer[]) => {
      packets += batch.length;
      try {
        if (batched) to.writeBatch!(batch);
        else for (const packet of batch) to.write(packet);
      } catch {
        // EIO while the other side is still down (bring-up): dropped, as a link would.
      }
    });
    from.resume();
  };
  pipe(a.queues[0]!, b.queues[0]!);
  pipe(b.queues[0]!, a.queues[0]!);
  finishOnTerm(() => { a.close(); b.close(); });
  console.log('ready');
}

const OFFLOAD_MODES: Readonly<Record<string, OffloadOption>> = { off: false, segmented: true, raw: 'raw' };

async function workersRelay(count: number, nsA: string, nsB: string, nameA: string, nameB: string): Promise<void> {
  const binding = createNativeBinding();
  const [a, b] = await Promise.all([
    binding.namespace(nsA).then((ns) => ns.open({ name: nameA, queues: count })),
    binding.namespace(nsB).then((ns) => ns.open({ name: nameB, queues: count })),
  ]);
  const script = new URL('./tunnel-relay-worker.js', import.meta.url);
  const workers = a.queues.map((qa, i) => new Worker(script, {
    workerData: { a: (qa as NativePacketQueue).handOff(), b: (b.queues[i] as NativePacketQueue).handOff() },
  }));
  finishOnTerm(() => { for (const w of workers) void w.terminate(); });
  console.log('ready');
}

function naiveRelay(): void {
  const pump = (from: number, to: number) => {
    const buf = Buffer.alloc(65536);
    const next = () => fs.read(from, buf, 0, buf.length, null, (err, n) => {
      if (err) return;
      packets += 1;
      fs.write(to, buf, 0, n, null, () => next());
    });
    next();
  };
  pump(3, 4);
  pump(4, 3);
  finishOnTerm(() => {});
  console.log('ready');
}

const [mode, ...rest] = process.argv.slice(2);
if (mode === 'package') await relay(rest[0]!, rest[1]!, rest[2]!, rest[3]!, false, false);
else if (mode === 'workers') await workersRelay(Number(rest[0]), rest[1]!, rest[2]!, rest[3]!, rest[4]!);
else if (mode === 'offload') {
  const offload = OFFLOAD_MODES[rest[0]!];
  if (offload === undefined) throw new Error(`tunnel-relay: unknown offload mode ${rest[0]}`);
  await relay(rest[1]!, rest[2]!, rest[3]!, rest[4]!, offload, true);
}
else if (mode === 'naive') naiveRelay();
else throw new Error(`tunnel-relay: unknown mode ${mode}`);
