// Printing for humans or, with --json, one JSON object per line (NDJSON) so
// scripts can follow a long-running command like `up` as it goes.

import { toJsonSafe } from '../inspect/json-safe.js';

export interface Output {
  readonly json: boolean;
  /** A human line (ignored with --json). */
  say(text: string): void;
  /** A JSON record (ignored without --json). */
  record(type: string, fields: Record<string, unknown>): void;
  /** Both at once. */
  emit(type: string, fields: Record<string, unknown>, text: string): void;
}

/** Streams whose reader has gone (EPIPE): nothing more is written to them. */
const readerGone = new WeakSet<NodeJS.WritableStream>();
const watched = new WeakSet<NodeJS.WritableStream>();

/**
 * Write to stdout (or another stream) unless its reader has gone. Output piped
 * into something that exits early (`| head -3`, `| grep -m1 ready`) stops the
 * printing and nothing else: `up` still cleans up on its signal and exits
 * with its documented code. Any other stream error is still thrown.
 */
export function print(text: string, stream: NodeJS.WritableStream = process.stdout): void {
  if (!watched.has(stream)) {
    watched.add(stream);
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') throw error;
      readerGone.add(stream);
    });
  }
  if (!readerGone.has(stream)) stream.write(text);
}

export function createOutput(json: boolean, stream: NodeJS.WritableStream = process.stdout): Output {
  const say = (text: string) => { if (!json) print(`${text}\n`, stream); };
  const record = (type: string, fields: Record<string, unknown>) => {
    if (json) print(`${JSON.stringify(toJsonSafe({ type, ...fields }, 12))}\n`, stream);
  };
  return { json, say, record, emit: (type, fields, text) => { say(text); record(type, fields); } };
}

export function ms(value: number): string {
  return value < 10 ? `${value.toFixed(2)} ms` : value < 1000 ? `${value.toFixed(1)} ms` : `${(value / 1000).toFixed(2)} s`;
}
