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

export function createOutput(json: boolean, stream: NodeJS.WritableStream = process.stdout): Output {
  const say = (text: string) => { if (!json) stream.write(`${text}\n`); };
  const record = (type: string, fields: Record<string, unknown>) => {
    if (json) stream.write(`${JSON.stringify(toJsonSafe({ type, ...fields }, 12))}\n`);
  };
  return { json, say, record, emit: (type, fields, text) => { say(text); record(type, fields); } };
}

export function ms(value: number): string {
  return value < 10 ? `${value.toFixed(2)} ms` : value < 1000 ? `${value.toFixed(1)} ms` : `${(value / 1000).toFixed(2)} s`;
}
