// Independent readings of the kernel through iproute2, so a kernel test never
// trusts the binding's own account of what it did.

import { execFileSync } from 'node:child_process';

export function ip(...args: string[]): string {
  try {
    return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`ip ${args.join(' ')} failed: ${e.stderr?.trim() || e.message}`);
  }
}

export function ipJson<T = unknown>(...args: string[]): T {
  const out = ip('-j', ...args).trim();
  return (out === '' ? [] : JSON.parse(out)) as T;
}

export interface IpLink {
  ifname: string;
  ifindex: number;
  flags: string[];
  mtu: number;
  operstate: string;
  ifalias?: string;
  group?: string;
}

export function ipLinks(): IpLink[] {
  return ipJson<IpLink[]>('link', 'show');
}

export function ipLink(name: string): IpLink | undefined {
  return ipLinks().find((link) => link.ifname === name);
}

export interface IpAddress {
  family: 4 | 6;
  address: string;
  prefixLength: number;
  tentative: boolean;
}

/** Addresses on the interface, without the kernel's own fe80:: link-local ones. */
export function ipAddresses(name: string): IpAddress[] {
  const rows = ipJson<Array<{ addr_info: Array<Record<string, unknown>> }>>('addr', 'show', 'dev', name);
  const out: IpAddress[] = [];
  for (const row of rows) {
    for (const info of row.addr_info ?? []) {
      if (info.scope === 'link' && info.family === 'inet6') continue;
      out.push({
        family: info.family === 'inet' ? 4 : 6,
        address: String(info.local),
        prefixLength: Number(info.prefixlen),
        tentative: info.tentative === true,
      });
    }
  }
  return out;
}

export interface IpRoute {
  family: 4 | 6;
  destination: string;
  metric: number;
  protocol: string;
}

/**
 * Unicast routes of the main table out of the interface. By default without
 * the ones the kernel adds by itself (proto kernel: the prefix route of an
 * address, fe80::/64), which is what the binding's listRoutes reports too.
 */
export function ipRoutes(name: string, options: { includeKernel?: boolean } = {}): IpRoute[] {
  const out: IpRoute[] = [];
  for (const family of [4, 6] as const) {
    const rows = ipJson<Array<Record<string, unknown>>>(`-${family}`, 'route', 'show', 'table', 'main', 'dev', name);
    for (const row of rows) {
      if (row.type !== undefined && row.type !== 'unicast') continue;
      const protocol = String(row.protocol ?? 'boot');
      if (!options.includeKernel && protocol === 'kernel') continue;
      let destination = String(row.dst);
      if (destination === 'default') destination = family === 4 ? '0.0.0.0/0' : '::/0';
      else if (!destination.includes('/')) destination += family === 4 ? '/32' : '/128';
      out.push({ family, destination, metric: Number(row.metric ?? 0), protocol });
    }
  }
  return out;
}
