// Turning lifecycle data into plain JSON for the inspector page and Stately's
// inspector: errors keep their name/code/message/cause (JSON.stringify would
// make them `{}`), 64-bit counters become strings, actor references become
// their id, and depth is bounded so a cyclic or huge value cannot stall us.

export function toJsonSafe(value: unknown, depth = 8): unknown {
  if (value === null || value === undefined) return value ?? null;
  switch (typeof value) {
    case 'bigint': return value.toString();
    case 'function': return undefined;
    case 'symbol': return value.toString();
    case 'object': break;
    default: return value;
  }
  if (depth <= 0) return '…';
  if (value instanceof Error) return errorJson(value, depth);
  if (value instanceof Date) return value.toISOString();
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return `<${value.length} bytes>`;
  if (isActorRef(value)) return { actor: (value as { id?: string }).id ?? (value as { sessionId: string }).sessionId };
  if (value instanceof Map) return Object.fromEntries([...value].map(([k, v]) => [String(k), toJsonSafe(v, depth - 1)]));
  if (value instanceof Set) return [...value].map((v) => toJsonSafe(v, depth - 1));
  if (Array.isArray(value)) return value.map((v) => toJsonSafe(v, depth - 1));
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    const safe = toJsonSafe(v, depth - 1);
    if (safe !== undefined) out[key] = safe;
  }
  return out;
}

export interface ErrorJson {
  name: string;
  message: string;
  code?: string;
  cause?: unknown;
}

function errorJson(error: Error, depth: number): ErrorJson {
  const out: ErrorJson = { name: error.name, message: error.message };
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') out.code = code;
  if (error.cause !== undefined) out.cause = toJsonSafe(error.cause, depth - 1);
  return out;
}

function isActorRef(value: object): boolean {
  return typeof (value as { send?: unknown }).send === 'function' && typeof (value as { sessionId?: unknown }).sessionId === 'string';
}
