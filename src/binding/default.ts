// The native binding is loaded only when an adapter without a `binding`
// option first needs the kernel, so the simulated path (tests, demos, users'
// own tests) works without the addon built. One binding per process (thread).

import type { TunBinding } from './contract/types.js';

let loading: Promise<TunBinding> | undefined;

export function loadDefaultBinding(): Promise<TunBinding> {
  // A specifier in a variable keeps this module loadable when native.js is absent.
  const specifier = './native/binding.js';
  loading ??= import(specifier).then((mod: { createNativeBinding(): TunBinding }) => mod.createNativeBinding());
  loading.catch(() => { loading = undefined; });
  return loading;
}
