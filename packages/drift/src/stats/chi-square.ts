/**
 * Pearson chi-square test of homogeneity on the 2 x k table (reference counts, current counts),
 * as `scipy.stats.chi2_contingency(table, correction=False)`. Categories absent from both rows are
 * dropped (scipy would reject a zero expected frequency).
 */
import { chiSquareSf } from './special.js';

/** Result of the chi-square test. */
export interface ChiSquareResult {
  statistic: number;
  /** Degrees of freedom, k - 1 for the k categories seen in either sample. */
  df: number;
  pValue: number;
}

/** Chi-square test of two count vectors over the same categories. */
export function chiSquare(reference: readonly number[], current: readonly number[]): ChiSquareResult {
  const cols: [number, number][] = [];
  for (let i = 0; i < reference.length; i++) {
    const r = reference[i]!;
    const c = current[i] ?? 0;
    if (r + c > 0) cols.push([r, c]);
  }
  const rowR = cols.reduce((s, [r]) => s + r, 0);
  const rowC = cols.reduce((s, [, c]) => s + c, 0);
  const total = rowR + rowC;
  const df = cols.length - 1;
  if (df <= 0 || rowR === 0 || rowC === 0) return { statistic: 0, df: Math.max(df, 0), pValue: 1 };
  let statistic = 0;
  for (const [r, c] of cols) {
    const col = r + c;
    const er = (rowR * col) / total;
    const ec = (rowC * col) / total;
    statistic += (r - er) ** 2 / er + (c - ec) ** 2 / ec;
  }
  return { statistic, df, pValue: chiSquareSf(statistic, df) };
}
