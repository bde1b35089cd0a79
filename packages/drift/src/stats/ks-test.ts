/**
 * Two-sample Kolmogorov-Smirnov test, two-sided, matching `scipy.stats.ks_2samp(method='auto')`:
 * the exact p-value when both samples have at most 10,000 values, else the asymptotic one
 * (`kstwo.sf(d, round(n1*n2/(n1+n2)))`).
 */
import { kstwoSf } from './kolmogorov.js';
import { forEachEcdfStep, type Sample, sampleSize } from './sample.js';

/** Result of a two-sample KS test. */
export interface KsResult {
  /** sup |F_reference(x) - F_current(x)| over all x. */
  statistic: number;
  /** Two-sided p-value. */
  pValue: number;
  /** Which p-value was computed. */
  method: 'exact' | 'asymptotic';
  /** A value where the supremum is reached. */
  location: number;
}

/** Largest sample size for which `auto` uses the exact p-value, as scipy. */
export const KS_MAX_EXACT_N = 10_000;

/** The statistic: the largest gap between the two empirical CDFs, and where it is. */
function ksStatistic(a: Sample, b: Sample, n1: number, n2: number): { d: number; location: number } {
  let best = 0;
  let location = Number.NaN;
  forEachEcdfStep(a, b, n1, n2, (x, fa, fb) => {
    const diff = Math.abs(fa - fb);
    if (diff > best) {
      best = diff;
      location = x;
    }
  });
  return { d: best, location };
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** scipy `_compute_prob_outside_square`: Pr(D_{n,n} >= h/n). */
function probOutsideSquare(n: number, h: number): number {
  let P = 0;
  let k = Math.floor(n / h);
  while (k >= 0) {
    let p1 = 1;
    for (let j = 0; j < h; j++) p1 = ((n - k * h - j) * p1) / (n + k * h + j + 1);
    P = p1 * (1 - P);
    k -= 1;
  }
  return 2 * P;
}

/** scipy `_compute_outer_prob_inside_method` (Hodges' inside method, Viehmann's 1-p recursion). */
function outerProbInside(m0: number, n0: number, g: number, h: number): number {
  let m = m0;
  let n = n0;
  if (m < n) [m, n] = [n, m];
  const mg = Math.floor(m / g);
  const ng = Math.floor(n / g);
  let minj = 0;
  let maxj = Math.min(Math.ceil(h / mg), n + 1);
  let curlen = maxj - minj;
  const lenA = Math.min(2 * maxj + 2, n + 1);
  const A = new Float64Array(lenA).fill(1);
  for (let x = minj; x < maxj; x++) A[x] = 0;
  for (let i = 1; i <= m; i++) {
    const lastminj = minj;
    const lastlen = curlen;
    minj = Math.min(Math.max(Math.floor((ng * i - h) / mg) + 1, 0), n);
    maxj = Math.min(Math.ceil((ng * i + h) / mg), n + 1);
    if (maxj <= minj) return 1;
    let val = minj === 0 ? 0 : 1;
    for (let jj = 0; jj < maxj - minj; jj++) {
      const j = jj + minj;
      val = (A[jj + minj - lastminj]! * i + val * j) / (i + j);
      A[jj] = val;
    }
    curlen = maxj - minj;
    if (lastlen > curlen) {
      for (let x = maxj - minj; x < maxj - minj + (lastlen - curlen); x++) A[x] = 1;
    }
  }
  return A[maxj - minj - 1]!;
}

/**
 * Two-sided two-sample KS test on sorted samples (counts allowed).
 * @param method `auto` (default) is exact up to {@link KS_MAX_EXACT_N} values per sample.
 */
export function ksTwoSample(
  a: Sample,
  b: Sample,
  method: 'auto' | 'exact' | 'asymptotic' = 'auto',
): KsResult {
  const n1 = sampleSize(a);
  const n2 = sampleSize(b);
  if (n1 === 0 || n2 === 0)
    return { statistic: Number.NaN, pValue: Number.NaN, method: 'asymptotic', location: Number.NaN };
  let { d, location } = ksStatistic(a, b, n1, n2);
  const g = gcd(n1, n2);
  let mode = method;
  if (mode === 'auto') mode = Math.max(n1, n2) <= KS_MAX_EXACT_N ? 'exact' : 'asymptotic';
  else if (mode === 'exact' && n1 / g >= 2147483647 / (n2 / g)) mode = 'asymptotic';
  if (mode === 'exact') {
    const lcm = (n1 / g) * n2;
    const h = Math.round(d * lcm);
    d = h / lcm;
    let prob: number;
    if (h === 0) prob = 1;
    else prob = n1 === n2 ? probOutsideSquare(n1, h) : outerProbInside(n1, n2, g, h);
    if (prob >= 0 && prob <= 1) return { statistic: d, pValue: prob, method: 'exact', location };
  }
  const [m, n] = n1 >= n2 ? [n1, n2] : [n2, n1];
  const en = (m * n) / (m + n);
  // numpy rounds half to even.
  const r = Math.round(en);
  const enRounded = r - en === 0.5 && r % 2 !== 0 ? r - 1 : r;
  const p = kstwoSf(d, enRounded);
  return { statistic: d, pValue: Math.min(1, Math.max(0, p)), method: 'asymptotic', location };
}
