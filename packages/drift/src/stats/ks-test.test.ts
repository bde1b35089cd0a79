import { describe, expect, it } from 'vitest';
import { ksTwoSample, ksTwoSampleValues } from './ks-test.js';
import { sampleFrom } from './sample.js';

const filled = (n: number, v: number) => new Array<number>(n).fill(v);
const sortedTest = (a: ArrayLike<number>, b: ArrayLike<number>) => ksTwoSample(sampleFrom(a), sampleFrom(b));

// ksTwoSampleValues is checked against scipy in golden.test.ts; these cases aim at its pruning:
// which buckets it sorts and walks, and which it skips.
describe('ksTwoSampleValues (bucketed, on raw values)', () => {
  it('finds a supremum that sits at the end of a bucket holding one sample only', () => {
    // The CDF gap is 0.5 just after 0 (only a there) and just after 50 (only b): each bucket's
    // bound equals the lower bound exactly, so a bucket is kept when its bound reaches it.
    const a = [...filled(10_000, 0), ...filled(10_000, 100)];
    const b = filled(20_000, 50);
    const ks = ksTwoSampleValues(a, b);
    expect(ks.statistic).toBe(0.5);
    expect(ks.location).toBe(0);
    expect(ks).toEqual(sortedTest(a, b));
  });

  it('finds a supremum inside a bucket whose edges show almost no gap', () => {
    // Both samples span [0, 1000]; their masses sit 0.02 apart inside one bucket, so the CDFs
    // nearly agree at every bucket edge (a's extra value at 1 makes the largest edge gap 1e-4)
    // and only the bucket's bound sees the gap inside it.
    const a = [0, 1, 1000, ...filled(10_000, 500.01)];
    const b = [0, 1000, ...filled(10_000, 500.03)];
    const ks = ksTwoSampleValues(a, b);
    expect(ks.statistic).toBe(10_002 / 10_003 - 1 / 10_002);
    expect(ks.location).toBe(500.01);
    expect(ks).toEqual(sortedTest(a, b));
  });

  it('drops NaN, keeps ±Infinity and accepts plain arrays', () => {
    let seed = 5;
    const rand = () => {
      seed = (seed * 16807) % 2147483647;
      return seed / 2147483647;
    };
    const draw = (shift: number) =>
      Array.from({ length: 12_000 }, () => {
        const u = rand();
        if (u < 0.01) return Number.NaN;
        if (u < 0.02) return Number.POSITIVE_INFINITY;
        if (u < 0.03) return Number.NEGATIVE_INFINITY;
        return u + shift;
      });
    const a = draw(0);
    const b = draw(0.01);
    const ks = ksTwoSampleValues(a, b);
    expect(ks.method).toBe('asymptotic');
    expect(ks).toEqual(sortedTest(a, b));
    expect(ksTwoSampleValues(Float64Array.from(a), Float64Array.from(b))).toEqual(ks);
  });

  it('falls back to sorting when there is nothing to bucket', () => {
    expect(ksTwoSampleValues([1, 2, 3], [2, 3, 4])).toEqual(sortedTest([1, 2, 3], [2, 3, 4]));
    const same = filled(20_000, 7);
    expect(ksTwoSampleValues(same, same).statistic).toBe(0);
    expect(Number.isNaN(ksTwoSampleValues([], [1]).statistic)).toBe(true);
    expect(Number.isNaN(ksTwoSampleValues([Number.NaN], [1]).pValue)).toBe(true);
  });
});
