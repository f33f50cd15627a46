// Following a running adapter's statechart: every change of state value
// (substates included) with when it happened and how long the previous state
// lasted, printed as it happens and kept as a timeline for the summary.

import { performance } from 'node:perf_hooks';
import type { TunAdapter } from '../adapter/index.js';
import { ms } from './output.js';
import type { Output } from './output.js';

export interface Transition {
  from: string;
  to: string;
  /** ms since following began. */
  at: number;
  /** How long `from` lasted, ms. */
  after: number;
  attempt: number;
  error: string | undefined;
}

export function stateLabel(value: unknown): string {
  if (typeof value === 'string') return value;
  const [key, child] = Object.entries(value as Record<string, unknown>)[0] ?? ['?', undefined];
  return child === undefined ? key : `${key}.${stateLabel(child)}`;
}

export function followTransitions(adapter: TunAdapter, out: Output, indent = '  '): { timeline: Transition[]; stop(): void } {
  const started = performance.now();
  let since = started;
  let current = stateLabel(adapter.actor.getSnapshot().value);
  const timeline: Transition[] = [];
  const subscription = adapter.actor.subscribe((snapshot) => {
    const to = stateLabel(snapshot.value);
    if (to === current) return;
    const now = performance.now();
    const entersError = to.startsWith('error') && !current.startsWith('error');
    const retrying = to.endsWith('backoff');
    const error = entersError || retrying ? snapshot.context.lastError?.message : undefined;
    const t: Transition = { from: current, to, at: now - started, after: now - since, attempt: snapshot.context.attempt, error };
    timeline.push(t);
    const attempt = to.endsWith('attempt') ? `  (attempt ${t.attempt})` : '';
    const why = error ? `  — ${error}` : '';
    out.emit('transition', { ...t }, `${indent}+${ms(t.at).padStart(9)}  ${t.from} → ${t.to}${attempt}  [${t.from} took ${ms(t.after)}]${why}`);
    current = to;
    since = now;
  });
  return { timeline, stop: () => subscription.unsubscribe() };
}
