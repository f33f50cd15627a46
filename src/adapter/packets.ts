// The async iterator over a packet source: buffers what the consumer has not
// taken yet, pauses the source at the high-water mark and resumes it at half,
// ends when the source stops, the signal aborts or the loop breaks.

import { InterfaceState } from '../../machines/types.js';
import { validateInteger } from '../binding/contract/validate.js';
import type { PacketSource } from './packet-source.js';

export interface PacketIteratorOptions {
  /** Packets buffered before the queues are paused (backpressure). Default 1024. */
  highWaterMark?: number;
  signal?: AbortSignal;
}

export const DEFAULT_HIGH_WATER_MARK = 1024;

export function packetIterator(source: PacketSource, options: PacketIteratorOptions = {}): AsyncIterableIterator<Buffer> {
  // Checked before anything listens: a refused call leaves the source as it was.
  const highWaterMark = options.highWaterMark === undefined
    ? DEFAULT_HIGH_WATER_MARK
    : validateInteger(options.highWaterMark, 'options.highWaterMark', 1, Number.MAX_SAFE_INTEGER);
  const buffered: Buffer[] = [];
  let waiting: ((result: IteratorResult<Buffer>) => void) | undefined;
  let ended = false;
  let paused = false;
  const onPacket = (packet: Buffer) => {
    if (waiting) {
      const wake = waiting;
      waiting = undefined;
      wake({ value: packet, done: false });
      return;
    }
    buffered.push(packet);
    if (buffered.length >= highWaterMark && !paused) {
      paused = true;
      source.pause();
    }
  };
  const finish = () => {
    if (ended) return;
    ended = true;
    source.off('packet', onPacket);
    source.off('state', onState);
    options.signal?.removeEventListener('abort', finish);
    if (paused) source.resume();
    if (waiting) {
      const wake = waiting;
      waiting = undefined;
      wake({ value: undefined, done: true });
    }
  };
  const onState = (to: InterfaceState) => { if (to === InterfaceState.Stopped) finish(); };
  source.on('packet', onPacket);
  source.on('state', onState);
  options.signal?.addEventListener('abort', finish, { once: true });
  if (source.stopped) finish();

  const iterator: AsyncIterableIterator<Buffer> = {
    next: () => {
      const packet = buffered.shift();
      if (packet) {
        if (paused && buffered.length <= highWaterMark / 2) {
          paused = false;
          source.resume();
        }
        return Promise.resolve({ value: packet, done: false });
      }
      if (ended) return Promise.resolve({ value: undefined, done: true });
      return new Promise((resolve) => { waiting = resolve; });
    },
    return: () => {
      finish();
      buffered.length = 0;
      return Promise.resolve({ value: undefined, done: true });
    },
    [Symbol.asyncIterator]() { return iterator; },
  };
  return iterator;
}
