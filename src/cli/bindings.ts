// Which TunBinding a command talks through: the native addon (the default),
// or the simulated one when asked. A missing addon is an expected failure
// with a way out, not a stack trace.

import type { TunBinding } from '../binding/contract/types.js';
import { CliError, ExitCode } from './exit-codes.js';

/** The binding, inside --netns when given (its errors, e.g. ENOENT naming the path, as a failure). */
export async function loadBinding(simulated: boolean, netns?: string): Promise<TunBinding> {
  const binding = await loadRootBinding(simulated);
  if (netns === undefined) return binding;
  try {
    return await binding.namespace(netns);
  } catch (error) {
    throw new CliError(`network namespace ${netns}: ${(error as Error).message}`, ExitCode.Failed,
      'Name one that exists (`ip netns list`), a path such as /proc/PID/ns/net, and run as root.');
  }
}

async function loadRootBinding(simulated: boolean): Promise<TunBinding> {
  if (simulated) {
    const { SimulatedBinding } = await import('../binding/simulated/binding.js');
    return new SimulatedBinding();
  }
  try {
    // A literal specifier, so the bundler makes it a lazily loaded chunk.
    const native = await import('../binding/native/binding.js') as { createNativeBinding(): TunBinding };
    return native.createNativeBinding();
  } catch (error) {
    throw new CliError(`the native addon could not be loaded: ${(error as Error).message.split('\n')[0]}`, ExitCode.Failed,
      'Build it with `npm rebuild tun-lifecycle` (needs a C++ compiler and python3), or use --simulated.');
  }
}

/** The cause chain of an error as one line ("A: b ← C: d"). */
export function describeError(error: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    parts.push(`${e instanceof Error ? e.message : String(e)}${typeof code === 'string' && !(e as Error).message?.includes(code) ? ` [${code}]` : ''}`);
  }
  return parts.join(' ← caused by: ');
}
