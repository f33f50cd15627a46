// Loads the native binding without a static import, so the benches compile
// and their baselines still run while the binding is absent or broken; the
// binding's rows then say why instead of showing numbers.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { TunBinding } from '../../src/binding/types.js';
import { repoRoot } from './paths.js';

export type BindingLoad = { binding: TunBinding } | { binding: null; reason: string };

export async function loadNativeBinding(): Promise<BindingLoad> {
  const file = path.join(repoRoot, 'dist', 'src', 'binding', 'native.js');
  try {
    const mod = (await import(pathToFileURL(file).href)) as { createNativeBinding?: () => TunBinding };
    if (typeof mod.createNativeBinding !== 'function') return { binding: null, reason: 'native.js exports no createNativeBinding' };
    return { binding: mod.createNativeBinding() };
  } catch (err) {
    return { binding: null, reason: `native binding unavailable: ${(err as Error).message.split('\n')[0]}` };
  }
}
