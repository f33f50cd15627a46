// The offline inspector page in a real browser: headless Chromium (Debian's
// `chromium`, driven by playwright-core) follows a real lifecycle — native in
// the test namespace when possible, else the simulated binding (said so) —
// and the highlighted diagram node must follow it: uninitialized →
// initializing → ready → error (outside delete) → ready → stopping → stopped.
// Screenshot: test-artifacts/inspector.png (and docs/inspector.png for the
// README when TUN_LIFECYCLE_UPDATE_SCREENSHOT=1 or it is missing).
// Skipped (loudly) only when Chromium is absent and CI is not set.

import { expect } from 'chai';
import dgram from 'node:dgram';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import { SimulatedBinding } from '../../src/testing.js';
import { TunAdapter } from '../../src/index.js';
import type { TunBinding } from '../../src/index.js';
import { serveInspector } from '../../src/inspect/index.js';
import { mermaidStateIds } from '../../src/inspect/state-ids.js';
import { tunLifecycleMachine } from '../../machines/tunLifecycle.js';
import type { InspectorServer } from '../../src/inspect/index.js';
import { kernelAvailability } from '../helpers/netns.js';
import { ip } from '../helpers/iproute.js';
import { loadNativeBinding } from '../helpers/native-binding.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CI = process.env.CI === 'true' || process.env.CI === '1';
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const NAME = 'tlbrowse0';

declare const window: { __inspector: { rendered: boolean; current: string[] | null; highlights: string[]; error: string | null } };
declare const document: any;
declare function getComputedStyle(element: unknown): { fill: string };

async function highlighted(page: Page, state: string): Promise<void> {
  try {
    await page.waitForFunction((s) => window.__inspector?.current?.[0] === s, state, { timeout: 5000 });
  } catch {
    const probe = await page.evaluate(() => window.__inspector);
    throw new Error(`the page never highlighted ${state}; it shows ${JSON.stringify(probe.current)} (history ${JSON.stringify(probe.highlights)}, error ${probe.error})`);
  }
}

/** What the diagram itself shows as current: the node's own label and the colour it is filled with. */
function currentNode(page: Page): Promise<{ state: string; label: string; fill: string; badge: string } | undefined> {
  return page.evaluate(() => {
    const node = document.querySelector('#diagram svg .tl-current');
    if (!node) return undefined;
    const shape = node.querySelector('rect, path');
    return {
      state: node.getAttribute('data-tl-state'),
      label: (node.querySelector('.nodeLabel, text, .label')?.textContent ?? '').trim(),
      fill: shape ? getComputedStyle(shape).fill : '',
      badge: document.getElementById('state').textContent,
    };
  });
}

describe('inspect: the offline inspector page in headless Chromium', function () {
  this.timeout(60_000);
  let browser: Browser | undefined;
  let server: InspectorServer | undefined;
  let adapter: TunAdapter | undefined;

  before(function () {
    if (!existsSync(CHROMIUM) && !CI) {
      process.stderr.write(`\n!!! BROWSER TEST SKIPPED: ${CHROMIUM} not found (Debian: apt-get install chromium). Under CI=true it fails instead.\n\n`);
      this.skip();
    }
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    if (adapter && adapter.state !== 'stopped') await adapter.cleanup().catch(() => undefined);
  });

  it('highlights the current state as a real lifecycle runs, with the event log, context and stats', async () => {
    const kernel = kernelAvailability().ok;
    let binding: TunBinding;
    let deleteFromOutside: () => void;
    if (kernel) {
      binding = await loadNativeBinding();
      deleteFromOutside = () => ip('link', 'del', NAME);
    } else {
      process.stderr.write(`\n  note: no kernel namespace here (${kernelAvailability().reason}); the page follows the simulated binding\n`);
      const simulated = new SimulatedBinding();
      binding = simulated;
      deleteFromOutside = () => simulated.world.deleteLink(NAME);
    }
    adapter = new TunAdapter(NAME, { binding, mtu: 1400, addresses: ['10.235.0.1/24', 'fd00:235::1/64'], routes: ['10.236.0.0/16'], retryDelay: 50 });
    server = await serveInspector(adapter, {
      title: `tun-lifecycle · ${NAME}`,
      details: { binding: binding.kind, mtu: 1400, addresses: ['10.235.0.1/24', 'fd00:235::1/64'], routes: ['10.236.0.0/16'] },
      statsIntervalMs: 100,
    });

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync'],
    });
    const page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
    const external: string[] = [];
    page.on('request', (request) => { if (!request.url().startsWith(server!.url)) external.push(request.url()); });
    await page.goto(server.url);
    // No wait: the first response holds the diagram and the last known state (no "connecting…" until the stream opens).
    const atLoad = await page.evaluate(() => ({ ...window.__inspector, badge: document.getElementById('state').textContent as string }));
    expect(atLoad.rendered, 'the diagram is drawn when the page has loaded').to.equal(true);
    expect(atLoad.current, 'the state is highlighted when the page has loaded').to.deep.equal(['uninitialized']);
    expect(atLoad.badge).to.equal('uninitialized');

    const indexed = await page.evaluate(() => (window.__inspector as any).indexed as string[]);
    // Every state node of the machine, by the id the diagram gives it.
    expect(indexed, 'every state of the machine was found in the rendered diagram').to.have.members(
      Object.values(mermaidStateIds(tunLifecycleMachine)));
    await highlighted(page, 'uninitialized');

    await adapter.start();
    await highlighted(page, 'ready');
    const ready = await currentNode(page);
    expect(ready?.state).to.equal('ready');
    expect(ready?.label).to.equal('ready');
    expect(ready?.fill, 'the current node is painted in the highlight colour').to.equal('rgb(63, 182, 139)');
    expect(ready?.badge).to.equal('ready');

    if (kernel) {
      // Traffic routed into the TUN, so the stats panel has something to count.
      const socket = dgram.createSocket('udp4');
      await new Promise<void>((done) => socket.send('hello inspector', 9, '10.236.0.9', () => done()));
      socket.close();
    }
    deleteFromOutside();
    await page.waitForFunction(() => window.__inspector.highlights.includes('error'), undefined, { timeout: 5000 });
    await highlighted(page, 'ready');
    await page.waitForFunction(() => /recoveries\s*1/u.test(document.getElementById('stats').textContent), undefined, { timeout: 5000 });

    const log = await page.evaluate(() => [...document.querySelectorAll('#log tr')].map((tr: any) => tr.textContent as string));
    for (const expected of ['START', 'done(create)', 'FAULT', 'done(recover)', 'ready → error.recovering.attempt']) {
      expect(log.some((row) => row.includes(expected)), `event log row with ${expected}: ${log.join(' | ')}`).to.equal(true);
    }
    expect(log.every((row) => /^\d\d:\d\d:\d\d\.\d{3}\+\d+\.\d{3} s/u.test(row)), 'every row has a timestamp and the time since start').to.equal(true);
    const context = await page.evaluate(() => document.getElementById('context').textContent as string);
    expect(context).to.match(/ERR_INTERFACE_FAULT/u);
    expect(context).to.match(/retryDelay 50 ms/u);

    mkdirSync(resolve(ROOT, 'test-artifacts'), { recursive: true });
    await page.screenshot({ path: resolve(ROOT, 'test-artifacts/inspector.png'), fullPage: true });
    const docsShot = resolve(ROOT, 'docs/inspector.png');
    if (process.env.TUN_LIFECYCLE_UPDATE_SCREENSHOT === '1' || !existsSync(docsShot)) {
      mkdirSync(dirname(docsShot), { recursive: true });
      await page.screenshot({ path: docsShot, fullPage: true });
    }

    await adapter.cleanup();
    await highlighted(page, 'stopped');
    const history = await page.evaluate(() => window.__inspector.highlights);
    expect(history).to.deep.equal(['uninitialized', 'initializing', 'ready', 'error', 'ready', 'stopping', 'stopped']);
    expect(await page.evaluate(() => window.__inspector.error)).to.equal(null);
    expect(external, 'requests that left the inspector server').to.deep.equal([]);
  });

  it('shows the diagram and the last known state from the first response, with no event stream at all', async () => {
    if (!browser || !server) throw new Error('the lifecycle test above did not set up the browser and the server');
    const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
    let streamAsked = 0;
    await page.route('**/events', (route) => { streamAsked += 1; return route.abort(); });
    const diagramAsked: string[] = [];
    page.on('request', (request) => { if (request.url().endsWith('/diagram.svg')) diagramAsked.push(request.url()); });
    await page.goto(server.url);
    const shown = await currentNode(page);
    expect(shown?.state, 'the highlighted node with the stream refused').to.equal('stopped');
    expect(shown?.badge).to.equal('stopped');
    expect(await page.evaluate(() => (window.__inspector as any).fromPage)).to.equal(true);
    expect(await page.evaluate(() => document.querySelectorAll('#log tr').length), 'the log came with the page').to.be.greaterThan(5);
    expect(diagramAsked, 'no second request for the diagram').to.deep.equal([]);
    expect(streamAsked, 'the page did ask for the stream (refused here)').to.be.greaterThan(0);
    expect(await page.evaluate(() => window.__inspector.error)).to.equal(null);
    await page.close();
  });
});
