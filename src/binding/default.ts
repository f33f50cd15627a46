// The binding an adapter works through when none is given: the native one,
// made (and the addon loaded) only when an adapter first needs the kernel, so
// the simulated path (tests, demos, users' own tests) works without the addon
// built. One binding per process (thread). The module itself is in the
// index's graph anyway (the index exports createNativeBinding): importing it
// statically spares the first create a dynamic import (a file read on the
// threadpool and a compile, about 1 ms of a cold start).

import type { NetnsTarget, TunBinding } from './contract/types.js';
import { createNativeBinding } from './native/binding.js';

let native: TunBinding | undefined;

/** The process's native binding; throws (saying how to build the addon) when the addon cannot be loaded. */
export function defaultBinding(): TunBinding {
  native ??= createNativeBinding();
  return native;
}

/**
 * The binding an adapter works through: the one given (or the default), in
 * its namespace when netns is set. Without netns it is at hand at once (no
 * promise to wait a turn for: this is on the first create's critical path).
 */
export function bindingIn(wiring: { binding?: TunBinding | undefined; netns?: NetnsTarget | undefined }): TunBinding | Promise<TunBinding> {
  const binding = wiring.binding ?? defaultBinding();
  return wiring.netns === undefined ? binding : binding.namespace(wiring.netns);
}
