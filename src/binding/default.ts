// The native binding is loaded only when an adapter without a `binding`
// option first needs the kernel, so the simulated path (tests, demos, users'
// own tests) works without the addon built. One binding per process (thread).

import type { NetnsTarget, TunBinding } from './contract/types.js';

let loading: Promise<TunBinding> | undefined;

export function loadDefaultBinding(): Promise<TunBinding> {
  // A literal specifier, so the bundler (scripts/bundle.mjs) sees it; still loaded only when asked for.
  loading ??= import('./native/binding.js').then((mod: { createNativeBinding(): TunBinding }) => mod.createNativeBinding());
  loading.catch(() => { loading = undefined; });
  return loading;
}

/** The binding an adapter works through: the one given (or the default), in its namespace when netns is set. */
export async function bindingIn(wiring: { binding?: TunBinding | undefined; netns?: NetnsTarget | undefined }): Promise<TunBinding> {
  const binding = wiring.binding ?? await loadDefaultBinding();
  return wiring.netns === undefined ? binding : binding.namespace(wiring.netns);
}
