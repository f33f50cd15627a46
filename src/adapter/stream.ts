// The object-mode Duplex over a packet port: the readable side yields packets
// (pausing the port under backpressure), the writable side writes them
// (waiting for 'drain' when the port queued one). Ends when the port stops.

import { streamModule } from '../binding/contract/builtins.js';
import type { Duplex } from 'node:stream';
import { InterfaceState } from '../../machines/types.js';
import type { PacketPort } from './packet-source.js';

export function packetStream(port: PacketPort): Duplex {
  // node:stream loads with the first stream() (src/binding/contract/builtins.ts says why).
  const { Duplex: DuplexClass } = streamModule();
  let reading = true;
  const duplex = new DuplexClass({
    objectMode: true,
    read() {
      if (!reading) {
        reading = true;
        port.resume();
      }
    },
    write(chunk: Uint8Array, _encoding, callback) {
      try {
        if (port.write(chunk)) {
          callback();
          return;
        }
        const onDrain = () => {
          port.off('drain', onDrain);
          callback();
        };
        port.on('drain', onDrain);
      } catch (error) {
        callback(error as Error);
      }
    },
  });
  const onPacket = (packet: Buffer) => {
    if (!duplex.push(packet) && reading) {
      reading = false;
      port.pause();
    }
  };
  const onState = (to: InterfaceState) => {
    if (to === InterfaceState.Stopped) {
      detach();
      duplex.push(null);
    }
  };
  const detach = () => {
    port.off('packet', onPacket);
    port.off('state', onState);
  };
  port.on('packet', onPacket);
  port.on('state', onState);
  duplex.once('close', detach);
  if (port.stopped) onState(InterfaceState.Stopped);
  return duplex;
}
