// The CLI's --netns on the real kernel: `up`, `status` and `down` act inside a
// namespace the test made with `ip netns add`, every claim cross-checked with
// `ip -n NS -j`; the test run's own namespace is compared before and after and
// must not change; a namespace that does not exist fails before anything is made.

import { expect } from 'chai';
import { describeKernel } from '../helpers/netns.js';
import { ip, ipJson } from '../helpers/iproute.js';
import { deleteNamespace, makeNamespace as newNamespace, ownLinks } from '../helpers/namespaces.js';
import { deadPid, runCli, startCli } from './run-cli.js';

const made: string[] = [];
function makeNamespace(): string {
  const name = newNamespace('cli-ns');
  made.push(name);
  return name;
}

interface NsLink { ifname: string; ifindex: number; mtu: number; flags: string[]; ifalias?: string }
const linksIn = (ns: string) => ipJson<NsLink[]>('-n', ns, 'link', 'show');
const linkIn = (ns: string, name: string) => linksIn(ns).find((link) => link.ifname === name);
const addressesIn = (ns: string, name: string) =>
  ipJson<Array<{ addr_info: Array<{ local: string; prefixlen: number; family: string; scope: string }> }>>('-n', ns, 'addr', 'show', 'dev', name)
    .flatMap((row) => row.addr_info)
    .filter((info) => !(info.family === 'inet6' && info.scope === 'link'))
    .map((info) => `${info.local}/${info.prefixlen}`)
    .sort();
/** Routes on the interface, without the prefix routes the kernel adds for its addresses. */
const routesIn = (ns: string, name: string) =>
  ipJson<Array<{ dst: string; protocol?: string }>>('-n', ns, 'route', 'show', 'dev', name).filter((r) => r.protocol !== 'kernel').map((r) => r.dst);


describeKernel('cli: --netns on the kernel', function () {
  this.timeout(30_000);
  after(() => { for (const ns of made) deleteNamespace(ns); });

  it('up --netns → status/down --netns see it there, nothing appears here → SIGINT → gone from the namespace', async () => {
    const ns = makeNamespace();
    const name = 'tlclins0';
    const before = ownLinks();
    const cli = startCli(['up', name, '--netns', ns, '--address', '10.243.0.1/24', '--route', '10.244.0.0/16', '--mtu', '1400']);
    try {
      const ready = await cli.waitFor('ready');
      await cli.waitFor('holding');
      const link = linkIn(ns, name);
      expect(link, `ip -n ${ns} link show`).to.not.equal(undefined);
      expect(link!.ifindex).to.equal(ready.ifindex);
      expect(link!.mtu).to.equal(1400);
      expect(link!.flags).to.include('UP');
      expect(link!.ifalias).to.equal(`tun-lifecycle:${cli.child.pid}`);
      expect(addressesIn(ns, name)).to.deep.equal(['10.243.0.1/24']);
      expect(routesIn(ns, name)).to.deep.equal(['10.244.0.0/16']);
      expect(ownLinks(), "the test's own namespace is untouched").to.equal(before);

      const here = runCli(['status', name, '--json']);
      expect(here.status, 'not in this namespace').to.equal(4);
      const status = runCli(['status', name, '--netns', ns, '--json']);
      expect(status.status, status.stderr).to.equal(0);
      expect(JSON.parse(status.stdout)).to.include({ name, ifindex: link!.ifindex, up: true, mtu: 1400, tagged: true, ownerPid: cli.child.pid, ownerAlive: true });

      const down = runCli(['down', name, '--netns', ns]);
      expect(down.status, down.stderr).to.equal(5);
      expect(linkIn(ns, name), 'down must not have touched it').to.not.equal(undefined);

      cli.child.kill('SIGINT');
      const stopped = await cli.waitFor('stopped');
      expect(stopped.verified).to.deep.equal({ linkGone: true, taggedLeft: 0, queueFdsOpen: 0 });
      expect(await cli.exit()).to.equal(0);
      expect(linkIn(ns, name), `gone per ip -n ${ns}`).to.equal(undefined);
      expect(ownLinks()).to.equal(before);
    } finally {
      if (cli.child.exitCode === null) cli.child.kill('SIGKILL');
    }
  });

  it('down --netns reclaims a tagged leftover in that namespace and only there', () => {
    const ns = makeNamespace();
    const name = 'tlclinsleft0';
    const pid = deadPid();
    ip('-n', ns, 'tuntap', 'add', 'dev', name, 'mode', 'tun');
    ip('-n', ns, 'link', 'set', 'dev', name, 'alias', `tun-lifecycle:${pid}`);
    const listed = JSON.parse(runCli(['status', '--netns', ns, '--json']).stdout) as { interfaces: Array<Record<string, unknown>> };
    expect(listed.interfaces.find((i) => i.name === name)).to.include({ ownerPid: pid, ownerAlive: false, leftover: true });
    expect(runCli(['down', name]).status, 'no such interface in this namespace').to.equal(4);
    expect(linkIn(ns, name)).to.not.equal(undefined);
    const reclaimed = runCli(['down', name, '--netns', ns, '--json']);
    expect(reclaimed.status, reclaimed.stderr).to.equal(0);
    expect(JSON.parse(reclaimed.stdout)).to.include({ type: 'down', name, ownerPid: pid, deleted: true });
    expect(linkIn(ns, name), `gone per ip -n ${ns}`).to.equal(undefined);
  });

  it('up --netns naming no namespace fails with ENOENT naming its path, and makes nothing', () => {
    const before = ownLinks();
    const missing = `tlcli-missing-${process.pid}`;
    const result = runCli(['up', 'tlclinsx0', '--netns', missing, '--address', '10.245.0.1/24']);
    expect(result.status, result.stderr).to.not.equal(0);
    expect(result.stderr).to.contain(`/var/run/netns/${missing}`);
    expect(result.stderr).to.contain('ENOENT');
    expect(result.stderr).to.not.match(/\n\s+at /u);
    expect(ownLinks()).to.equal(before);
  });
});
