import { describe, expect, it } from 'vitest';
import { sampleFrom, sortFloat64 } from './sample.js';

describe('sortFloat64', () => {
  it('sorts large arrays exactly as TypedArray.prototype.sort, -0 before 0 and infinities at the ends', () => {
    let seed = 3;
    const rand = () => {
      seed = (seed * 16807) % 2147483647;
      return seed / 2147483647;
    };
    const specials = [0, -0, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 5e-324, -5e-324, 1, -1];
    for (const n of [9000, 50_000]) {
      const values = Float64Array.from({ length: n }, (_, i) =>
        i % 97 === 0
          ? specials[i % specials.length]!
          : i % 3 === 0
            ? Math.round(rand() * 20) - 10 // many duplicates
            : (rand() - 0.5) * 10 ** (rand() * 40 - 20),
      );
      const ours = Float64Array.from(values);
      sortFloat64(ours);
      const builtin = Float64Array.from(values).sort();
      // Object.is tells -0 from 0.
      const mismatch = ours.findIndex((x, i) => !Object.is(x, builtin[i]));
      expect(mismatch).toBe(-1);
    }
  });

  it('sorts an array whose keys share their top bits (one digit needs no pass), and small arrays', () => {
    const close = Float64Array.from({ length: 20_000 }, (_, i) => 1 + ((i * 7919) % 20_000) * 1e-12);
    const ours = Float64Array.from(close);
    sortFloat64(ours);
    expect(Array.from(ours)).toEqual(Array.from(Float64Array.from(close).sort()));
    expect(Array.from(sampleFrom([3, Number.NaN, -1, 2]).values)).toEqual([-1, 2, 3]);
  });
});
