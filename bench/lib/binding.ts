// Loads the native binding without a static import, so the benches compile
// and their baselines still run while the binding is absent or broken; the
// binding's rows then say why instead of showing numbers.
// BENCH_BINDING=simulated swaps in the in-memory twin: only to smoke-test a
// bench's own harness code (its numbers mean nothing about the kernel).
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { TunBinding } from '../../src/binding/contract/types.js';
import { repoRoot } from './paths.js';

export type BindingLoad = { binding: TunBinding } | { binding: null; reason: string };

function distModule(...parts: string[]): string {
  return pathToFileURL(path.join(repoRoot, 'dist', ...parts)).href;
}

export async function loadBinding(): Promise<BindingLoad> {
  try {
    if (process.env.BENCH_BINDING === 'simulated') {
      const mod = (await import(distModule('src', 'binding', 'simulated', 'binding.js'))) as { SimulatedBinding: new () => TunBinding };
      return { binding: new mod.SimulatedBinding() };
    }
    const mod = (await import(distModule('src', 'binding', 'native', 'binding.js'))) as { createNativeBinding?: () => TunBinding };
    if (typeof mod.createNativeBinding !== 'function') return { binding: null, reason: 'native/binding.js exports no createNativeBinding' };
    return { binding: mod.createNativeBinding() };
  } catch (err) {
    return { binding: null, reason: `native binding unavailable: ${(err as Error).message.split('\n')[0]}` };
  }
}
