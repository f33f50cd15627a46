// Any TunBinding with the simulated binding's fault controls in front of it:
// `faults.fail(op, errno)`, `faults.hang(op)`, `faults.delay(op, ms)`. Used to
// make the outcomes the kernel cannot be asked for (a transient EBUSY on one
// call, a step that hangs) happen to the native binding, while everything
// else stays real.

import { FaultInjector } from '../binding/simulated-faults.js';
import type { BindingOp } from '../binding/simulated-faults.js';
import type { TunBinding } from '../binding/types.js';

export type FaultyBinding = TunBinding & { readonly faults: FaultInjector; readonly inner: TunBinding };

const ASYNC_OPS = [
  'open', 'getLink', 'listLinks', 'setMtu', 'setUp', 'setAlias', 'setGroup', 'addAddress', 'deleteAddress',
  'listAddresses', 'addRoute', 'deleteRoute', 'listRoutes', 'deleteLink', 'deleteLinkGroup',
] as const satisfies readonly BindingOp[];

export function withFaults(inner: TunBinding, faults: FaultInjector = new FaultInjector()): FaultyBinding {
  const wrapped: Record<string, unknown> = {
    kind: inner.kind,
    faults,
    inner,
    monitor: (...args: Parameters<TunBinding['monitor']>) => {
      faults.enterSync('monitor');
      return inner.monitor(...args);
    },
    openFdCount: () => inner.openFdCount(),
  };
  for (const op of ASYNC_OPS) {
    wrapped[op] = async (...args: unknown[]) => {
      const name = op === 'getLink' && typeof args[0] === 'string' ? args[0] : undefined;
      await faults.enter(op, name);
      return (inner[op] as (...a: unknown[]) => Promise<unknown>)(...args);
    };
  }
  return wrapped as unknown as FaultyBinding;
}
