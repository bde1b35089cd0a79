/**
 * Wasserstein-1 (earth mover's) distance between two 1-D samples, as
 * `scipy.stats.wasserstein_distance(u, v, u_weights, v_weights)`: the integral of |F_u - F_v|.
 */
import { type Sample, sampleSize } from './sample.js';

/** W1 between two sorted samples (counts act as weights). NaN when either is empty. */
export function wasserstein1(a: Sample, b: Sample): number {
  const n1 = sampleSize(a);
  const n2 = sampleSize(b);
  if (n1 === 0 || n2 === 0) return Number.NaN;
  const av = a.values;
  const bv = b.values;
  const ac = a.counts;
  const bc = b.counts;
  let i = 0;
  let j = 0;
  let ca = 0;
  let cb = 0;
  let total = 0;
  let prev = Number.NaN;
  while (i < av.length || j < bv.length) {
    const x = i < av.length && (j >= bv.length || av[i]! <= bv[j]!) ? av[i]! : bv[j]!;
    if (!Number.isNaN(prev)) {
      const delta = x - prev;
      if (delta !== 0) total += Math.abs(ca / n1 - cb / n2) * delta;
    }
    for (; i < av.length && av[i] === x; i++) ca += ac ? ac[i]! : 1;
    for (; j < bv.length && bv[j] === x; j++) cb += bc ? bc[j]! : 1;
    prev = x;
  }
  return total;
}
