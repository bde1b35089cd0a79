/**
 * Count, mean and sum of squared deviations (M2) with Chan et al.'s parallel combination, so two
 * partial results merge into the moments of the union.
 */
export interface Moments {
  count: number;
  mean: number;
  m2: number;
}

/** Empty moments. */
export const emptyMoments = (): Moments => ({ count: 0, mean: 0, m2: 0 });

/**
 * Combines two moment sets. The operands are put in a canonical order first, so
 * `combine(a, b)` and `combine(b, a)` are bit-identical.
 */
export function combineMoments(x: Moments, y: Moments): Moments {
  if (x.count === 0) return { ...y };
  if (y.count === 0) return { ...x };
  const swap =
    x.count > y.count || (x.count === y.count && (x.mean > y.mean || (x.mean === y.mean && x.m2 > y.m2)));
  const a = swap ? y : x;
  const b = swap ? x : y;
  const count = a.count + b.count;
  const delta = b.mean - a.mean;
  const mean = a.mean + (delta * b.count) / count;
  const m2 = a.m2 + b.m2 + ((delta * delta * a.count) / count) * b.count;
  return { count, mean, m2 };
}

/** Population-free sample standard deviation (n - 1 denominator); 0 for fewer than 2 values. */
export function stdOf(m: Moments): number {
  return m.count > 1 ? Math.sqrt(m.m2 / (m.count - 1)) : 0;
}
