// Named network namespaces a test makes itself (`ip netns add`, a name unique
// to this process, loopback up), and the calling namespace's links, to show a
// test left them as they were.

import { ip, ipJson } from './iproute.js';

let made = 0;

export function makeNamespace(tag: string): string {
  const name = `tl${tag}-${process.pid}-${made++}`;
  ip('netns', 'add', name);
  ip('-n', name, 'link', 'set', 'lo', 'up');
  return name;
}

export function deleteNamespace(name: string): void {
  try { ip('netns', 'del', name); } catch { /* already gone */ }
}

/** This namespace's links (index and name), as one comparable string. */
export const ownLinks = (): string => JSON.stringify(ipJson<Array<{ ifname: string; ifindex: number }>>('link', 'show').map((l) => [l.ifindex, l.ifname]));
