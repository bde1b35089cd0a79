/**
 * PSI and Jensen-Shannon distance on binned proportions, and the reference-quantile bins used for
 * numeric fields.
 *
 * Bins (numeric): edges are the reference quantiles at k/B, k = 1..B-1 (numpy `linear`), duplicates
 * removed; a value x falls in bin i = number of edges strictly below x (numpy
 * `searchsorted(edges, x, side='left')`), so bin 0 is (-inf, e1], bin i is (e_i, e_{i+1}], the last
 * bin is (e_last, +inf). Ties that make edges coincide merge bins instead of creating empty ones.
 */
import { quantiles, type Sample } from './sample.js';

/** Floor applied to an empty bin's proportion in PSI, so the log ratio stays finite. */
export const PSI_EMPTY_BIN_FLOOR = 1e-4;

/** Unique sorted reference-quantile edges for `bins` bins. */
export function quantileEdges(reference: Sample, bins: number): number[] {
  const qs: number[] = [];
  for (let k = 1; k < bins; k++) qs.push(k / bins);
  const raw = quantiles(reference, qs);
  const edges: number[] = [];
  for (const e of raw) if (edges.length === 0 || e !== edges[edges.length - 1]) edges.push(e);
  return edges;
}

/** Counts of a sorted sample in the bins defined by `edges` (see module doc). */
export function binCounts(s: Sample, edges: readonly number[]): number[] {
  const out = new Array<number>(edges.length + 1).fill(0);
  let bin = 0;
  for (let i = 0; i < s.values.length; i++) {
    const x = s.values[i]!;
    while (bin < edges.length && edges[bin]! < x) bin++;
    out[bin]! += s.counts ? s.counts[i]! : 1;
  }
  return out;
}

/** One bin's share of the PSI. */
export interface PsiBin {
  /** Proportion of the reference in this bin (before the empty-bin floor). */
  reference: number;
  /** Proportion of the current sample in this bin (before the empty-bin floor). */
  current: number;
  /** (current - reference) * ln(current / reference), with floored proportions. */
  contribution: number;
}

/**
 * Population stability index Σ (c_i - r_i) ln(c_i / r_i) over proportions, where an empty bin's
 * proportion is replaced by {@link PSI_EMPTY_BIN_FLOOR} (no renormalisation), as Evidently does.
 */
export function psi(
  referenceCounts: readonly number[],
  currentCounts: readonly number[],
  floor: number = PSI_EMPTY_BIN_FLOOR,
): { value: number; bins: PsiBin[] } {
  const rn = referenceCounts.reduce((s, c) => s + c, 0);
  const cn = currentCounts.reduce((s, c) => s + c, 0);
  let value = 0;
  const bins: PsiBin[] = [];
  for (let i = 0; i < referenceCounts.length; i++) {
    const r = referenceCounts[i]! / rn;
    const c = (currentCounts[i] ?? 0) / cn;
    const rf = r === 0 ? floor : r;
    const cf = c === 0 ? floor : c;
    const contribution = (cf - rf) * Math.log(cf / rf);
    value += contribution;
    bins.push({ reference: r, current: c, contribution });
  }
  return { value, bins };
}

function relEntr(x: number, y: number): number {
  if (x > 0 && y > 0) return x * Math.log(x / y);
  if (x === 0 && y >= 0) return 0;
  return Number.POSITIVE_INFINITY;
}

/**
 * Jensen-Shannon distance with log base 2 (bounded 0..1), as
 * `scipy.spatial.distance.jensenshannon(p, q, base=2)`; inputs are normalised to sum 1.
 */
export function jensenShannon(p: readonly number[], q: readonly number[]): number {
  const ps = p.reduce((s, x) => s + x, 0);
  const qs = q.reduce((s, x) => s + x, 0);
  let left = 0;
  let right = 0;
  for (let i = 0; i < p.length; i++) {
    const pi = p[i]! / ps;
    const qi = (q[i] ?? 0) / qs;
    const m = (pi + qi) / 2;
    left += relEntr(pi, m);
    right += relEntr(qi, m);
  }
  const js = (left + right) / Math.LN2;
  return Math.sqrt(Math.max(0, js) / 2);
}
