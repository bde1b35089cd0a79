/**
 * Wasserstein-1 (earth mover's) distance between two 1-D samples, as
 * `scipy.stats.wasserstein_distance(u, v, u_weights, v_weights)`: the integral of |F_u - F_v|.
 */
import { forEachEcdfStep, type Sample, sampleSize } from './sample.js';

/** W1 between two sorted samples (counts act as weights). NaN when either is empty. */
export function wasserstein1(a: Sample, b: Sample): number {
  const n1 = sampleSize(a);
  const n2 = sampleSize(b);
  if (n1 === 0 || n2 === 0) return Number.NaN;
  let total = 0;
  let prev = Number.NaN;
  // |F_u - F_v| between the previous distinct value and this one.
  let gap = 0;
  forEachEcdfStep(a, b, n1, n2, (x, fa, fb) => {
    if (!Number.isNaN(prev)) {
      const delta = x - prev;
      if (delta !== 0) total += gap * delta;
    }
    gap = Math.abs(fa - fb);
    prev = x;
  });
  return total;
}
