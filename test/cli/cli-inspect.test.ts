// `up --inspect PORT --stately URL` and `inspect NAME --port PORT`: the
// offline inspector page is served while the interface is held, and the
// lifecycle streams to a Stately relay (a local `ws` server here).

import { expect } from 'chai';
import { get } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { eventually } from '../helpers/wait.js';
import { startCli } from './run-cli.js';

function getJson(url: string): Promise<any> {
  return new Promise((resolve, reject) => {
    get(url, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => { body += chunk; });
      res.on('end', () => resolve(JSON.parse(body)));
    }).on('error', reject);
  });
}

describe('cli: inspection while holding an interface', function () {
  this.timeout(30_000);

  it('up --simulated --inspect 0 --stately ws://…: the page follows the lifecycle and the relay receives it', async () => {
    const relay = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((resolve) => relay.once('listening', () => resolve()));
    const received: any[] = [];
    relay.on('connection', (socket) => socket.on('message', (data) => received.push(JSON.parse(data.toString()))));
    const relayUrl = `ws://127.0.0.1:${(relay.address() as AddressInfo).port}`;
    const cli = startCli(['up', 'tlcliinsp0', '--simulated', '--address', '10.243.0.1/24', '--inspect', '0', '--stately', relayUrl]);
    try {
      const inspector = await cli.waitFor('inspector');
      expect(inspector.url).to.match(/^http:\/\/127\.0\.0\.1:\d+\/$/u);
      await cli.waitFor('holding');
      const state = await getJson(`${inspector.url}state.json`);
      expect(state.snapshot.state).to.equal('ready');
      expect(state.details).to.deep.include({ binding: 'simulated', addresses: ['10.243.0.1/24'] });
      expect(state.log.map((m: any) => m.type)).to.include.members(['START', 'xstate.done.actor.create']);
      const sawReady = await eventually(() => received.some((m) => m.type === '@xstate.snapshot' && m.snapshot?.value === 'ready'));
      expect(sawReady, 'the relay saw ready').to.equal(true);
      expect(await eventually(() => cli.records.some((r) => r.type === 'stately' && r.connected === true)), 'says it connected').to.equal(true);
      cli.child.kill('SIGTERM');
      await cli.waitFor('stopped');
      expect(await cli.exit()).to.equal(0);
    } finally {
      if (cli.child.exitCode === null) cli.child.kill('SIGKILL');
      for (const client of relay.clients) client.terminate();
      await new Promise((resolve) => relay.close(resolve));
    }
  });

  it('--stately with nothing listening says it is waiting, then says when the relay connects', async () => {
    // A port that was free a moment ago: nothing listens on it yet.
    const probe = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((resolve) => probe.once('listening', () => resolve()));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    const relayUrl = `ws://127.0.0.1:${port}`;
    const cli = startCli(['up', 'tlcliinsp2', '--simulated', '--stately', relayUrl]);
    let relay: WebSocketServer | undefined;
    try {
      const first = await cli.waitFor('stately');
      expect(first).to.include({ url: relayUrl, connected: false });
      await cli.waitFor('holding');
      expect(cli.records.filter((r) => r.type === 'stately'), 'still waiting, not claiming to stream').to.have.length(1);
      relay = new WebSocketServer({ host: '127.0.0.1', port });
      // @statelyai/inspect retries every 5 s.
      expect(await eventually(() => cli.records.some((r) => r.type === 'stately' && r.connected === true), 8000), 'says it connected').to.equal(true);
      cli.child.kill('SIGTERM');
      expect(await cli.exit()).to.equal(0);
    } finally {
      if (cli.child.exitCode === null) cli.child.kill('SIGKILL');
      for (const client of relay?.clients ?? []) client.terminate();
      if (relay) await new Promise((resolve) => relay!.close(resolve));
    }
  });

  it('inspect NAME --port 0 is up with the inspector', async () => {
    const cli = startCli(['inspect', 'tlcliinsp1', '--simulated', '--port', '0']);
    try {
      const inspector = await cli.waitFor('inspector');
      await cli.waitFor('holding');
      expect((await getJson(`${inspector.url}state.json`)).snapshot.state).to.equal('ready');
      cli.child.kill('SIGINT');
      expect(await cli.exit()).to.equal(0);
    } finally {
      if (cli.child.exitCode === null) cli.child.kill('SIGKILL');
    }
  });
});
