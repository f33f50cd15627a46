// The CLI on the real kernel, inside the test run's private namespace, every
// claim checked with iproute2: `up` brings the interface up as asked and
// tagged with its pid, `status` reports what ip sees, `down` refuses an
// interface in use or not ours and reclaims a tagged leftover, SIGINT cleans
// up and leaves nothing.

import { expect } from 'chai';
import { describeKernel } from '../helpers/netns.js';
import { ip, ipAddresses, ipLink, ipRoutes } from '../helpers/iproute.js';
import { deadPid, runCli, startCli } from './run-cli.js';


function persistentTun(name: string, alias?: string): void {
  ip('tuntap', 'add', 'dev', name, 'mode', 'tun');
  if (alias !== undefined) ip('link', 'set', 'dev', name, 'alias', alias);
}

function removeIfPresent(name: string): void {
  if (ipLink(name)) ip('link', 'del', name);
}

describeKernel('cli: tun-lifecycle on the kernel', function () {
  this.timeout(30_000);

  it('up → status (text and JSON) → down refused while running → SIGINT → gone (exit 0)', async () => {
    const name = 'tlcli0';
    const cli = startCli(['up', name, '--address', '10.240.0.1/24', '--address', 'fd00:240::1/64', '--route', '10.241.0.0/16', '--mtu', '1380']);
    try {
      const ready = await cli.waitFor('ready');
      await cli.waitFor('holding');
      const link = ipLink(name);
      expect(link, 'ip link show').to.not.equal(undefined);
      expect(link!.ifindex).to.equal(ready.ifindex);
      expect(link!.mtu).to.equal(1380);
      expect(link!.flags).to.include('UP');
      expect(link!.ifalias).to.equal(`tun-lifecycle:${cli.child.pid}`);
      expect(ipAddresses(name).map((a) => `${a.address}/${a.prefixLength}`).sort()).to.deep.equal(['10.240.0.1/24', 'fd00:240::1/64']);
      expect(ipRoutes(name).map((r) => r.destination)).to.deep.equal(['10.241.0.0/16']);
      expect([...ready.addresses].sort()).to.deep.equal(['10.240.0.1/24', 'fd00:240::1/64']);

      const status = runCli(['status', name, '--json']);
      expect(status.status, status.stderr).to.equal(0);
      const s = JSON.parse(status.stdout) as Record<string, any>;
      expect(s).to.include({ name, ifindex: link!.ifindex, up: true, mtu: 1380, tagged: true, ownerPid: cli.child.pid, ownerAlive: true, leftover: false });
      expect(s.addresses).to.include.members(['10.240.0.1/24', 'fd00:240::1/64']);
      expect(s.routes).to.deep.equal([{ destination: '10.241.0.0/16', metric: 0 }]);
      const text = runCli(['status', name]);
      expect(text.stdout).to.contain(`${name} (ifindex ${link!.ifindex}): up`);
      expect(text.stdout).to.contain(`process ${cli.child.pid} (running)`);
      const all = JSON.parse(runCli(['status', '--json']).stdout) as { interfaces: Array<Record<string, any>> };
      expect(all.interfaces.map((i) => i.name)).to.include(name);

      const down = runCli(['down', name]);
      expect(down.status, down.stderr).to.equal(5);
      expect(down.stderr).to.contain(`process ${cli.child.pid}, is still running`);
      expect(ipLink(name), 'down must not have touched it').to.not.equal(undefined);

      cli.child.kill('SIGINT');
      const stopped = await cli.waitFor('stopped');
      expect(stopped.verified).to.deep.equal({ linkGone: true, taggedLeft: 0, queueFdsOpen: 0 });
      expect(await cli.exit()).to.equal(0);
      expect(ipLink(name), 'gone per ip link').to.equal(undefined);
      expect(cli.records.filter((r) => r.type === 'transition').map((t) => t.to)).to.deep.equal(
        ['initializing.attempt', 'ready', 'stopping.round', 'stopped']);
    } finally {
      if (cli.child.exitCode === null) cli.child.kill('SIGKILL');
      removeIfPresent(name);
    }
  });

  it('down reclaims a tagged leftover whose owner is gone, and refuses an untagged interface (exit 5)', () => {
    const leftover = 'tlleft0';
    const foreign = 'tlforeign0';
    const pid = deadPid();
    try {
      persistentTun(leftover, `tun-lifecycle:${pid}`);
      persistentTun(foreign);
      const status = JSON.parse(runCli(['status', '--json']).stdout) as { interfaces: Array<Record<string, any>> };
      expect(status.interfaces.find((i) => i.name === leftover)).to.include({ ownerPid: pid, ownerAlive: false, leftover: true });
      expect(status.interfaces.map((i) => i.name), 'untagged interfaces are not ours to list').to.not.include(foreign);

      const refused = runCli(['down', foreign]);
      expect(refused.status, refused.stderr).to.equal(5);
      expect(refused.stderr).to.contain('not made by tun-lifecycle');
      expect(refused.stderr).to.not.match(/\n\s+at /u);
      expect(ipLink(foreign), 'the untagged interface is untouched').to.not.equal(undefined);

      const reclaimed = runCli(['down', leftover, '--json']);
      expect(reclaimed.status, reclaimed.stderr).to.equal(0);
      expect(JSON.parse(reclaimed.stdout)).to.include({ type: 'down', name: leftover, ownerPid: pid, deleted: true });
      expect(ipLink(leftover), 'gone per ip link').to.equal(undefined);

      const missing = runCli(['down', leftover]);
      expect(missing.status).to.equal(4);
      expect(missing.stderr).to.contain(`no interface named ${leftover}`);
      expect(runCli(['status', 'tlnothere0']).status).to.equal(4);
    } finally {
      removeIfPresent(leftover);
      removeIfPresent(foreign);
    }
  });

  it('up on a name held by an interface that is not ours fails clearly (exit 1) and leaves it alone', () => {
    const name = 'tlheld0';
    try {
      persistentTun(name);
      const result = runCli(['up', name, '--address', '10.242.0.1/24']);
      expect(result.status, result.stderr).to.equal(1);
      expect(result.stderr).to.match(/^tun-lifecycle: tlheld0 could not be brought up: .*EEXIST/u);
      expect(result.stderr).to.not.match(/\n\s+at /u);
      expect(ipLink(name)?.ifalias ?? '', 'not tagged by the failed attempt').to.equal('');
      expect(ipAddresses(name)).to.deep.equal([]);
    } finally {
      removeIfPresent(name);
    }
  });
});
