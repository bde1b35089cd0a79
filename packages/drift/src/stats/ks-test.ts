/**
 * Two-sample Kolmogorov-Smirnov test, two-sided, matching `scipy.stats.ks_2samp(method='auto')`:
 * the exact p-value when both samples have at most 10,000 values, else the asymptotic one
 * (`kstwo.sf(d, round(n1*n2/(n1+n2)))`).
 */
import { kstwoSf } from './kolmogorov.js';
import { forEachEcdfStep, type Sample, sampleFrom, sampleSize, sortFloat64 } from './sample.js';

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

interface Gap {
  d: number;
  location: number;
}

/**
 * The statistic: the largest gap between the two empirical CDFs, and the first value where it is
 * reached. `best` carries a walk on from earlier slices of the samples, with `before1`/`before2`
 * values below these slices (see {@link forEachEcdfStep}).
 */
function ksStatistic(
  a: Sample,
  b: Sample,
  n1: number,
  n2: number,
  best: Gap = { d: 0, location: Number.NaN },
  before1 = 0,
  before2 = 0,
): Gap {
  forEachEcdfStep(
    a,
    b,
    n1,
    n2,
    (x, fa, fb) => {
      const diff = Math.abs(fa - fb);
      if (diff > best.d) {
        best.d = diff;
        best.location = x;
      }
    },
    before1,
    before2,
  );
  return best;
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
  if (n1 === 0 || n2 === 0) return emptyResult();
  const { d, location } = ksStatistic(a, b, n1, n2);
  return withPValue(d, location, n1, n2, method);
}

function emptyResult(): KsResult {
  return { statistic: Number.NaN, pValue: Number.NaN, method: 'asymptotic', location: Number.NaN };
}

/** The p-value of statistic `d` for sample sizes `n1`, `n2`, as scipy's `ks_2samp`. */
function withPValue(
  d0: number,
  location: number,
  n1: number,
  n2: number,
  method: 'auto' | 'exact' | 'asymptotic',
): KsResult {
  let d = d0;
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

/**
 * Below this many values in all, the table of at least 1,024 buckets costs about what sorting both
 * samples does (the KS bench logs both paths at 500 to 5,000 values a side).
 */
const BUCKETED_MIN = 1024;

/**
 * The same test on raw, unsorted values (NaN dropped): the same statistic, location and p-value as
 * `ksTwoSample(sampleFrom(a), sampleFrom(b))`, without sorting the samples. The values are counted
 * into equal-width buckets over their range; the empirical CDFs at the bucket edges give a lower
 * bound on the statistic and each bucket an upper bound on the gap inside it, so only the few
 * buckets that could hold the supremum are sorted and walked. Sorting is most of the cost of a KS
 * test on raw values; this reads each sample three times (range, counts, the kept buckets' values).
 */
export function ksTwoSampleValues(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  method: 'auto' | 'exact' | 'asymptotic' = 'auto',
): KsResult {
  const av = a instanceof Float64Array ? a : Float64Array.from(a);
  const bv = b instanceof Float64Array ? b : Float64Array.from(b);
  const ra = finiteRange(av);
  const rb = finiteRange(bv);
  const n1 = ra.n;
  const n2 = rb.n;
  if (n1 === 0 || n2 === 0) return emptyResult();
  const lo = Math.min(ra.lo, rb.lo);
  const hi = Math.max(ra.hi, rb.hi);
  // Few values, or no finite spread to bucket (one distinct finite value, or a range that overflows).
  if (n1 + n2 < BUCKETED_MIN || !(hi > lo) || !Number.isFinite(hi - lo))
    return ksTwoSample(sampleFrom(av), sampleFrom(bv), method);
  const { d, location } = bucketedStatistic(av, bv, n1, n2, lo, hi);
  return withPValue(d, location, n1, n2, method);
}

/** The count of non-NaN values and the range of the finite ones. */
function finiteRange(x: Float64Array): { n: number; lo: number; hi: number } {
  let n = 0;
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    if (Number.isNaN(v)) continue;
    n++;
    if (v < lo && v !== Number.NEGATIVE_INFINITY) lo = v;
    if (v > hi && v !== Number.POSITIVE_INFINITY) hi = v;
  }
  return { n, lo, hi };
}

/**
 * Bucket of `v`: `floor((v - lo) * scale)` clamped to [0, nb); monotone in v, so equal values share
 * a bucket and buckets are in value order (±Infinity land in the end buckets).
 */
function bucketOf(v: number, lo: number, scale: number, nb: number): number {
  const t = (v - lo) * scale;
  return t < nb ? (t > 0 ? t | 0 : 0) : nb - 1;
}

function countInto(x: Float64Array, lo: number, scale: number, counts: Int32Array): void {
  const nb = counts.length;
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    if (!Number.isNaN(v)) counts[bucketOf(v, lo, scale, nb)]!++;
  }
}

/** Copies the values of the candidate buckets (`start[k] >= 0`) into `out`, bucket by bucket. */
function gather(x: Float64Array, lo: number, scale: number, start: Int32Array, out: Float64Array): void {
  const nb = start.length;
  const fill = Int32Array.from(start);
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    if (Number.isNaN(v)) continue;
    const k = bucketOf(v, lo, scale, nb);
    if (fill[k]! >= 0) out[fill[k]!++] = v;
  }
}

function bucketedStatistic(
  a: Float64Array,
  b: Float64Array,
  n1: number,
  n2: number,
  lo: number,
  hi: number,
): Gap {
  // About 16 values a bucket: fewer buckets raise the bound's slack, more leave the cache.
  const nb = Math.max(1024, Math.min(1 << 17, Math.ceil((n1 + n2) / 16)));
  const scale = nb / (hi - lo);
  const countA = new Int32Array(nb);
  const countB = new Int32Array(nb);
  countInto(a, lo, scale, countA);
  countInto(b, lo, scale, countB);
  // Lower bound: the CDFs' gap at a bucket's end is the gap just after its largest value.
  let lower = 0;
  let ca = 0;
  let cb = 0;
  for (let k = 0; k < nb; k++) {
    ca += countA[k]!;
    cb += countB[k]!;
    const diff = Math.abs(ca / n1 - cb / n2);
    if (diff > lower) lower = diff;
  }
  // A bucket can hold the supremum only if its upper bound reaches the lower bound: those buckets'
  // values are gathered, in bucket order (start = -1 marks the others).
  const startA = new Int32Array(nb).fill(-1);
  const startB = new Int32Array(nb).fill(-1);
  let sizeA = 0;
  let sizeB = 0;
  ca = 0;
  cb = 0;
  for (let k = 0; k < nb; k++) {
    const fa0 = ca / n1;
    const fb0 = cb / n2;
    ca += countA[k]!;
    cb += countB[k]!;
    if (countA[k]! + countB[k]! === 0 || Math.max(ca / n1 - fb0, cb / n2 - fa0) < lower) continue;
    startA[k] = sizeA;
    startB[k] = sizeB;
    sizeA += countA[k]!;
    sizeB += countB[k]!;
  }
  const gatheredA = new Float64Array(sizeA);
  const gatheredB = new Float64Array(sizeB);
  gather(a, lo, scale, startA, gatheredA);
  gather(b, lo, scale, startB, gatheredB);
  // Walk the candidate buckets in order, each from the CDFs at its start. The first value where the
  // largest gap is reached is the one the full walk finds: every other bucket's gaps are below it.
  const best: Gap = { d: 0, location: Number.NaN };
  ca = 0;
  cb = 0;
  for (let k = 0; k < nb; k++) {
    const na = countA[k]!;
    const nbk = countB[k]!;
    if (startA[k]! >= 0) {
      const sa = gatheredA.subarray(startA[k]!, startA[k]! + na);
      const sb = gatheredB.subarray(startB[k]!, startB[k]! + nbk);
      sortFloat64(sa);
      sortFloat64(sb);
      ksStatistic({ values: sa }, { values: sb }, n1, n2, best, ca, cb);
    }
    ca += na;
    cb += nbk;
  }
  return best;
}
