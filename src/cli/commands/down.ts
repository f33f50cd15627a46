// `tun-lifecycle down NAME`: reclaim a leftover — an interface tun-lifecycle
// tagged whose owner process is gone (a persistent TUN outlives a crash).
// Anything else is refused: we never delete what we did not make, nor pull
// an interface from under a process that is still running it.

import type { LinkInfo } from '../../binding/contract/types.js';
import type { ParsedArgs } from '../args.js';
import { loadBinding } from '../bindings.js';
import { CliError, ExitCode } from '../exit-codes.js';
import type { Output } from '../output.js';
import { privilegeErrorFrom, requireTunPrivilege } from '../privilege.js';
import { readTag } from '../../lifecycle/ownership.js';

export async function runDown(args: ParsedArgs, out: Output): Promise<ExitCode> {
  const name = args.name!;
  const binding = await loadBinding(args.simulated, args.netns);
  let link: LinkInfo;
  try {
    link = await binding.getLink(name);
  } catch (error) {
    if ((error as { code?: string }).code === 'ENODEV') throw new CliError(`no interface named ${name}`, ExitCode.NotFound);
    throw error;
  }
  const tag = readTag(link.alias);
  if (!tag.tagged) {
    throw new CliError(`refusing to delete ${name}: it was not made by tun-lifecycle (its alias is ${link.alias ? `'${link.alias}'` : 'empty'}, ` +
      `not 'tun-lifecycle:<pid>')`, ExitCode.Refused, `If you really mean it: ip link del ${name}`);
  }
  if (tag.ownerAlive) {
    throw new CliError(`refusing to delete ${name}: its owner, process ${tag.pid}, is still running`, ExitCode.Refused,
      `Stop that process instead (Ctrl-C or SIGTERM makes it clean up): kill ${tag.pid}`);
  }
  if (!args.simulated) requireTunPrivilege(`tun-lifecycle down ${name}`);
  try {
    await binding.deleteLink(link.ifindex);
  } catch (error) {
    throw privilegeErrorFrom(error, `tun-lifecycle down ${name}`) ?? error;
  }
  let gone = false;
  try {
    await binding.getLink(link.ifindex);
  } catch (error) {
    gone = (error as { code?: string }).code === 'ENODEV';
  }
  out.emit('down', { name, ifindex: link.ifindex, ownerPid: tag.pid, deleted: gone },
    gone ? `reclaimed ${name} (ifindex ${link.ifindex}), left by process ${tag.pid}: verified gone`
      : `${name} was deleted but is still listed`);
  return gone ? ExitCode.Ok : ExitCode.Failed;
}
