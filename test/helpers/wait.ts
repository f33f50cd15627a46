// Waiting in tests: for a condition (polled, with a deadline), for an event,
// or for a while. One copy of each, so a deadline or a poll interval is
// tuned in one place.

import type { EventEmitter } from 'node:events';

/** The arguments of the next `event` on `emitter`, or a rejection after timeoutMs. */
export function nextEvent<T extends unknown[] = unknown[]>(emitter: EventEmitter, event: string, timeoutMs = 5000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(event, listener);
      reject(new Error(`no '${event}' event within ${timeoutMs} ms`));
    }, timeoutMs);
    const listener = (...args: unknown[]): void => {
      clearTimeout(timer);
      resolve(args as T);
    };
    emitter.once(event, listener);
  });
}

/** Poll `probe` until it returns true or timeoutMs passes; returns the final answer. */
export async function eventually(probe: () => boolean | Promise<boolean>, timeoutMs = 3000, stepMs = 20): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe()) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

/** Poll `condition` until it holds; throws if it still does not after timeoutMs. */
export async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 5000, stepMs = 2): Promise<void> {
  if (!(await eventually(condition, timeoutMs, stepMs))) throw new Error(`condition not met in ${timeoutMs} ms`);
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** One turn of the event loop: what was already queued has run. */
export const nextTurn = (): Promise<void> => new Promise((r) => setImmediate(r));
