// The demo's world when it runs for real: a private network namespace, the
// native binding, kernel UDP sockets and the `ping` binary as the traffic,
// and `ip link del` as the admin who pulls the interface away.

import { spawn, execFileSync } from 'node:child_process';
import dgram from 'node:dgram';
import { tunFdsOpen } from '../tun-fds.js';
import { performance } from 'node:perf_hooks';
import type { TunBinding } from '../../binding/contract/types.js';
import { DEMO } from './plan.js';
import type { Family } from './plan.js';
import type { DemoWorld, PingResult } from './world.js';

export function kernelWorld(binding: TunBinding, netns: string): DemoWorld {
  return {
    kind: 'kernel',
    binding,
    where: `in a private network namespace (${netns}) made for this run with unshare -n; the host's interfaces are not touched`,
    async prepare() {
      const lo = await binding.getLink('lo');
      await binding.setUp(lo.ifindex, true);
    },
    udpRoundTrip: (family, payload, to) => udpRoundTrip(family, payload, to),
    ping: (family) => ping(family),
    deleteFromOutside(name) {
      try {
        execFileSync('ip', ['link', 'del', name], { stdio: ['ignore', 'ignore', 'pipe'] });
        return `ip link del ${name}`;
      } catch (error) {
        if ((error as { code?: string }).code !== 'ENOENT') throw error;
        // No iproute2: delete it through a second binding, as another process would.
        void binding.getLink(name).then((link) => binding.deleteLink(link.ifindex));
        return `RTM_DELLINK ${name} (iproute2 is not installed)`;
      }
    },
    deleteRouteFromOutside(name, route) {
      execFileSync('ip', ['route', 'del', route, 'dev', name], { stdio: ['ignore', 'ignore', 'pipe'] });
      return `ip route del ${route} dev ${name}`;
    },
    async leftovers() {
      const links = (await binding.listLinks()).map((l) => l.name);
      return { links, tunFds: tunFdsOpen() };
    },
  };
}

async function udpRoundTrip(family: Family, payload: Buffer, to: string = DEMO.peer[family]): Promise<number> {
  const socket = dgram.createSocket(family === 4 ? 'udp4' : 'udp6');
  try {
    await bindWhenUsable(socket, DEMO.local[family]);
    const reply = new Promise<[Buffer, dgram.RemoteInfo]>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no UDP reply from ${to} within 1 s`)), 1000);
      socket.on('message', (message, info) => {
        if (!message.equals(payload)) return;
        clearTimeout(timer);
        resolve([message, info]);
      });
    });
    const t0 = performance.now();
    socket.send(payload, DEMO.echoPort, to);
    const [, info] = await reply;
    if (info.address !== to || info.port !== DEMO.echoPort) throw new Error(`reply from ${info.address}:${info.port}`);
    return performance.now() - t0;
  } finally {
    socket.close();
  }
}

/**
 * A fresh IPv6 address can be tentative for a moment (duplicate address
 * detection), and binding to it fails with EADDRNOTAVAIL until it is done.
 */
async function bindWhenUsable(socket: dgram.Socket, address: string): Promise<void> {
  const deadline = performance.now() + 3000;
  for (;;) {
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.bind(0, address, () => {
          socket.off('error', reject);
          resolve();
        });
      });
      return;
    } catch (error) {
      if ((error as { code?: string }).code !== 'EADDRNOTAVAIL' || performance.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

function ping(family: Family): Promise<PingResult> {
  return new Promise((resolve) => {
    const child = spawn('ping', [`-${family}`, '-n', '-c', '3', '-i', '0.2', '-W', '1', DEMO.peer[family]], { stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    child.stdout.on('data', (chunk: Buffer) => { text += chunk.toString(); });
    child.stderr.on('data', (chunk: Buffer) => { text += chunk.toString(); });
    child.on('error', (error: NodeJS.ErrnoException) => {
      resolve({ sent: 0, received: 0, rtts: [], note: error.code === 'ENOENT' ? 'the ping binary is not installed (Debian: iputils-ping): skipped' : error.message });
    });
    child.on('close', () => {
      const rtts = [...text.matchAll(/time=([\d.]+) ms/gu)].map((m) => Number(m[1]));
      const sent = Number(/(\d+) packets transmitted/u.exec(text)?.[1] ?? 0);
      const received = Number(/(\d+) received/u.exec(text)?.[1] ?? rtts.length);
      resolve({ sent, received, rtts, note: sent === 0 ? text.trim().split('\n')[0] : undefined });
    });
  });
}
