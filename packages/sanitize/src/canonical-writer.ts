import type { CodecLimits } from './codec.js';

/**
 * Direct canonical writer: the sorted-key lossless JSON text of a value, written in one walk
 * without building the sorted, tagged copy that `toCanonicalStorable` builds. It covers what
 * requests are made of (plain objects, arrays, strings, numbers including NaN/±Infinity/-0,
 * booleans, null, undefined, BigInt, array holes) and returns `undefined` for anything else
 * (Dates, Maps, typed arrays, class instances, objects with their own `$pp` key, functions,
 * cycles, anything past a limit), so the caller takes the tagged path for those values. Where it
 * returns text, the text is exactly `canonicalStringify(toCanonicalStorable(value))`.
 */

const objectProto = Object.prototype;

let limits: CodecLimits;
let nodes = 0;
let bailed = false;

// Key orders seen recently: objects of one shape (the same keys in the same order) reuse the
// sorted order and its JSON text (`{"a":`, `,"b":`, ...) instead of sorting and quoting again.
// Keys of an object are internalized strings, so comparing them is mostly pointer equality.
const SHAPE_CACHE_SIZE = 16;
const MAX_CACHED_KEYS = 64;
const shapeKeys: (readonly string[] | undefined)[] = new Array(SHAPE_CACHE_SIZE).fill(undefined);
const shapeSorted: (readonly string[] | undefined)[] = new Array(SHAPE_CACHE_SIZE).fill(undefined);
const shapePrefixes: (readonly string[] | undefined)[] = new Array(SHAPE_CACHE_SIZE).fill(undefined);
let shapeNext = 0;
let foundSorted: readonly string[] = [];
let foundPrefixes: readonly string[] = [];

function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  const n = a.length;
  if (n !== b.length) return false;
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Sets `foundSorted` and `foundPrefixes` for `keys` (from the cache when the shape was seen). */
function lookupShape(keys: string[]): void {
  for (let c = 0; c < SHAPE_CACHE_SIZE; c++) {
    const k = shapeKeys[c];
    if (k === undefined) break;
    if (sameKeys(k, keys)) {
      foundSorted = shapeSorted[c] as readonly string[];
      foundPrefixes = shapePrefixes[c] as readonly string[];
      return;
    }
  }
  const sorted = keys.slice().sort();
  const prefixes = sorted.map((key, i) => `${i === 0 ? '{' : ','}${JSON.stringify(key)}:`);
  if (keys.length <= MAX_CACHED_KEYS) {
    shapeKeys[shapeNext] = keys;
    shapeSorted[shapeNext] = sorted;
    shapePrefixes[shapeNext] = prefixes;
    shapeNext = (shapeNext + 1) % SHAPE_CACHE_SIZE;
  }
  foundSorted = sorted;
  foundPrefixes = prefixes;
}

/** JSON.stringify of a string: short strings with nothing to escape skip the native call. */
function quoteString(s: string): string {
  const n = s.length;
  if (n > 64) return JSON.stringify(s);
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    // quote, backslash, control characters and surrogates (lone ones are escaped) go native
    if (c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff)) return JSON.stringify(s);
  }
  return `"${s}"`;
}

/** A number as `encode` writes it: plain JSON when finite, a `$pp` tag for -0, NaN and ±Infinity. */
export function encodeNumber(n: number): string {
  if (n - n === 0) return n === 0 && 1 / n < 0 ? '{"$pp":"-0"}' : String(n);
  if (Number.isNaN(n)) return '{"$pp":"NaN"}';
  return n > 0 ? '{"$pp":"Infinity"}' : '{"$pp":"-Infinity"}';
}

/**
 * A leaf (string, number, boolean, undefined, null, BigInt) as `encode` writes it; undefined for
 * anything else (objects, functions, symbols). For writers that produce `encode`'s output
 * themselves, such as the prediction logger's one walk.
 */
export function encodeLeaf(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
      return quoteString(value);
    case 'number':
      return encodeNumber(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'undefined':
      return '{"$pp":"undefined"}';
    case 'bigint':
      return `{"$pp":"bigint","v":"${value.toString()}"}`;
    case 'object':
      return value === null ? 'null' : undefined;
    default:
      return undefined;
  }
}

function write(value: unknown, depth: number): string {
  // The node count matches the tagged walk's, so a value within limits here is within them there.
  if (++nodes > limits.maxNodes) {
    bailed = true;
    return '';
  }
  switch (typeof value) {
    case 'string':
      if (value.length > limits.maxStringLength) break;
      return quoteString(value);
    case 'number':
      return encodeNumber(value);
    case 'object':
      return value === null ? 'null' : writeObject(value, depth);
    default: {
      const leaf = encodeLeaf(value);
      if (leaf !== undefined) return leaf;
    }
  }
  bailed = true;
  return '';
}

function writeObject(value: object, depth: number): string {
  // Depth also stops cycles: a cyclic value reaches it and takes the tagged path (`cycle` marker).
  if (depth >= limits.maxDepth) {
    bailed = true;
    return '';
  }
  if (Array.isArray(value)) {
    const n = value.length;
    if (n > limits.maxArrayLength) {
      bailed = true;
      return '';
    }
    let out = '[';
    for (let i = 0; i < n; i++) {
      const item = value[i];
      if (i > 0) out += ',';
      out += item === undefined && !(i in value) ? '{"$pp":"hole"}' : write(item, depth + 1);
      if (bailed) return '';
    }
    return `${out}]`;
  }
  const proto = Object.getPrototypeOf(value);
  if ((proto !== objectProto && proto !== null) || Object.hasOwn(value, '$pp')) {
    bailed = true;
    return '';
  }
  const keys = Object.keys(value);
  const n = keys.length;
  if (n > limits.maxKeys) {
    bailed = true;
    return '';
  }
  if (n === 0) return '{}';
  lookupShape(keys);
  const sorted = foundSorted;
  const prefixes = foundPrefixes;
  let out = '';
  for (let i = 0; i < n; i++) {
    out +=
      (prefixes[i] as string) + write((value as Record<string, unknown>)[sorted[i] as string], depth + 1);
    if (bailed) return '';
  }
  return `${out}}`;
}

/**
 * Canonical lossless JSON text of `value`, or `undefined` when it holds something this writer
 * leaves to the tagged path (see the file comment).
 */
export function writeCanonical(value: unknown, codecLimits: CodecLimits): string | undefined {
  // Saved and restored: a getter that hashes another value must not disturb this walk.
  const outerLimits = limits;
  const outerNodes = nodes;
  const outerBailed = bailed;
  limits = codecLimits;
  nodes = 0;
  bailed = false;
  try {
    const text = write(value, 0);
    return bailed ? undefined : text;
  } finally {
    limits = outerLimits;
    nodes = outerNodes;
    bailed = outerBailed;
  }
}
