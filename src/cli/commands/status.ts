// `tun-lifecycle status [NAME]`: what the kernel holds. Reads only (no privilege needed).

import type { LinkInfo, TunBinding } from '../../binding/contract/types.js';
import type { ParsedArgs } from '../args.js';
import { loadBinding } from '../bindings.js';
import { CliError, ExitCode } from '../exit-codes.js';
import type { Output } from '../output.js';
import { readTag } from '../../lifecycle/ownership.js';

export async function runStatus(args: ParsedArgs, out: Output): Promise<ExitCode> {
  const binding = await loadBinding(args.simulated, args.netns);
  if (args.name === undefined) return listTagged(binding, out);
  let link: LinkInfo;
  try {
    link = await binding.getLink(args.name);
  } catch (error) {
    if ((error as { code?: string }).code === 'ENODEV') throw new CliError(`no interface named ${args.name}`, ExitCode.NotFound);
    throw error;
  }
  const tag = readTag(link.alias);
  const addresses = (await binding.listAddresses(link.ifindex)).map((a) => a.cidr);
  const routes = (await binding.listRoutes(link.ifindex)).map((r) => ({ destination: r.destination, metric: r.metric }));
  const owner = !tag.tagged ? 'not made by tun-lifecycle'
    : `made by tun-lifecycle, process ${tag.pid ?? '?'} (${tag.ownerAlive ? 'running' : 'gone: a leftover, `tun-lifecycle down` reclaims it'})`;
  out.record('status', {
    name: link.name, ifindex: link.ifindex, up: link.up, carrier: link.carrier, operstate: link.operstate, mtu: link.mtu,
    alias: link.alias, tagged: tag.tagged, ownerPid: tag.pid, ownerAlive: tag.ownerAlive, leftover: tag.tagged && !tag.ownerAlive,
    addresses, routes, stats: link.stats,
  });
  const s = link.stats;
  out.say([
    `${link.name} (ifindex ${link.ifindex}): ${link.up ? 'up' : 'down'}, carrier ${link.carrier ? 'on' : 'off'}, operstate ${link.operstate}, mtu ${link.mtu}`,
    `  owner:     ${owner}`,
    `  addresses: ${addresses.join(', ') || 'none'}`,
    `  routes:    ${routes.map((r) => (r.metric ? `${r.destination} metric ${r.metric}` : r.destination)).join(', ') || 'none'}`,
    `  counters:  rx ${s.rxPackets} packets / ${s.rxBytes} bytes, tx ${s.txPackets} packets / ${s.txBytes} bytes, dropped rx ${s.rxDropped} tx ${s.txDropped}`,
  ].join('\n'));
  return ExitCode.Ok;
}

async function listTagged(binding: TunBinding, out: Output): Promise<ExitCode> {
  const tagged = (await binding.listLinks())
    .map((link) => ({ link, tag: readTag(link.alias) }))
    .filter(({ tag }) => tag.tagged);
  out.record('status', {
    interfaces: tagged.map(({ link, tag }) => ({
      name: link.name, ifindex: link.ifindex, up: link.up, mtu: link.mtu, ownerPid: tag.pid, ownerAlive: tag.ownerAlive, leftover: !tag.ownerAlive,
    })),
  });
  if (tagged.length === 0) out.say('no interfaces made by tun-lifecycle in this network namespace');
  for (const { link, tag } of tagged) {
    out.say(`${link.name.padEnd(16)} ifindex ${String(link.ifindex).padEnd(5)} ${link.up ? 'up  ' : 'down'}  mtu ${String(link.mtu).padEnd(6)} ` +
      `process ${tag.pid ?? '?'} ${tag.ownerAlive ? 'running' : '(gone — leftover; `tun-lifecycle down ' + link.name + '` reclaims it)'}`);
  }
  return ExitCode.Ok;
}
