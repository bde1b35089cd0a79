import { encode, isPlainKey, keyPlaceholder } from '@prodprobe/sanitize';
import type { InputStats } from './schema.js';

/** Paths deeper than this are not descended; the stats say `truncated`. */
export const MAX_DEPTH = 32;

const SIMPLE_KEY = /^[A-Za-z_$][A-Za-z0-9_$-]*$/;

/** Appends a key in the sanitize path syntax: `a.b`, or `["odd.key"]` when the key needs quoting. */
export function childPath(parent: string, key: string): string {
  if (SIMPLE_KEY.test(key)) return parent === '' ? key : `${parent}.${key}`;
  return `${parent}[${JSON.stringify(key)}]`;
}

function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    target[key] = value;
  }
}

interface State {
  stats: InputStats;
  fields: number;
  maxFields: number;
}

export function isPlainish(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function countNumber(n: number, s: InputStats): void {
  if (Number.isNaN(n)) s.nanCount++;
  else if (n === Infinity || n === -Infinity) s.infCount++;
}

/** Counts null/NaN/Inf inside an array element (no per-path listing inside arrays). */
function countInside(value: unknown, depth: number, st: State): void {
  const s = st.stats;
  if (value === null || value === undefined) {
    s.nullCount++;
    return;
  }
  if (typeof value === 'number') {
    countNumber(value, s);
    return;
  }
  if (typeof value !== 'object') return;
  if (depth >= MAX_DEPTH) {
    s.truncated = true;
    return;
  }
  if (ArrayBuffer.isView(value)) {
    if (value instanceof Float64Array || value instanceof Float32Array) {
      for (let i = 0; i < value.length; i++) countNumber(value[i] as number, s);
    }
    return;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) countInside(value[i], depth + 1, st);
    return;
  }
  if (!isPlainish(value)) return;
  for (const key in value) {
    if (Object.hasOwn(value, key)) countInside((value as Record<string, unknown>)[key], depth + 1, st);
  }
}

function field(raw: unknown, clean: unknown, path: string, depth: number, st: State): void {
  const s = st.stats;
  const p = path === '' ? '$' : path;
  if (raw === null || raw === undefined) {
    s.nullCount++;
    st.fields++;
    s.fieldCount++;
    return;
  }
  switch (typeof raw) {
    case 'number':
      countNumber(raw, s);
      st.fields++;
      s.fieldCount++;
      // The sanitized number is what is stored: a policy that rounds or hides a number wins.
      if (typeof clean === 'number') {
        if (st.fields <= st.maxFields) setOwn(s.numeric, p, clean);
        else s.truncated = true;
      }
      return;
    case 'string':
      st.fields++;
      s.fieldCount++;
      if (st.fields <= st.maxFields) setOwn(s.stringLengths, p, raw.length);
      else s.truncated = true;
      return;
    case 'object':
      break;
    default:
      st.fields++;
      s.fieldCount++;
      return;
  }
  if (depth >= MAX_DEPTH) {
    s.truncated = true;
    return;
  }
  if (Array.isArray(raw) || ArrayBuffer.isView(raw)) {
    const length = (raw as ArrayLike<unknown>).length ?? 0;
    if (st.fields < st.maxFields) setOwn(s.arraySizes, p, length);
    else s.truncated = true;
    countInside(raw, depth, st);
    return;
  }
  if (!isPlainish(raw)) {
    // Dates, Maps, class instances: a field, but no statistic of ours describes it.
    st.fields++;
    s.fieldCount++;
    return;
  }
  const cleanObj =
    clean !== null && typeof clean === 'object' && !Array.isArray(clean)
      ? (clean as Record<string, unknown>)
      : undefined;
  let index = -1;
  for (const key in raw) {
    if (!Object.hasOwn(raw, key)) continue;
    index++;
    const name = isPlainKey(key) ? key : cleanKeyAt(cleanObj, index);
    const cleanChild = cleanObj !== undefined && Object.hasOwn(cleanObj, name) ? cleanObj[name] : undefined;
    field((raw as Record<string, unknown>)[key], cleanChild, childPath(path, name), depth + 1, st);
  }
}

/**
 * The name the sanitizer gave the `index`-th key of an object (it keeps key order): a key that is
 * data (an email, a card number) is `<key #i>` under the default policy, so the stats' paths
 * never carry it either.
 */
export function cleanKeyAt(clean: Record<string, unknown> | undefined, index: number): string {
  const name = clean === undefined ? undefined : Object.keys(clean)[index];
  return name === undefined || name === '<truncated>' ? keyPlaceholder(index) : name;
}

/**
 * Computes `InputStats` of one input. `raw` gives null/NaN/Inf counts, string lengths and array
 * sizes; `sanitized` (same structure, from the sanitizer) gives the numeric values kept, so a
 * policy that rounds or redacts numbers is respected. At most `maxFields` paths are listed.
 */
export function computeInputStats(raw: unknown, sanitized: unknown, maxFields = 256): InputStats {
  const stats: InputStats = {
    fieldCount: 0,
    nullCount: 0,
    nanCount: 0,
    infCount: 0,
    numeric: {},
    stringLengths: {},
    arraySizes: {},
    truncated: false,
  };
  field(raw, sanitized, '', 0, { stats, fields: 0, maxFields });
  return stats;
}

// Field paths repeat from request to request: keep their JSON form (`"path":`), bounded.
const keyJson = new Map<string, string>();

function quotedKey(key: string): string {
  let q = keyJson.get(key);
  if (q === undefined) {
    if (keyJson.size >= 4096) keyJson.clear();
    q = `${JSON.stringify(key)}:`;
    keyJson.set(key, q);
  }
  return q;
}

function recordJson(record: Record<string, number>, numbers: boolean): string {
  let out = '{';
  let first = true;
  for (const key in record) {
    const v = record[key] as number;
    // Finite numbers as themselves; NaN, ±Infinity and -0 in the lossless codec's tagged form.
    const value = !numbers || (v - v === 0 && !Object.is(v, -0)) ? String(v) : encode(v);
    out += `${first ? '' : ','}${quotedKey(key)}${value}`;
    first = false;
  }
  return `${out}}`;
}

/**
 * `encode(stats)` of the lossless codec, written directly: the stats are flat and known, so the
 * hot path skips the generic walk. `decode` of the result equals `stats`.
 */
export function inputStatsJson(s: InputStats): string {
  return (
    `{"fieldCount":${s.fieldCount},"nullCount":${s.nullCount},"nanCount":${s.nanCount},"infCount":${s.infCount}` +
    `,"numeric":${recordJson(s.numeric, true)},"stringLengths":${recordJson(s.stringLengths, false)}` +
    `,"arraySizes":${recordJson(s.arraySizes, false)},"truncated":${s.truncated}}`
  );
}
