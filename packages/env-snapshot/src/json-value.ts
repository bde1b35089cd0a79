import type { JsonValue } from './schema.js';

/**
 * Turns any caller value (config objects, data-source results) into plain JSON that survives a
 * write and a read unchanged: non-finite numbers become the strings `"NaN"`, `"Infinity"` and
 * `"-Infinity"` (plain JSON would turn them into `null` and hide them), bigints their decimal
 * string, Dates their ISO string, Maps and Sets objects and arrays, `undefined` properties are
 * dropped, functions become `"[function]"` and cycles `"[circular]"`.
 */
export function toJsonValue(value: unknown, seen: Set<object> = new Set()): JsonValue {
  if (value === null || value === undefined) return null;
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) ? value : String(value);
    case 'bigint':
      return value.toString();
    case 'function':
      return '[function]';
    case 'symbol':
      return value.toString();
    default:
      break;
  }
  const obj = value as object;
  if (obj instanceof Date) return Number.isNaN(obj.getTime()) ? 'Invalid Date' : obj.toISOString();
  if (seen.has(obj)) return '[circular]';
  seen.add(obj);
  try {
    if (Array.isArray(obj)) return obj.map((item) => toJsonValue(item, seen));
    if (obj instanceof Set) return [...obj].map((item) => toJsonValue(item, seen));
    if (obj instanceof Map) {
      const out: Record<string, JsonValue> = {};
      for (const [k, v] of obj) out[String(k)] = toJsonValue(v, seen);
      return out;
    }
    if (ArrayBuffer.isView(obj))
      return Array.from(obj as unknown as ArrayLike<number>, (n) => toJsonValue(n, seen));
    if (obj instanceof Error) return { name: obj.name, message: obj.message };
    const out: Record<string, JsonValue> = {};
    for (const [k, v] of Object.entries(obj)) {
      if (v === undefined) continue;
      out[k] = toJsonValue(v, seen);
    }
    return out;
  } finally {
    seen.delete(obj);
  }
}

/** JSON with object keys sorted, so equal content always gives the same string (and hash). */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item)).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}
