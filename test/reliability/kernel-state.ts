// A snapshot of everything in the namespace a leak could hide in: links,
// addresses, routes (every table), and this process's fds. Compared before
// and after a reliability run; a difference is a leak, printed as such.

import { ipJson } from '../helpers/iproute.js';
import { openFdCount } from '../helpers/fds.js';

export interface KernelState {
  links: string[];
  addresses: string[];
  routes: string[];
  fds: number;
}

export function kernelState(): KernelState {
  const links = ipJson<Array<{ ifname: string }>>('link', 'show').map((l) => l.ifname).sort();
  const addresses = ipJson<Array<{ ifname: string; addr_info: Array<{ local: string; prefixlen: number; scope: string }> }>>('addr', 'show')
    .flatMap((row) => row.addr_info.filter((a) => a.scope !== 'link').map((a) => `${row.ifname} ${a.local}/${a.prefixlen}`)).sort();
  const routes = [
    ...ipJson<Array<Record<string, unknown>>>('-4', 'route', 'show', 'table', 'all'),
    ...ipJson<Array<Record<string, unknown>>>('-6', 'route', 'show', 'table', 'all'),
  ].map((r) => `${r.type ?? 'unicast'} ${r.dst} dev ${r.dev} table ${r.table ?? 'main'}`).sort();
  return { links, addresses, routes, fds: openFdCount() };
}

/** Human-readable differences between two states; empty when nothing leaked. */
export function leaksBetween(before: KernelState, after: KernelState): string[] {
  const diff = (what: string, a: string[], b: string[]) => [
    ...b.filter((x) => !a.includes(x)).map((x) => `${what} added: ${x}`),
    ...a.filter((x) => !b.includes(x)).map((x) => `${what} removed: ${x}`),
  ];
  const out = [...diff('link', before.links, after.links), ...diff('address', before.addresses, after.addresses), ...diff('route', before.routes, after.routes)];
  if (after.fds !== before.fds) out.push(`fds ${before.fds} → ${after.fds}`);
  return out;
}
