// A UDP socket bound to an address (port chosen by the kernel), for tests that
// send real traffic through a TUN. A failed bind rejects instead of emitting.

import dgram from 'node:dgram';

export async function bindUdp(type: 'udp4' | 'udp6', address: string): Promise<dgram.Socket> {
  const socket = dgram.createSocket(type);
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, address, () => resolve());
  });
  return socket;
}
