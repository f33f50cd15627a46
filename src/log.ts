// Logging: a pluggable logger in the pino/console shape (level methods taking
// an object then a message), silent by default, plus util.debuglog so that
// NODE_DEBUG=tun-lifecycle shows every transition without any code change.

import { util } from './binding/contract/builtins.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- pino and console take anything
type LogMethod = (...args: any[]) => unknown;

export interface Logger {
  debug?: LogMethod;
  info?: LogMethod;
  warn?: LogMethod;
  error?: LogMethod;
}

export type Level = 'debug' | 'info' | 'warn' | 'error';

const debug = util.debuglog('tun-lifecycle');

export interface Log {
  (level: Level, fields: Record<string, unknown>, message: string): void;
  /** Would a message at this level go anywhere? (Lets hot paths skip building it.) */
  enabled(level: Level): boolean;
}

export function createLog(logger: Logger | undefined): Log {
  const log = (level: Level, fields: Record<string, unknown>, message: string) => {
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
  const enabled = (level: Level) => debug.enabled || typeof logger?.[level] === 'function';
  return Object.assign(log, { enabled });
}

function jsonSafe(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Error) return { name: value.name, code: (value as { code?: unknown }).code, message: value.message };
  return value;
}
