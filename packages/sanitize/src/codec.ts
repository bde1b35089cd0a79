import { writeCanonical } from './canonical-writer.js';
import { SanitizeError } from './errors.js';

/**
 * Bounds that keep encoding cheap and finite on hostile values (cycles, very deep nesting, huge
 * strings or arrays, shared references that expand exponentially). Anything past a limit is
 * replaced by a `{"$pp":"truncated",...}` marker instead of throwing or hanging.
 */
export interface CodecLimits {
  /** Nesting depth past which a value becomes `{"$pp":"truncated","reason":"depth"}`. @default 100 */
  maxDepth: number;
  /** Longer strings keep this many leading characters in a `reason:"string"` marker. @default 1_000_000 */
  maxStringLength: number;
  /** Longer arrays, typed arrays, Maps and Sets keep this many items in a `reason:"array"` marker. @default 100_000 */
  maxArrayLength: number;
  /** Objects with more keys keep this many in a `reason:"keys"` marker. @default 10_000 */
  maxKeys: number;
  /** Total values visited in one call; past it every value becomes `reason:"nodes"`. @default 1_000_000 */
  maxNodes: number;
}

/** The limits used when none are given. */
export const DEFAULT_CODEC_LIMITS: Readonly<CodecLimits> = Object.freeze({
  maxDepth: 100,
  maxStringLength: 1_000_000,
  maxArrayLength: 100_000,
  maxKeys: 10_000,
  maxNodes: 1_000_000,
});

/** Options of `encode` and `toStorable`. */
export interface CodecOptions {
  /** Override some of the limits. @default DEFAULT_CODEC_LIMITS */
  limits?: Partial<CodecLimits>;
}

/** The reserved key that marks a tagged value in stored JSON. */
export const TAG = '$pp';

const TYPED_ARRAYS = {
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
} as const;
type TypedArrayName = keyof typeof TYPED_ARRAYS;
type AnyTypedArray = InstanceType<(typeof TYPED_ARRAYS)[TypedArrayName]>;

const objectProto = Object.prototype;

/** Resolve and check limits once; reused objects keep the hot path allocation-free. */
export function resolveLimits(limits: Partial<CodecLimits> | undefined): CodecLimits {
  if (limits === undefined) return DEFAULT_CODEC_LIMITS as CodecLimits;
  const out = { ...DEFAULT_CODEC_LIMITS, ...limits };
  for (const [key, value] of Object.entries(out)) {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
      throw new SanitizeError(
        'INVALID_OPTIONS',
        `limits.${key}: expected a positive integer, got ${typeof value === 'number' ? value : typeof value}`,
      );
    }
  }
  return out;
}

interface Walk {
  limits: CodecLimits;
  nodes: number;
  /** Objects on the current path from the root: a repeat is a cycle; shared siblings are not. */
  ancestors: object[];
  sortKeys: boolean;
  /**
   * encode only: a subtree native JSON.stringify already writes losslessly is used as it is
   * (no copy), so one NaN in a large entry costs little more than the fast path.
   */
  reusePlain: boolean;
}

function storableNumber(n: number): unknown {
  if (n - n === 0) return n === 0 && 1 / n < 0 ? { [TAG]: '-0' } : n;
  if (Number.isNaN(n)) return { [TAG]: 'NaN' };
  return { [TAG]: n > 0 ? 'Infinity' : '-Infinity' };
}

function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  // A plain assignment to "__proto__" would change the prototype instead of adding a key.
  if (key === '__proto__') {
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    target[key] = value;
  }
}

function typedArrayName(value: object): TypedArrayName | undefined {
  if (!ArrayBuffer.isView(value) || value instanceof DataView) return undefined;
  const name = Object.prototype.toString.call(value).slice(8, -1);
  return name in TYPED_ARRAYS ? (name as TypedArrayName) : undefined;
}

function storableTypedArray(name: TypedArrayName, arr: AnyTypedArray, w: Walk): unknown {
  const total = arr.length;
  const n = Math.min(total, w.limits.maxArrayLength);
  const items: unknown[] = new Array(n);
  if (name === 'BigInt64Array' || name === 'BigUint64Array') {
    for (let i = 0; i < n; i++) items[i] = String(arr[i]);
  } else if (name === 'Float32Array' || name === 'Float64Array') {
    for (let i = 0; i < n; i++) items[i] = storableNumber(arr[i] as number);
  } else {
    for (let i = 0; i < n; i++) items[i] = arr[i];
  }
  w.nodes += n;
  if (n < total) return { [TAG]: 'truncated', reason: 'array', type: name, length: total, v: items };
  return { [TAG]: name, v: items };
}

function walk(value: unknown, depth: number, w: Walk): unknown {
  if (++w.nodes > w.limits.maxNodes) return { [TAG]: 'truncated', reason: 'nodes' };
  switch (typeof value) {
    case 'string':
      if (value.length > w.limits.maxStringLength) {
        return {
          [TAG]: 'truncated',
          reason: 'string',
          length: value.length,
          v: value.slice(0, w.limits.maxStringLength),
        };
      }
      return value;
    case 'number':
      return storableNumber(value);
    case 'boolean':
      return value;
    case 'undefined':
      return { [TAG]: 'undefined' };
    case 'bigint':
      return { [TAG]: 'bigint', v: value.toString() };
    case 'object':
      if (value === null) return null;
      if (w.reusePlain && depth > 0) {
        budget = w.limits.maxNodes - w.nodes;
        fastLimits = w.limits;
        const plain = isPlainJson(value, depth);
        w.nodes = w.limits.maxNodes - Math.max(budget, 0);
        if (plain) return value;
      }
      return walkObject(value, depth, w);
    default:
      // functions and symbols have no JSON meaning; say what was there.
      return { [TAG]: 'unsupported', type: typeof value };
  }
}

function walkObject(value: object, depth: number, w: Walk): unknown {
  if (depth >= w.limits.maxDepth) return { [TAG]: 'truncated', reason: 'depth' };
  const ancestors = w.ancestors;
  for (let i = 0; i < ancestors.length; i++) if (ancestors[i] === value) return { [TAG]: 'cycle' };
  ancestors.push(value);
  try {
    return walkObjectInner(value, depth, w);
  } finally {
    ancestors.pop();
  }
}

function walkArray(arr: readonly unknown[], depth: number, w: Walk): unknown[] {
  const n = Math.min(arr.length, w.limits.maxArrayLength);
  const out: unknown[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const item = arr[i];
    out[i] = item === undefined && !(i in arr) ? { [TAG]: 'hole' } : walk(item, depth + 1, w);
  }
  return out;
}

function walkEntries(
  obj: Record<string, unknown>,
  depth: number,
  w: Walk,
): [Record<string, unknown>, number] {
  const keys = Object.keys(obj);
  if (w.sortKeys) keys.sort();
  const n = Math.min(keys.length, w.limits.maxKeys);
  const out: Record<string, unknown> = {};
  for (let i = 0; i < n; i++) {
    const key = keys[i] as string;
    setOwn(out, key, walk(obj[key], depth + 1, w));
  }
  return [out, keys.length];
}

function walkObjectInner(value: object, depth: number, w: Walk): unknown {
  if (Array.isArray(value)) {
    const out = walkArray(value, depth, w);
    if (out.length < value.length) {
      return { [TAG]: 'truncated', reason: 'array', length: value.length, v: out };
    }
    return out;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== objectProto && proto !== null) {
    if (value instanceof Date) {
      const t = value.getTime();
      return { [TAG]: 'date', v: Number.isNaN(t) ? null : value.toISOString() };
    }
    const typed = typedArrayName(value);
    if (typed !== undefined) return storableTypedArray(typed, value as AnyTypedArray, w);
    if (value instanceof Map) return storableCollection('Map', value, depth, w);
    if (value instanceof Set) return storableCollection('Set', value, depth, w);
    if (value instanceof Error) return storableError(value, depth, w);
    if (value instanceof ArrayBuffer) {
      return retag(storableTypedArray('Uint8Array', new Uint8Array(value), w), 'ArrayBuffer');
    }
    if (
      value instanceof DataView ||
      value instanceof WeakMap ||
      value instanceof WeakSet ||
      value instanceof Promise
    ) {
      return { [TAG]: 'unsupported', type: value.constructor.name };
    }
    const toJSON = (value as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') return walk(toJSON.call(value), depth, w);
  }
  const [out, total] = walkEntries(value as Record<string, unknown>, depth, w);
  if (total > w.limits.maxKeys) return { [TAG]: 'truncated', reason: 'keys', keys: total, v: out };
  if (Object.hasOwn(value, TAG)) return { [TAG]: 'object', v: out };
  return out;
}

function retag(marker: unknown, name: string): unknown {
  const m = marker as Record<string, unknown>;
  if (m[TAG] === 'truncated') m.type = name;
  else m[TAG] = name;
  return m;
}

function storableCollection(
  name: 'Map' | 'Set',
  value: Map<unknown, unknown> | Set<unknown>,
  depth: number,
  w: Walk,
): unknown {
  const total = value.size;
  const n = Math.min(total, w.limits.maxArrayLength);
  const items: unknown[] = [];
  if (value instanceof Map) {
    for (const [k, v] of value) {
      if (items.length >= n) break;
      items.push([walk(k, depth + 1, w), walk(v, depth + 1, w)]);
    }
  } else {
    for (const v of value) {
      if (items.length >= n) break;
      items.push(walk(v, depth + 1, w));
    }
  }
  if (w.sortKeys) {
    // Canonical form: insertion order must not change the hash of an equal Map or Set.
    const keyed = items.map((item) => [JSON.stringify(item), item] as const);
    keyed.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    for (let i = 0; i < keyed.length; i++) items[i] = keyed[i]![1];
  }
  if (n < total) return { [TAG]: 'truncated', reason: 'array', type: name, length: total, v: items };
  return { [TAG]: name, v: items };
}

function storableError(value: Error, depth: number, w: Walk): unknown {
  const fields: Record<string, unknown> = { name: value.name, message: value.message };
  if (value.stack !== undefined) fields.stack = value.stack;
  if ('cause' in value) fields.cause = value.cause;
  for (const key of Object.keys(value)) if (!(key in fields)) fields[key] = (value as never)[key];
  const [out] = walkEntries(fields, depth, w);
  return { [TAG]: 'Error', v: out };
}

function newWalk(options: CodecOptions | undefined, sortKeys: boolean): Walk {
  return { limits: resolveLimits(options?.limits), nodes: 0, ancestors: [], sortKeys, reusePlain: false };
}

/**
 * Map any value to a plain JSON-safe tree (only objects, arrays, finite numbers other than -0,
 * strings, booleans and null) that `fromStorable` maps back. Special values become tagged objects
 * `{"$pp": ...}`; limits apply (see `CodecLimits`). Never throws on cycles or depth.
 */
export function toStorable(value: unknown, options?: CodecOptions): unknown {
  return walk(value, 0, newWalk(options, false));
}

/** Like `toStorable` with object keys sorted (and Map/Set entries ordered): for hashing. */
export function toCanonicalStorable(value: unknown, options?: CodecOptions): unknown {
  return walk(value, 0, newWalk(options, true));
}

// ---------------------------------------------------------------------------------------------
// encode: fast path = allocation-free check + native JSON.stringify; slow path = toStorable.

let budget = 0;
let fastLimits: CodecLimits = DEFAULT_CODEC_LIMITS as CodecLimits;

/** True when native JSON.stringify already writes `value` losslessly and within limits. */
function isPlainJson(value: unknown, depth: number): boolean {
  if (--budget < 0) return false;
  switch (typeof value) {
    case 'string':
      return value.length <= fastLimits.maxStringLength;
    case 'number':
      // finite and not -0
      return value - value === 0 && (value !== 0 || 1 / value > 0);
    case 'boolean':
      return true;
    case 'object': {
      if (value === null) return true;
      if (depth >= fastLimits.maxDepth) return false;
      if (Array.isArray(value)) {
        const n = value.length;
        if (n > fastLimits.maxArrayLength) return false;
        for (let i = 0; i < n; i++) {
          const item = value[i];
          // undefined also catches holes
          if (item === undefined || !isPlainJson(item, depth + 1)) return false;
        }
        return true;
      }
      const proto = Object.getPrototypeOf(value);
      if (proto !== objectProto && proto !== null) return false;
      let count = 0;
      for (const key in value) {
        if (key === TAG || ++count > fastLimits.maxKeys) return false;
        const item = (value as Record<string, unknown>)[key];
        if (item === undefined || !isPlainJson(item, depth + 1)) return false;
      }
      return true;
    }
    default:
      return false;
  }
}

/**
 * Encode any value as lossless, valid, single-line JSON text (safe as one JSONL line).
 * `decode` is its inverse: NaN, ±Infinity, -0, undefined (vs a missing key), BigInt, Date, typed
 * arrays, Map, Set, Error and sparse-array holes survive. Cycles, depth, huge strings/arrays and
 * exponential sharing become `{"$pp":"cycle"}` / `{"$pp":"truncated",...}` markers.
 * @throws SanitizeError `ENCODE_FAILED` if reading the value throws (e.g. a throwing getter).
 */
export function encode(value: unknown, options?: CodecOptions): string {
  try {
    const limits =
      options?.limits === undefined ? (DEFAULT_CODEC_LIMITS as CodecLimits) : resolveLimits(options.limits);
    fastLimits = limits;
    budget = limits.maxNodes;
    if (isPlainJson(value, 0)) return JSON.stringify(value);
    return JSON.stringify(
      walk(value, 0, { limits, nodes: 0, ancestors: [], sortKeys: false, reusePlain: true }),
    );
  } catch (error) {
    if (error instanceof SanitizeError) throw error;
    throw new SanitizeError('ENCODE_FAILED', `encode: could not read the value (${describe(error)})`, {
      cause: error,
    });
  }
}

/**
 * Canonical (keys sorted at every depth) lossless JSON text of `value`, for hashing.
 * Values made of plain objects, arrays and primitives are written directly in one walk (sorted
 * keys, tagged NaN/±Infinity/-0/undefined/BigInt/holes, no copy); anything else (Dates, Maps,
 * typed arrays, class instances, `$pp` keys, cycles, limits) goes through the tagged tree.
 * Both give the same text: `canonicalStringify(toCanonicalStorable(value))`.
 */
export function canonicalEncode(value: unknown, options?: CodecOptions): string {
  const limits =
    options?.limits === undefined ? (DEFAULT_CODEC_LIMITS as CodecLimits) : resolveLimits(options.limits);
  const direct = writeCanonical(value, limits);
  if (direct !== undefined) return direct;
  return canonicalStringify(walk(value, 0, newWalk(options, true)));
}

/** JSON text of a plain JSON tree with every object's keys in code-unit order. */
export function canonicalStringify(tree: unknown): string {
  if (typeof tree !== 'object' || tree === null) return JSON.stringify(tree);
  if (Array.isArray(tree)) {
    let out = '[';
    for (let i = 0; i < tree.length; i++) out += (i === 0 ? '' : ',') + canonicalStringify(tree[i]);
    return `${out}]`;
  }
  const keys = Object.keys(tree).sort();
  let out = '{';
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    out += `${i === 0 ? '' : ','}${JSON.stringify(key)}:${canonicalStringify((tree as Record<string, unknown>)[key])}`;
  }
  return `${out}}`;
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

// ---------------------------------------------------------------------------------------------
// decode

function isTagged(value: Record<string, unknown>): boolean {
  return typeof value[TAG] === 'string';
}

function fromEntries(obj: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(obj)) setOwn(out, key, fromStorable(obj[key]));
  return out;
}

function fromTypedArray(name: TypedArrayName, items: unknown): AnyTypedArray {
  const list = Array.isArray(items) ? items : [];
  const Ctor = TYPED_ARRAYS[name];
  if (name === 'BigInt64Array' || name === 'BigUint64Array') {
    const out = new (Ctor as BigInt64ArrayConstructor)(list.length);
    for (let i = 0; i < list.length; i++) out[i] = BigInt(list[i] as string);
    return out;
  }
  const out = new (Ctor as Float64ArrayConstructor)(list.length);
  for (let i = 0; i < list.length; i++) out[i] = fromStorable(list[i]) as number;
  return out;
}

function fromTagged(obj: Record<string, unknown>): unknown {
  const tag = obj[TAG] as string;
  switch (tag) {
    case 'NaN':
      return Number.NaN;
    case 'Infinity':
      return Number.POSITIVE_INFINITY;
    case '-Infinity':
      return Number.NEGATIVE_INFINITY;
    case '-0':
      return -0;
    case 'undefined':
      return undefined;
    case 'bigint':
      return BigInt(obj.v as string);
    case 'date':
      return new Date(typeof obj.v === 'string' ? obj.v : Number.NaN);
    case 'object':
      return fromEntries((obj.v ?? {}) as Record<string, unknown>);
    case 'Map': {
      const out = new Map<unknown, unknown>();
      for (const pair of (obj.v ?? []) as [unknown, unknown][]) {
        out.set(fromStorable(pair[0]), fromStorable(pair[1]));
      }
      return out;
    }
    case 'Set': {
      const out = new Set<unknown>();
      for (const item of (obj.v ?? []) as unknown[]) out.add(fromStorable(item));
      return out;
    }
    case 'ArrayBuffer':
      return fromTypedArray('Uint8Array', obj.v).buffer;
    case 'Error': {
      const fields = fromEntries((obj.v ?? {}) as Record<string, unknown>);
      const error = new Error(String(fields.message ?? ''));
      for (const key of Object.keys(fields)) {
        if (key === 'message') continue;
        Object.defineProperty(error, key, {
          value: fields[key],
          enumerable: key !== 'name' && key !== 'stack' && key !== 'cause',
          writable: true,
          configurable: true,
        });
      }
      return error;
    }
    default: {
      if (tag in TYPED_ARRAYS) return fromTypedArray(tag as TypedArrayName, obj.v);
      // Markers (cycle, truncated, unsupported, hole outside an array) and tags from newer
      // versions stay visible as plain objects, with their payload decoded.
      const out: Record<string, unknown> = {};
      for (const key of Object.keys(obj)) {
        const item = obj[key];
        setOwn(
          out,
          key,
          key === 'v' && tag === 'truncated' && obj.reason === 'keys'
            ? fromEntries(item as Record<string, unknown>)
            : key === TAG
              ? item
              : fromStorable(item),
        );
      }
      return out;
    }
  }
}

/**
 * Inverse of `toStorable`: map a JSON tree (as parsed from stored text) back to the value.
 * Markers that cannot be restored (`cycle`, `truncated`, `unsupported`) come back as plain objects
 * with their `$pp` key, so a reader can see what was cut.
 */
export function fromStorable(json: unknown): unknown {
  if (typeof json !== 'object' || json === null) return json;
  if (Array.isArray(json)) {
    const n = json.length;
    const out: unknown[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const item = json[i];
      if (typeof item === 'object' && item !== null && (item as Record<string, unknown>)[TAG] === 'hole')
        continue;
      out[i] = fromStorable(item);
    }
    return out;
  }
  const obj = json as Record<string, unknown>;
  if (isTagged(obj)) return fromTagged(obj);
  return fromEntries(obj);
}

/**
 * Decode text written by `encode`.
 * @throws SanitizeError `DECODE_FAILED` when the text is not valid JSON.
 */
export function decode(text: string): unknown {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new SanitizeError('DECODE_FAILED', `decode: not valid JSON (${describe(error)})`, { cause: error });
  }
  return fromStorable(json);
}
