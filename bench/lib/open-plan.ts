// Whether this binding's open() applies a LinkPlan in the same round trip as
// TUNSETIFF (OpenOptions.configure, newer than configure()). Probed against the
// kernel rather than read from the types, so a stale build of the addon that
// ignores the option is not mistaken for one that honours it.
import type { LinkPlan, OpenOptions, TunBinding } from '../../src/binding/contract/types.js';

export type OpenWithPlan = OpenOptions & { configure?: LinkPlan };

export async function opensWithPlan(binding: TunBinding): Promise<boolean> {
  const options: OpenWithPlan = { name: 'planprobe0', configure: { mtu: 1280 } };
  let dev;
  try {
    dev = await binding.open(options);
  } catch {
    return false;
  }
  try {
    return (await binding.getLink(dev.ifindex)).mtu === 1280;
  } finally {
    await binding.deleteLink(dev.ifindex).catch(() => {});
    dev.close();
  }
}

/** configure() began as optional in the contract; older bindings lack it. */
export function hasConfigure(binding: TunBinding): boolean {
  return typeof (binding as { configure?: unknown }).configure === 'function';
}
