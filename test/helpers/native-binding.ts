// The native binding, loaded lazily: a test file that imports it statically
// would take the whole mocha run down at load time when the addon is missing
// or broken; loaded in a before() hook, the failure lands on that suite only,
// with the loader's own error message.

import type { TunBinding } from '../../src/binding/contract/types.js';

let loaded: Promise<TunBinding> | undefined;

export function loadNativeBinding(): Promise<TunBinding> {
  loaded ??= import('../../src/binding/native/binding.js').then((m: { createNativeBinding(): TunBinding }) => m.createNativeBinding());
  return loaded;
}
