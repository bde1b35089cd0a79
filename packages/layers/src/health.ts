import type { ValueScan } from './schemas.js';

/** Options of {@link scanValue}. */
export interface ScanOptions {
  /**
   * How many issue paths to keep (counts are always complete).
   * @default 20
   */
  maxIssues?: number;
}

type Kind = ValueScan['issues'][number]['kind'];

function isNumericArrayLike(v: unknown): v is ArrayLike<number | bigint> {
  return ArrayBuffer.isView(v) && !(v instanceof DataView);
}

/**
 * Scans any value a pipeline stage produces (objects, arrays, typed arrays, onnxruntime tensors) for
 * NaN, ±Infinity, null and undefined fields, empty arrays and all-zero rows. A row is an element of an
 * array that is itself a non-empty array of numbers, or an object whose fields are all numbers, or a
 * slice along the last dimension of a tensor (`{ dims, data }`).
 */
export function scanValue(value: unknown, options: ScanOptions = {}): ValueScan {
  const maxIssues = options.maxIssues ?? 20;
  const scan: ValueScan = {
    numbers: 0,
    nan: 0,
    posInf: 0,
    negInf: 0,
    nullFields: 0,
    undefinedFields: 0,
    emptyArrays: 0,
    allZeroRows: 0,
    issues: [],
  };
  const seen = new WeakSet<object>();
  const issue = (kind: Kind, path: string) => {
    if (scan.issues.length < maxIssues) scan.issues.push({ kind, path });
  };
  const num = (x: number, path: string) => {
    scan.numbers++;
    if (Number.isNaN(x)) {
      scan.nan++;
      issue('nan', path);
    } else if (x === Number.POSITIVE_INFINITY) {
      scan.posInf++;
      issue('posInf', path);
    } else if (x === Number.NEGATIVE_INFINITY) {
      scan.negInf++;
      issue('negInf', path);
    }
  };
  const flat = (data: ArrayLike<number | bigint>, path: string, rowLength: number) => {
    if (data.length === 0) {
      scan.emptyArrays++;
      issue('emptyArray', path);
      return;
    }
    const big = typeof data[0] === 'bigint';
    let rowZero = true;
    for (let i = 0; i < data.length; i++) {
      const x = big ? Number(data[i]) : (data[i] as number);
      if (Number.isFinite(x)) scan.numbers++;
      else num(x, `${path}[${i}]`);
      if (x !== 0) rowZero = false;
      if (rowLength > 0 && (i + 1) % rowLength === 0) {
        if (rowZero && data.length > rowLength) {
          scan.allZeroRows++;
          issue('allZeroRow', `${path}[${(i + 1) / rowLength - 1}]`);
        }
        rowZero = true;
      }
    }
  };
  const isZeroRow = (row: unknown): boolean => {
    if (Array.isArray(row) || isNumericArrayLike(row)) {
      const a = row as ArrayLike<unknown>;
      if (a.length === 0) return false;
      for (let i = 0; i < a.length; i++) if (a[i] !== 0 && a[i] !== 0n) return false;
      return true;
    }
    if (row !== null && typeof row === 'object') {
      const values = Object.values(row);
      return values.length > 0 && values.every((v) => v === 0);
    }
    return false;
  };
  const walk = (v: unknown, path: string) => {
    if (typeof v === 'number') return num(v, path);
    if (typeof v === 'bigint') {
      scan.numbers++;
      return;
    }
    if (v === null) {
      scan.nullFields++;
      return issue('null', path);
    }
    if (v === undefined) {
      scan.undefinedFields++;
      return issue('undefined', path);
    }
    if (typeof v !== 'object') return;
    if (seen.has(v)) return;
    seen.add(v);
    if (isNumericArrayLike(v)) return flat(v, path, 0);
    if (Array.isArray(v)) {
      if (v.length === 0) {
        scan.emptyArrays++;
        return issue('emptyArray', path);
      }
      for (let i = 0; i < v.length; i++) {
        const p = `${path}[${i}]`;
        if (v.length > 1 && isZeroRow(v[i])) {
          scan.allZeroRows++;
          issue('allZeroRow', p);
        }
        walk(v[i], p);
      }
      return;
    }
    // onnxruntime tensors (and look-alikes): scan the data with rows along the last dimension.
    const t = v as { dims?: unknown; data?: unknown };
    if (Array.isArray(t.dims) && isNumericArrayLike(t.data)) {
      const dims = t.dims as number[];
      return flat(t.data, `${path}.data`, dims.length >= 2 ? (dims[dims.length - 1] ?? 0) : 0);
    }
    if (v instanceof Map) {
      for (const [k, x] of v) walk(x, `${path}.${String(k)}`);
      return;
    }
    if (v instanceof Date) return;
    for (const [k, x] of Object.entries(v)) walk(x, `${path}.${k}`);
  };
  walk(value, '$');
  return scan;
}

/** Whether a scan found NaN or infinities. */
export function scanHasNonFinite(scan: ValueScan): boolean {
  return scan.nan + scan.posInf + scan.negInf > 0;
}
