// The packet iterator and the Duplex over a fake packet port: no adapter, no
// lifecycle, only the events, pause/resume and write they are written against.

import { expect } from 'chai';
import { EventEmitter, once } from 'node:events';
import { InterfaceState } from '../../src/index.js';
import type { PacketPort } from '../../src/adapter/packet-source.js';
import { packetIterator } from '../../src/adapter/packets.js';
import { relayPackets, sessionPort } from '../../src/adapter/session-port.js';
import { packetStream } from '../../src/adapter/stream.js';
import { TunAdapter } from '../../src/index.js';
import { SimulatedBinding } from '../../src/testing.js';

class FakePort extends EventEmitter implements PacketPort {
  stopped = false;
  paused = false;
  pauses = 0;
  resumes = 0;
  /** What write() answers: false means "queued, wait for drain". */
  accepts = true;
  failure: Error | undefined;
  readonly written: string[] = [];

  pause(): void { this.paused = true; this.pauses += 1; }
  resume(): void { this.paused = false; this.resumes += 1; }
  write(packet: Uint8Array): boolean {
    if (this.failure) throw this.failure;
    this.written.push(Buffer.from(packet).toString());
    return this.accepts;
  }
  send(...texts: string[]): void { for (const text of texts) this.emit('packet', Buffer.from(text), 0); }
  stop(): void {
    this.stopped = true;
    this.emit('state', InterfaceState.Stopped, InterfaceState.Stopping);
  }
  listening(): number {
    return this.listenerCount('packet') + this.listenerCount('state') + this.listenerCount('drain');
  }
}

const text = (result: IteratorResult<Buffer>) => (result.done ? 'done' : result.value.toString());

describe('packet iterator (over a packet port)', () => {
  it('yields packets sent before and after next(), in order, and ends when the port stops', async () => {
    const port = new FakePort();
    const iterator = packetIterator(port);
    port.send('a');
    const pending = iterator.next();
    port.send('b');
    expect(text(await pending)).to.equal('a');
    expect(text(await iterator.next())).to.equal('b');
    const last = iterator.next();
    port.stop();
    expect(text(await last)).to.equal('done');
    expect(text(await iterator.next())).to.equal('done');
    expect(port.listening()).to.equal(0);
  });

  it('pauses the port at the high-water mark and resumes it at half', async () => {
    const port = new FakePort();
    const iterator = packetIterator(port, { highWaterMark: 4 });
    port.send('1', '2', '3');
    expect(port.pauses).to.equal(0);
    port.send('4', '5');
    expect(port.pauses, 'paused once, not per packet').to.equal(1);
    await iterator.next();
    await iterator.next();
    expect(port.resumes, 'three left is more than half').to.equal(0);
    await iterator.next();
    expect(port.resumes).to.equal(1);
    expect(port.paused).to.equal(false);
  });

  it('return() stops listening, drops the buffer and resumes a paused port', async () => {
    const port = new FakePort();
    const iterator = packetIterator(port, { highWaterMark: 1 });
    port.send('x');
    expect(port.paused).to.equal(true);
    expect(text(await iterator.return!())).to.equal('done');
    expect(port.paused).to.equal(false);
    expect(port.listening()).to.equal(0);
    expect(text(await iterator.next())).to.equal('done');
  });

  it('an aborted signal ends a waiting next()', async () => {
    const port = new FakePort();
    const controller = new AbortController();
    const iterator = packetIterator(port, { signal: controller.signal });
    const pending = iterator.next();
    controller.abort();
    expect(text(await pending)).to.equal('done');
    expect(port.listening()).to.equal(0);
  });

  it('over a port already stopped: ends at once, listens to nothing', async () => {
    const port = new FakePort();
    port.stopped = true;
    const iterator = packetIterator(port);
    expect(port.listening()).to.equal(0);
    expect(text(await iterator.next())).to.equal('done');
  });

  for (const [what, highWaterMark, type, code] of [
    ['zero', 0, RangeError, 'ERR_OUT_OF_RANGE'],
    ['negative', -4, RangeError, 'ERR_OUT_OF_RANGE'],
    ['not an integer', 2.5, RangeError, 'ERR_OUT_OF_RANGE'],
    ['NaN', Number.NaN, RangeError, 'ERR_OUT_OF_RANGE'],
    ['a string', '16', TypeError, 'ERR_INVALID_ARG_TYPE'],
  ] as const) {
    it(`refuses a highWaterMark that is ${what}, before listening`, () => {
      const port = new FakePort();
      const call = () => packetIterator(port, { highWaterMark: highWaterMark as number });
      expect(call).to.throw(type, /"options\.highWaterMark"/).with.property('code', code);
      expect(port.listening()).to.equal(0);
    });
  }

  it('TunAdapter.packets() refuses a bad highWaterMark the same way', () => {
    const adapter = new TunAdapter('tun0', { binding: new SimulatedBinding() });
    expect(() => adapter.packets({ highWaterMark: 0 })).to.throw(RangeError).with.property('code', 'ERR_OUT_OF_RANGE');
    expect(adapter.listenerCount('packet')).to.equal(0);
  });
});

describe('packet Duplex (over a packet port)', () => {
  it('the readable side yields the packets and ends when the port stops', async () => {
    const port = new FakePort();
    const duplex = packetStream(port);
    const received: string[] = [];
    duplex.on('data', (packet: Buffer) => received.push(packet.toString()));
    const ended = once(duplex, 'end');
    port.send('a', 'b');
    port.stop();
    await ended;
    expect(received).to.deep.equal(['a', 'b']);
    expect(port.listenerCount('packet')).to.equal(0);
  });

  it('pauses the port when the readable buffer is full and resumes when it is read', () => {
    const port = new FakePort();
    const duplex = packetStream(port);
    const highWaterMark = duplex.readableHighWaterMark;
    for (let i = 0; i < highWaterMark + 3; i++) port.send(`p${i}`);
    expect(port.pauses, 'paused once').to.equal(1);
    while (duplex.read() !== null) { /* drain the buffer */ }
    expect(port.resumes).to.equal(1);
    duplex.destroy();
  });

  it('a write the port accepts completes at once', async () => {
    const port = new FakePort();
    const duplex = packetStream(port);
    await new Promise<void>((resolve, reject) => duplex.write(Buffer.from('out'), (e) => (e ? reject(e) : resolve())));
    expect(port.written).to.deep.equal(['out']);
    duplex.destroy();
  });

  it("a write the port queued completes on 'drain', and stops listening for it", async () => {
    const port = new FakePort();
    port.accepts = false;
    const duplex = packetStream(port);
    let done = false;
    duplex.write(Buffer.from('queued'), () => { done = true; });
    await new Promise((resolve) => setImmediate(resolve));
    expect(done).to.equal(false);
    expect(port.listenerCount('drain')).to.equal(1);
    port.emit('drain', 0);
    await new Promise((resolve) => setImmediate(resolve));
    expect(done).to.equal(true);
    expect(port.listenerCount('drain')).to.equal(0);
    duplex.destroy();
  });

  it("a write the port refuses becomes the stream's error", async () => {
    const port = new FakePort();
    port.failure = new Error('not ready');
    const duplex = packetStream(port);
    duplex.write(Buffer.from('x'));
    const [error] = await once(duplex, 'error');
    expect((error as Error).message).to.equal('not ready');
  });

  it('closing the stream stops listening; over a stopped port it ends at once', async () => {
    const port = new FakePort();
    const duplex = packetStream(port);
    duplex.destroy();
    await once(duplex, 'close');
    expect(port.listening()).to.equal(0);

    const stopped = new FakePort();
    stopped.stopped = true;
    const ended = packetStream(stopped);
    ended.resume();
    await once(ended, 'end');
    expect(stopped.listening()).to.equal(0);
  });
});

describe("the adapter's side of the port", () => {
  class FakeSession extends EventEmitter {
    calls: string[] = [];
    pause(): void { this.calls.push('pause'); }
    resume(): void { this.calls.push('resume'); }
  }
  it("relayPackets(): one 'packet' per packet of a batch, each drain, until undone", () => {
    const session = new FakeSession();
    const owner = new EventEmitter();
    const seen: string[] = [];
    owner.on('packet', (packet: Buffer, queue: number) => seen.push(`${packet.toString()}@${queue}`));
    owner.on('drain', (queue: number) => seen.push(`drain@${queue}`));
    const undo = relayPackets(session, owner);
    session.emit('packets', [Buffer.from('a'), Buffer.from('b')], 1);
    session.emit('drain', 0);
    undo();
    session.emit('packets', [Buffer.from('late')], 0);
    expect(seen).to.deep.equal(['a@1', 'b@1', 'drain@0']);
    expect(session.listenerCount('packets') + session.listenerCount('drain')).to.equal(0);
  });

  it('sessionPort(): stopped follows the owner, pause/resume reach the session made later', () => {
    const owner = Object.assign(new EventEmitter(), { state: InterfaceState.Ready as InterfaceState, write: () => true });
    let session: FakeSession | undefined;
    const port = sessionPort(owner, () => session);
    port.pause();
    session = new FakeSession();
    port.pause();
    port.resume();
    expect(session.calls).to.deep.equal(['pause', 'resume']);
    expect(port.stopped).to.equal(false);
    owner.state = InterfaceState.Stopped;
    expect(port.stopped).to.equal(true);
  });
});
