import { z } from 'zod';
import { LayersError } from './errors.js';
import { anyNumber, type InspectedOutput, type OnnxInspection } from './schemas.js';
import { decodeTensorData, isFloatDtype, type NumericData, numericView } from './tensor-stats.js';

/** Tolerances of a comparison: an element fails only when |a − b| > atol AND |a − b| > rtol·|a|. */
export interface Tolerance {
  /** @default 1e-5 */
  rtol?: number;
  /** @default 1e-5 */
  atol?: number;
  /**
   * Whether NaN in both tensors at the same place counts as equal.
   * @default false
   */
  equalNan?: boolean;
}

/** Element-wise difference of two tensors. */
export interface TensorDiff {
  count: number;
  mismatches: number;
  /** Largest |a − b| over pairs of finite elements (Infinity when an infinity is matched with something else). */
  maxAbsError: number;
  /** Largest |a − b| / |a| (a is the reference). */
  maxRelError: number;
  /** Smallest tolerance t such that rtol = atol = t passes every element (Infinity when a NaN mismatch remains). */
  minPassingTolerance: number;
}

/**
 * Compares two tensors of the same length element by element with numpy-style semantics (a is the
 * reference). Integer and bool tensors (`exact`) must be equal.
 */
export function diffTensors(
  a: NumericData,
  b: NumericData,
  exact: boolean,
  tolerance: Tolerance = {},
): TensorDiff {
  const rtol = tolerance.rtol ?? 1e-5;
  const atol = tolerance.atol ?? 1e-5;
  const equalNan = tolerance.equalNan ?? false;
  const n = Math.min(a.length, b.length);
  const big = n > 0 && (typeof a[0] === 'bigint' || typeof b[0] === 'bigint');
  let mismatches = 0;
  let maxAbs = 0;
  let maxRel = 0;
  let minTol = 0;
  for (let i = 0; i < n; i++) {
    if (big) {
      if (BigInt(a[i]!) !== BigInt(b[i]!)) {
        mismatches++;
        const d = Math.abs(Number(a[i]) - Number(b[i]));
        const r = d / Math.abs(Number(a[i]));
        maxAbs = Math.max(maxAbs, d);
        maxRel = Math.max(maxRel, r);
        minTol = Number.POSITIVE_INFINITY;
      }
      continue;
    }
    const x = a[i] as number;
    const y = b[i] as number;
    if (Number.isNaN(x) || Number.isNaN(y)) {
      if (!(Number.isNaN(x) && Number.isNaN(y) && equalNan)) {
        mismatches++;
        minTol = Number.POSITIVE_INFINITY;
      }
      continue;
    }
    if (x === y) continue;
    const d = Math.abs(x - y);
    const r = x === 0 ? Number.POSITIVE_INFINITY : d / Math.abs(x);
    if (d > maxAbs) maxAbs = d;
    if (r > maxRel) maxRel = r;
    // An infinity matched with anything else (other sign or finite) is never within tolerance.
    if (exact || !Number.isFinite(x) || !Number.isFinite(y)) {
      mismatches++;
      minTol = Number.POSITIVE_INFINITY;
      continue;
    }
    if (d > atol && d > rtol * Math.abs(x)) mismatches++;
    const need = Math.min(d, r);
    if (need > minTol) minTol = need;
  }
  return { count: n, mismatches, maxAbsError: maxAbs, maxRelError: maxRel, minPassingTolerance: minTol };
}

/** Schema of one compared output. */
export const comparedOutputSchema = z.object({
  name: z.string(),
  /** `elements` when both reports kept the tensor, `stats` when only stats could be compared. */
  basis: z.enum(['elements', 'stats']),
  status: z.enum(['match', 'mismatch', 'shape-mismatch', 'dtype-mismatch', 'missing']),
  dtype: z.string(),
  shapeA: z.array(z.number()),
  shapeB: z.array(z.number()).nullable(),
  count: z.number(),
  mismatches: z.number(),
  maxAbsError: anyNumber,
  maxRelError: anyNumber,
  minPassingTolerance: anyNumber,
});

/** Schema of the result of {@link compareRuns}. */
export const runComparisonSchema = z.object({
  schemaVersion: z.literal(1),
  kind: z.literal('onnx-comparison'),
  rtol: z.number(),
  atol: z.number(),
  equalNan: z.boolean(),
  nodes: z.array(
    z.object({
      node: z.string(),
      opType: z.string(),
      within: z.boolean(),
      outputs: z.array(comparedOutputSchema),
    }),
  ),
  /** First node in a's topological order with an output outside tolerance (or of another shape/dtype). */
  firstDivergence: z
    .object({
      node: z.string(),
      opType: z.string(),
      output: z.string(),
      status: z.string(),
      maxAbsError: anyNumber,
      maxRelError: anyNumber,
      minPassingTolerance: anyNumber,
    })
    .nullable(),
  /** Outputs of a that b does not have (another model version may rename nodes). */
  missing: z.array(z.string()),
  /** Outputs compared on stats only because a report kept no tensor data. */
  statsOnly: z.number(),
});

/** Result of {@link compareRuns}. */
export type RunComparison = z.infer<typeof runComparisonSchema>;
/** One output of a {@link RunComparison} node. */
export type ComparedOutput = z.infer<typeof comparedOutputSchema>;

function dataOf(o: InspectedOutput): NumericData | string[] | null {
  if (o.data === undefined) return null;
  if (Array.isArray(o.data)) return o.data;
  return numericView(decodeTensorData(o.data, o.dtype), o.dtype);
}

function statsVector(o: InspectedOutput): number[] {
  const s = o.stats;
  if (!s) return [];
  return [s.min ?? Number.NaN, s.max ?? Number.NaN, s.mean ?? Number.NaN, s.std ?? Number.NaN];
}

function compareOutput(
  a: InspectedOutput,
  b: InspectedOutput | undefined,
  tolerance: Tolerance,
): ComparedOutput {
  const base = { name: a.name, dtype: a.dtype, shapeA: a.shape, count: 0, mismatches: 0 };
  const none = { maxAbsError: 0, maxRelError: 0, minPassingTolerance: 0 };
  if (!b) return { ...base, ...none, basis: 'elements', status: 'missing', shapeB: null };
  if (a.dtype !== b.dtype) {
    const inf = Number.POSITIVE_INFINITY;
    return {
      ...base,
      basis: 'elements',
      status: 'dtype-mismatch',
      shapeB: b.shape,
      maxAbsError: inf,
      maxRelError: inf,
      minPassingTolerance: inf,
    };
  }
  if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) {
    const inf = Number.POSITIVE_INFINITY;
    return {
      ...base,
      basis: 'elements',
      status: 'shape-mismatch',
      shapeB: b.shape,
      maxAbsError: inf,
      maxRelError: inf,
      minPassingTolerance: inf,
    };
  }
  const exact = !isFloatDtype(a.dtype);
  const da = dataOf(a);
  const db = dataOf(b);
  if (da && db) {
    if (typeof da[0] === 'string' || typeof db[0] === 'string') {
      const sa = da as string[];
      const sb = db as string[];
      const mismatches = sa.filter((v, i) => v !== sb[i]).length;
      const tol = mismatches ? Number.POSITIVE_INFINITY : 0;
      return {
        ...base,
        count: sa.length,
        mismatches,
        basis: 'elements',
        status: mismatches ? 'mismatch' : 'match',
        shapeB: b.shape,
        maxAbsError: tol,
        maxRelError: tol,
        minPassingTolerance: tol,
      };
    }
    const d = diffTensors(da as NumericData, db as NumericData, exact, tolerance);
    return { ...base, ...d, basis: 'elements', status: d.mismatches ? 'mismatch' : 'match', shapeB: b.shape };
  }
  // Stats only: compare min/max/mean/std with the same tolerance and the non-finite counts exactly.
  const sa = statsVector(a);
  const sb = statsVector(b);
  const d = diffTensors(sa, sb, exact, { ...tolerance, equalNan: true });
  const countsDiffer =
    !a.stats ||
    !b.stats ||
    a.stats.nan !== b.stats.nan ||
    a.stats.posInf !== b.stats.posInf ||
    a.stats.negInf !== b.stats.negInf;
  const mismatches = d.mismatches + (countsDiffer ? 1 : 0);
  return {
    ...base,
    count: sa.length,
    mismatches,
    maxAbsError: d.maxAbsError,
    maxRelError: d.maxRelError,
    minPassingTolerance: countsDiffer ? Number.POSITIVE_INFINITY : d.minPassingTolerance,
    basis: 'stats',
    status: mismatches ? 'mismatch' : 'match',
    shapeB: b.shape,
  };
}

/**
 * Compares two ONNX inspections (two model versions, two inputs, or staging vs production) node by
 * node in a's topological order. Outputs are matched by name. Element-wise when both reports kept
 * tensors (`keepTensors`), otherwise on min/max/mean/std and NaN/Inf counts (`basis: 'stats'`).
 */
export function compareRuns(a: OnnxInspection, b: OnnxInspection, tolerance: Tolerance = {}): RunComparison {
  const rtol = tolerance.rtol ?? 1e-5;
  const atol = tolerance.atol ?? 1e-5;
  if (!(rtol >= 0) || !(atol >= 0))
    throw new LayersError('BAD_OPTIONS', `rtol and atol must be >= 0, got ${rtol} and ${atol}`);
  const tol = { rtol, atol, equalNan: tolerance.equalNan ?? false };
  const byName = new Map<string, InspectedOutput>();
  for (const node of b.nodes) for (const o of node.outputs) byName.set(o.name, o);
  const missing: string[] = [];
  let statsOnly = 0;
  let firstDivergence: RunComparison['firstDivergence'] = null;
  const nodes = a.nodes.map((node) => {
    const outputs = node.outputs.map((o) => {
      const c = compareOutput(o, byName.get(o.name), tol);
      if (c.status === 'missing') missing.push(o.name);
      if (c.basis === 'stats') statsOnly++;
      if (firstDivergence === null && c.status !== 'match' && c.status !== 'missing') {
        firstDivergence = {
          node: node.name,
          opType: node.opType,
          output: o.name,
          status: c.status,
          maxAbsError: c.maxAbsError,
          maxRelError: c.maxRelError,
          minPassingTolerance: c.minPassingTolerance,
        };
      }
      return c;
    });
    return {
      node: node.name,
      opType: node.opType,
      within: outputs.every((c) => c.status === 'match' || c.status === 'missing'),
      outputs,
    };
  });
  return { schemaVersion: 1, kind: 'onnx-comparison', ...tol, nodes, firstDivergence, missing, statsOnly };
}
