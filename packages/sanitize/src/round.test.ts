import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { roundBigIntSignificant, roundDecimals, roundSignificant } from './round.js';

describe('roundSignificant', () => {
  it('rounds to significant digits and keeps special values', () => {
    expect(roundSignificant(12345, 2)).toBe(12000);
    expect(roundSignificant(0.0012345, 2)).toBe(0.0012);
    expect(roundSignificant(-1250, 2)).toBe(-1300);
    expect(roundSignificant(99.5, 2)).toBe(100);
    expect(roundSignificant(0.3, 2)).toBe(0.3);
    expect(Object.is(roundSignificant(-0, 2), -0)).toBe(true);
    expect(roundSignificant(Number.NaN, 2)).toBeNaN();
    expect(roundSignificant(Number.POSITIVE_INFINITY, 2)).toBe(Number.POSITIVE_INFINITY);
    expect(roundSignificant(5e-324, 2)).toBe(5e-324);
    // 1.8e308 would overflow to Infinity: a finite input stays finite.
    expect(roundSignificant(Number.MAX_VALUE, 2)).toBe(Number.MAX_VALUE);
    expect(roundSignificant(1.23e300, 2)).toBe(1.2e300);
  });

  it('property: equals Number(x.toPrecision(d)) for any double and 1..17 digits', () => {
    fc.assert(
      fc.property(fc.double(), fc.integer({ min: 1, max: 17 }), (x, d) => {
        // toPrecision turns -0 into "0"; we keep -0 (it can be the failure).
        const precise = Number(x.toPrecision(d));
        const expected = x === 0 || !Number.isFinite(precise) ? x : precise;
        expect(Object.is(roundSignificant(x, d), expected)).toBe(true);
      }),
      { numRuns: 5_000, seed: 99 },
    );
    fc.assert(
      fc.property(fc.integer({ min: -1e9, max: 1e9 }), fc.integer({ min: 0, max: 6 }), (m, e) => {
        const x = m / 10 ** e;
        expect(roundSignificant(x, 2)).toBe(Number(x.toPrecision(2)));
      }),
      { numRuns: 5_000, seed: 100 },
    );
  });
});

describe('roundBigIntSignificant and roundDecimals', () => {
  it('rounds BigInts half away from zero', () => {
    expect(roundBigIntSignificant(12345n, 2)).toBe(12000n);
    expect(roundBigIntSignificant(-12500n, 2)).toBe(-13000n);
    expect(roundBigIntSignificant(99n, 1)).toBe(100n);
    expect(roundBigIntSignificant(7n, 2)).toBe(7n);
  });

  it('rounds to decimal places', () => {
    expect(roundDecimals(2.345, 2)).toBe(2.35);
    expect(roundDecimals(-2.46, 1)).toBe(-2.5);
    expect(roundDecimals(Number.NaN, 1)).toBeNaN();
    expect(roundDecimals(1e22, 1)).toBe(1e22);
  });
});
