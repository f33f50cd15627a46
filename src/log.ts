// Logging: a pluggable logger in the pino/console shape (level methods taking
// an object then a message), silent by default, plus util.debuglog so that
// NODE_DEBUG=tun-lifecycle shows every transition without any code change.

import { debuglog } from 'node:util';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- pino and console take anything
type LogMethod = (...args: any[]) => unknown;

export interface Logger {
  debug?: LogMethod;
  info?: LogMethod;
  warn?: LogMethod;
  error?: LogMethod;
}

export type Level = 'debug' | 'info' | 'warn' | 'error';

const debug = debuglog('tun-lifecycle');

export interface Log {
  (level: Level, fields: Record<string, unknown>, message: string): void;
}

export function createLog(logger: Logger | undefined): Log {
  return (level, fields, message) => {
    if (debug.enabled) debug('%s %s', message, JSON.stringify(fields, jsonSafe));
    const method = logger?.[level];
    if (typeof method === 'function') {
      try {
        method.call(logger, fields, message);
      } catch {
        // A logger that throws must not break the lifecycle it is reporting on.
      }
    }
  };
}

function jsonSafe(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Error) return { name: value.name, code: (value as { code?: unknown }).code, message: value.message };
  return value;
}
