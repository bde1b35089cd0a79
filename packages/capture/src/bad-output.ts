/**
 * Decides whether an output counts as a failure: `false`/`undefined` means fine, `true` or a
 * non-empty string (the reason) means failed.
 */
export type IsFailure<O = unknown> = (output: O) => boolean | string | undefined;

const MAX_DEPTH = 32;
const MAX_NODES = 10_000;
/** Values left to look at in the current walk (walks are synchronous and never nested). */
let nodesLeft = 0;

function describeNumber(n: number): string {
  return Number.isNaN(n) ? 'NaN' : n > 0 ? 'Infinity' : '-Infinity';
}

function childPath(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

/**
 * Walks plain objects, arrays and float typed arrays (bounded depth and count) and calls `found`
 * with the path of the first non-finite number. Paths are built only when `found` is given, so
 * the common "all finite" walk allocates nothing.
 */
function walk(
  value: object,
  path: string | undefined,
  depth: number,
  found: ((path: string, n: number) => void) | undefined,
): boolean {
  if (depth >= MAX_DEPTH) return false;
  if (ArrayBuffer.isView(value)) {
    if (!(value instanceof Float32Array || value instanceof Float64Array)) return false;
    const n = Math.min(value.length, nodesLeft);
    nodesLeft -= n;
    for (let i = 0; i < n; i++) {
      const x = value[i] as number;
      if (x - x !== 0) {
        found?.(childPath(path as string, i), x);
        return true;
      }
    }
    return false;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      if (--nodesLeft < 0) return false;
      if (visit(value[i], path, i, depth, found)) return true;
    }
    return false;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return false; // Date, Map, class instances: not judged
  for (const key in value) {
    if (--nodesLeft < 0) return false;
    if (visit((value as Record<string, unknown>)[key], path, key, depth, found)) return true;
  }
  return false;
}

function visit(
  v: unknown,
  path: string | undefined,
  key: string | number,
  depth: number,
  found: ((path: string, n: number) => void) | undefined,
): boolean {
  if (typeof v === 'number') {
    if (v - v === 0) return false;
    found?.(childPath(path as string, key), v);
    return true;
  }
  if (v === null || typeof v !== 'object') return false;
  return walk(v, found ? childPath(path as string, key) : undefined, depth + 1, found);
}

/**
 * The default failure check: an output that is `null` or `undefined`, or that holds a non-finite
 * number (NaN, Infinity, -Infinity) anywhere in its plain objects, arrays and float typed arrays.
 * Returns the reason (e.g. `output.scores[3] is NaN`) or `undefined` for a good output.
 * Looks at most 32 levels deep and 10,000 values, so a huge output costs a bounded time.
 */
export function defaultIsFailure(output: unknown): string | undefined {
  if (typeof output === 'number')
    return output - output === 0 ? undefined : `output is ${describeNumber(output)}`;
  if (output === null) return 'output is null';
  if (output === undefined) return 'output is undefined';
  if (typeof output !== 'object') return undefined;
  nodesLeft = MAX_NODES;
  if (!walk(output, undefined, 0, undefined)) return undefined;
  let reason = 'output holds a non-finite number';
  nodesLeft = MAX_NODES;
  walk(output, 'output', 0, (path, n) => {
    reason = `${path} is ${describeNumber(n)}`;
  });
  return reason;
}

/** Normalises a failure check's answer: the reason, or `undefined` when the output is fine. */
export function failureReason(verdict: boolean | string | undefined): string | undefined {
  if (verdict === true) return 'isFailure(output) returned true';
  if (typeof verdict === 'string' && verdict.length > 0) return verdict;
  return undefined;
}
