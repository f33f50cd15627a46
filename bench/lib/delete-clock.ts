// How long a cleanup waited on the kernel's unregister of its link. That wait
// (~15–20 ms) shifts by a few milliseconds from one run to the next, and even
// between two interleaved paths of one run, which is more than the whole
// JavaScript cost of a cleanup; subtracting each path's own wait leaves what
// the paths themselves cost.
import type { TunBinding } from '../../src/binding/contract/types.js';

const TIMED = new Set<PropertyKey>(['deleteLink', 'deleteLinkGroup']);

export interface DeleteClock {
  /** Use this in place of the binding: the same object, its deletions timed. */
  binding: TunBinding;
  /** µs spent in deletions since the last take(). */
  take(): number;
}

export function withDeleteClock(inner: TunBinding): DeleteClock {
  let spentUs = 0;
  const methods = new Map<PropertyKey, unknown>();
  const binding = new Proxy(inner, {
    get(target, key) {
      const value = Reflect.get(target, key, target) as unknown;
      if (typeof value !== 'function') return value;
      let method = methods.get(key);
      if (method === undefined) {
        const fn = value as (...args: unknown[]) => unknown;
        method = TIMED.has(key)
          ? (...args: unknown[]) => {
            const t0 = performance.now();
            const settle = () => { spentUs += (performance.now() - t0) * 1000; };
            const result = fn.apply(target, args) as Promise<unknown>;
            result.then(settle, settle);
            return result;
          }
          : fn.bind(target);
        methods.set(key, method);
      }
      return method;
    },
  });
  return {
    binding,
    take: () => {
      const spent = spentUs;
      spentUs = 0;
      return spent;
    },
  };
}
