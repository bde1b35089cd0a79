import {
  encode,
  encodeLeaf,
  encodeNumber,
  type FlatPolicy,
  isPlainKey,
  roundSignificant,
} from '@prodprobe/sanitize';
import { childPath, cleanKeyAt, isPlainish, MAX_DEPTH } from './input-stats.js';

/**
 * The logger's hot path: the statistics of `input-stats.ts` written straight to their JSON text,
 * with no InputStats object in between and field paths (`"user.age":`) cached in a trie of keys,
 * so a request shaped like the previous ones builds no path string and runs no regular
 * expression. With a sanitize policy of top-level field rules (the default policy has none) the
 * same walk also writes the sanitized input.
 */

interface PathNode {
  /** `"path":` (JSON). */
  quoted: string;
  /** `,"path":`: the same after a comma. */
  quotedComma: string;
  /** The path in the sanitize syntax (`""` for the root). */
  path: string;
  /** Whether the last key reads as a field name (`isPlainKey`); else the sanitizer renamed it. */
  plainKey: boolean;
  children: Map<string, PathNode> | undefined;
}

const MAX_PATH_NODES = 4096;
let pathNodes = 0;
let pathRoot: PathNode = {
  quoted: '"$":',
  quotedComma: ',"$":',
  path: '',
  plainKey: true,
  children: undefined,
};

function childNode(parent: PathNode, key: string): PathNode {
  let node = parent.children?.get(key);
  if (node === undefined) {
    const path = childPath(parent.path, key);
    const quoted = `${JSON.stringify(path)}:`;
    node = { quoted, quotedComma: `,${quoted}`, path, plainKey: isPlainKey(key), children: undefined };
    // Bounded: past the limit new paths are not cached (the trie restarts on the next call).
    if (pathNodes < MAX_PATH_NODES) {
      parent.children ??= new Map();
      parent.children.set(key, node);
      pathNodes++;
    }
  }
  return node;
}

/** Accumulators of one `inputStatsJsonOf` call (module state: the walk is synchronous). */
let jFieldCount = 0;
let jNullCount = 0;
let jNanCount = 0;
let jInfCount = 0;
let jFields = 0;
let jMaxFields = 256;
let jTruncated = false;
let jNumeric = '';
let jStringLengths = '';
let jArraySizes = '';

function countNumberJ(n: number): void {
  if (Number.isNaN(n)) jNanCount++;
  else if (n === Infinity || n === -Infinity) jInfCount++;
}

/** Lists a field's number under its path, or marks the stats truncated past `maxFields`. */
function listNumeric(node: PathNode, text: string): void {
  if (jFields <= jMaxFields) jNumeric += (jNumeric === '' ? node.quoted : node.quotedComma) + text;
  else jTruncated = true;
}

/** Lists a field's string length under its path, or marks the stats truncated past `maxFields`. */
function listStringLength(node: PathNode, length: number): void {
  if (jFields <= jMaxFields)
    jStringLengths += (jStringLengths === '' ? node.quoted : node.quotedComma) + length;
  else jTruncated = true;
}

function countInsideJ(value: unknown, depth: number): void {
  if (value === null || value === undefined) {
    jNullCount++;
    return;
  }
  if (typeof value === 'number') {
    countNumberJ(value);
    return;
  }
  if (typeof value !== 'object') return;
  if (depth >= MAX_DEPTH) {
    jTruncated = true;
    return;
  }
  if (ArrayBuffer.isView(value)) {
    if (value instanceof Float64Array || value instanceof Float32Array) {
      for (let i = 0; i < value.length; i++) countNumberJ(value[i] as number);
    }
    return;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) countInsideJ(value[i], depth + 1);
    return;
  }
  if (!isPlainish(value)) return;
  for (const key in value) {
    if (Object.hasOwn(value, key)) countInsideJ((value as Record<string, unknown>)[key], depth + 1);
  }
}

function fieldJ(raw: unknown, clean: unknown, node: PathNode, depth: number): void {
  if (raw === null || raw === undefined) {
    jNullCount++;
    jFields++;
    jFieldCount++;
    return;
  }
  switch (typeof raw) {
    case 'number':
      countNumberJ(raw);
      jFields++;
      jFieldCount++;
      if (typeof clean === 'number') {
        listNumeric(node, clean - clean === 0 && !Object.is(clean, -0) ? String(clean) : encode(clean));
      }
      return;
    case 'string':
      jFields++;
      jFieldCount++;
      listStringLength(node, raw.length);
      return;
    case 'object':
      break;
    default:
      jFields++;
      jFieldCount++;
      return;
  }
  if (depth >= MAX_DEPTH) {
    jTruncated = true;
    return;
  }
  if (Array.isArray(raw) || ArrayBuffer.isView(raw)) {
    const length = (raw as ArrayLike<unknown>).length ?? 0;
    if (jFields < jMaxFields) jArraySizes += (jArraySizes === '' ? node.quoted : node.quotedComma) + length;
    else jTruncated = true;
    countInsideJ(raw, depth);
    return;
  }
  if (!isPlainish(raw)) {
    jFields++;
    jFieldCount++;
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
    let child = childNode(node, key);
    let name = key;
    // A key that is data: the path takes the name the sanitizer gave it (`<key #i>`).
    if (!child.plainKey) {
      name = cleanKeyAt(cleanObj, index);
      child = childNode(node, name);
    }
    const cleanChild = cleanObj !== undefined && Object.hasOwn(cleanObj, name) ? cleanObj[name] : undefined;
    fieldJ((raw as Record<string, unknown>)[key], cleanChild, child, depth + 1);
  }
}

/** Resets the walk's counters for a new input (and the path cache once it has grown too large). */
function beginStats(maxFields: number): void {
  jFieldCount = 0;
  jNullCount = 0;
  jNanCount = 0;
  jInfCount = 0;
  jFields = 0;
  jMaxFields = maxFields;
  jTruncated = false;
  jNumeric = '';
  jStringLengths = '';
  jArraySizes = '';
  if (pathNodes >= MAX_PATH_NODES) {
    pathNodes = 0;
    pathRoot = { quoted: '"$":', quotedComma: ',"$":', path: '', plainKey: true, children: undefined };
  }
}

/** The stats JSON of the walk just done; lets go of its lists. */
function endStats(): string {
  const text =
    `{"fieldCount":${jFieldCount},"nullCount":${jNullCount},"nanCount":${jNanCount},"infCount":${jInfCount}` +
    `,"numeric":{${jNumeric}},"stringLengths":{${jStringLengths}},"arraySizes":{${jArraySizes}},"truncated":${jTruncated}}`;
  jNumeric = '';
  jStringLengths = '';
  jArraySizes = '';
  return text;
}

/**
 * `inputStatsJson(computeInputStats(raw, sanitized, maxFields))`, computed in one walk that
 * writes the JSON directly (what the logger stores on every entry).
 */
export function inputStatsJsonOf(raw: unknown, sanitized: unknown, maxFields = 256): string {
  beginStats(maxFields);
  fieldJ(raw, sanitized, pathRoot, 0);
  return endStats();
}

// ---------------------------------------------------------------------------------------------
// The sanitize policy in the same walk. The logger stores `encode(sanitizer.sanitize(input))` and
// the stats of the input: for a policy of top-level field rules over the default policy
// (`Sanitizer.flat`; the default policy itself has no rules) this writes both in one walk over the
// raw input, without the sanitized copy. It covers what requests are made of (plain objects,
// arrays, strings, numbers, booleans, null, undefined) and gives up (returns undefined) on
// anything else, which then takes the generic path: sanitize, encode, stats.

/** Past these the generic path (with its own limits, cycle and depth markers) takes the value. */
const FUSED_MAX_DEPTH = 24;
const FUSED_MAX_ITEMS = 1000;
const FUSED_MAX_NODES = 10_000;

let fNodes = 0;
let fBail = false;
/** The policy of the current walk. */
let fDigits = 2;
let fFields: ReadonlyMap<string, (value: unknown) => unknown> | undefined;

/** `"<string length=N>"` as JSON, cached for common lengths. */
const placeholderJson: string[] = Array.from({ length: 256 }, (_, i) => `"<string length=${i}>"`);

function placeholder(length: number): string {
  return length < placeholderJson.length
    ? (placeholderJson[length] as string)
    : `"<string length=${length}>"`;
}

/** JSON of `sanitize(value)` (default policy) for a value inside an array: counted, not listed. */
function itemJ(value: unknown, depth: number): string {
  if (++fNodes > FUSED_MAX_NODES) {
    fBail = true;
    return '';
  }
  switch (typeof value) {
    case 'string':
      return placeholder(value.length);
    case 'number':
      countNumberJ(value);
      return encodeNumber(roundSignificant(value, fDigits));
    case 'boolean':
      return value ? 'true' : 'false';
    case 'undefined':
      jNullCount++;
      return '{"$pp":"undefined"}';
    case 'object':
      if (value === null) {
        jNullCount++;
        return 'null';
      }
      return containerJ(value, depth, undefined);
    default:
      fBail = true;
      return '';
  }
}

/** JSON of a sanitized object or array; `node` set for a field outside arrays (stats listed). */
function containerJ(value: object, depth: number, node: PathNode | undefined): string {
  if (depth >= FUSED_MAX_DEPTH) {
    fBail = true;
    return '';
  }
  if (Array.isArray(value)) {
    const n = value.length;
    if (n > FUSED_MAX_ITEMS) {
      fBail = true;
      return '';
    }
    if (node !== undefined) {
      if (jFields < jMaxFields) jArraySizes += (jArraySizes === '' ? node.quoted : node.quotedComma) + n;
      else jTruncated = true;
    }
    let out = '[';
    for (let i = 0; i < n; i++) {
      // A hole reads as undefined, which the sanitizer writes as undefined.
      out += (i === 0 ? '' : ',') + itemJ(value[i], depth + 1);
      if (fBail) return '';
    }
    return `${out}]`;
  }
  if (!isPlainish(value) || Object.hasOwn(value, '$pp')) {
    fBail = true;
    return '';
  }
  let out = '';
  let count = 0;
  for (const key in value) {
    if (!Object.hasOwn(value, key)) continue;
    if (++count > FUSED_MAX_ITEMS) {
      fBail = true;
      return '';
    }
    const child = (value as Record<string, unknown>)[key];
    // A named top-level field follows its rule; everything else the default policy.
    const rule = depth === 0 && node !== undefined ? fFields?.get(key) : undefined;
    const text =
      rule !== undefined
        ? ruledFieldJ(child, rule, childNode(node as PathNode, key))
        : node !== undefined
          ? fieldJF(child, childNode(node, key), depth + 1)
          : itemJ(child, depth + 1);
    if (fBail) return '';
    out += (count === 1 ? quotedKeyJson(key) : quotedKeyCommaJson(key)) + text;
    if (fBail) return '';
  }
  return count === 0 ? '{}' : `${out}}`;
}

/** JSON of `sanitize(value)` (default policy) for a field outside arrays: listed in the stats. */
function fieldJF(value: unknown, node: PathNode, depth: number): string {
  if (++fNodes > FUSED_MAX_NODES) {
    fBail = true;
    return '';
  }
  switch (typeof value) {
    case 'string':
      jFields++;
      jFieldCount++;
      listStringLength(node, value.length);
      return placeholder(value.length);
    case 'number': {
      countNumberJ(value);
      jFields++;
      jFieldCount++;
      const text = encodeNumber(roundSignificant(value, fDigits));
      listNumeric(node, text);
      return text;
    }
    case 'boolean':
      jFields++;
      jFieldCount++;
      return value ? 'true' : 'false';
    case 'undefined':
      jNullCount++;
      jFields++;
      jFieldCount++;
      return '{"$pp":"undefined"}';
    case 'object':
      if (value === null) {
        jNullCount++;
        jFields++;
        jFieldCount++;
        return 'null';
      }
      return containerJ(value, depth, node);
    default:
      fBail = true;
      return '';
  }
}

/**
 * JSON of `sanitize(value)` for a top-level field with a rule, listed in the stats like `fieldJ`
 * lists it (the raw value counted, the sanitized number listed). An object there is left to the
 * generic path.
 */
function ruledFieldJ(value: unknown, rule: (value: unknown) => unknown, node: PathNode): string {
  // null and undefined stay as they are under any rule.
  if (value === null || value === undefined) return fieldJF(value, node, 1);
  if (++fNodes > FUSED_MAX_NODES) {
    fBail = true;
    return '';
  }
  const type = typeof value;
  if (type !== 'string' && type !== 'number' && type !== 'boolean') {
    fBail = true;
    return '';
  }
  const clean = rule(value);
  jFields++;
  jFieldCount++;
  const text = leafJson(clean);
  if (type === 'number') {
    countNumberJ(value as number);
    if (typeof clean === 'number') listNumeric(node, text);
  } else if (type === 'string') listStringLength(node, (value as string).length);
  return text;
}

/** Past this a kept string may meet the codec's own limit: the generic path writes it. */
const FUSED_MAX_STRING = 100_000;

/** JSON of a sanitized leaf the way `encode` writes it, or a bail for anything else. */
function leafJson(value: unknown): string {
  const text = typeof value === 'string' && value.length > FUSED_MAX_STRING ? undefined : encodeLeaf(value);
  if (text !== undefined) return text;
  fBail = true;
  return '';
}

// `{"key":` and `,"key":` of object keys seen before, bounded.
const keyOpenJson = new Map<string, string>();
const keyCommaJson = new Map<string, string>();

function quotedKeyJson(key: string): string {
  let q = keyOpenJson.get(key);
  if (q === undefined) {
    // A key that is data goes the generic way (the sanitizer renames it); not cached.
    if (!isPlainKey(key)) {
      fBail = true;
      return '';
    }
    if (keyOpenJson.size >= 4096) keyOpenJson.clear();
    q = `{${JSON.stringify(key)}:`;
    keyOpenJson.set(key, q);
  }
  return q;
}

function quotedKeyCommaJson(key: string): string {
  let q = keyCommaJson.get(key);
  if (q === undefined) {
    if (!isPlainKey(key)) {
      fBail = true;
      return '';
    }
    if (keyCommaJson.size >= 4096) keyCommaJson.clear();
    q = `,${JSON.stringify(key)}:`;
    keyCommaJson.set(key, q);
  }
  return q;
}

let fusedStats = '';

/**
 * For a sanitizer with a flat policy (`sanitizer.flat`): returns `encode(sanitizer.sanitize(raw))`
 * and leaves `inputStatsJson(computeInputStats(raw, sanitized, maxFields))` for
 * `lastFusedStatsJson()`, in one walk; or returns `undefined` (nothing computed) for a value it
 * leaves to the generic path.
 */
export function sanitizedJsonWithStats(
  raw: unknown,
  policy: FlatPolicy,
  maxFields = 256,
): string | undefined {
  fDigits = policy.numberDigits;
  fFields = policy.fields.size > 0 ? policy.fields : undefined;
  fNodes = 0;
  fBail = false;
  beginStats(maxFields);
  let json: string;
  try {
    json = fieldJF(raw, pathRoot, 0);
  } catch {
    // A getter that throws: the generic path decides what happens (the sanitizer's marker).
    fBail = true;
    json = '';
  }
  const stats = endStats();
  if (fBail) return undefined;
  fusedStats = stats;
  return json;
}

/** The stats JSON of the last successful `sanitizedJsonWithStats` call. */
export function lastFusedStatsJson(): string {
  return fusedStats;
}
