/**
 * A numeric sample in sorted order, optionally with integer counts per value. Counts let a profile's
 * sketch (distinct values or buckets with their counts) stand in for the expanded sample it
 * summarises, so every test has one definition whatever the input.
 */
export interface Sample {
  /** Values in ascending order (no NaN). */
  readonly values: Float64Array;
  /** Count of each value (same length as `values`); absent means every count is 1. */
  readonly counts?: Float64Array;
}

/** Sorts finite-or-infinite numbers (NaN removed) into a Sample. */
export function sampleFrom(values: ArrayLike<number>): Sample {
  let n = 0;
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isNaN(v)) out[n++] = v;
  }
  const sorted = n === out.length ? out : out.slice(0, n);
  sorted.sort();
  return { values: sorted };
}

/**
 * Walks the distinct values of two sorted samples in ascending order (a merge, counts as weights)
 * and calls `step(x, fa, fb)` with each sample's empirical CDF just after x. `n1` and `n2` are the
 * sample sizes. KS and Wasserstein are both functions of this walk.
 */
export function forEachEcdfStep(
  a: Sample,
  b: Sample,
  n1: number,
  n2: number,
  step: (x: number, fa: number, fb: number) => void,
): void {
  const av = a.values;
  const bv = b.values;
  const ac = a.counts;
  const bc = b.counts;
  let i = 0;
  let j = 0;
  let ca = 0;
  let cb = 0;
  while (i < av.length || j < bv.length) {
    const x = i < av.length && (j >= bv.length || av[i]! <= bv[j]!) ? av[i]! : bv[j]!;
    for (; i < av.length && av[i] === x; i++) ca += ac ? ac[i]! : 1;
    for (; j < bv.length && bv[j] === x; j++) cb += bc ? bc[j]! : 1;
    step(x, ca / n1, cb / n2);
  }
}

/** Total weight (sample size) of a sample. */
export function sampleSize(s: Sample): number {
  if (!s.counts) return s.values.length;
  let n = 0;
  for (let i = 0; i < s.counts.length; i++) n += s.counts[i]!;
  return n;
}

/**
 * The `index`-th value (0-based) of the expanded sorted sample. `cum` is the inclusive cumulative
 * count array of a counted sample; a binary search finds the value.
 */
function valueAt(s: Sample, cum: Float64Array | undefined, index: number): number {
  if (!cum) return s.values[index]!;
  let lo = 0;
  let hi = cum.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cum[mid]! > index) hi = mid;
    else lo = mid + 1;
  }
  return s.values[lo]!;
}

function cumulative(counts: Float64Array): Float64Array {
  const cum = new Float64Array(counts.length);
  let c = 0;
  for (let i = 0; i < counts.length; i++) {
    c += counts[i]!;
    cum[i] = c;
  }
  return cum;
}

/**
 * Quantiles exactly as `numpy.quantile(x, q)` with the default `linear` method on the expanded
 * sample (including numpy's two-sided lerp, so a quantile that lands on a data value equals it).
 */
export function quantiles(s: Sample, qs: readonly number[]): number[] {
  const n = sampleSize(s);
  if (n === 0) return qs.map(() => Number.NaN);
  const cum = s.counts ? cumulative(s.counts) : undefined;
  return qs.map((q) => {
    const h = (n - 1) * q;
    const i = Math.floor(h);
    const t = h - i;
    const a = valueAt(s, cum, i);
    if (t === 0 || i + 1 >= n) return a;
    const b = valueAt(s, cum, i + 1);
    const diff = b - a;
    return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
  });
}
