import { describe, expect, it } from 'vitest';
import { diffTensors } from './compare.js';
import { decodeTensorData, encodeTensorData, tensorStats, widenHalf } from './tensor-stats.js';

describe('tensorStats', () => {
  it('matches a direct two-pass computation over the finite values', () => {
    let seed = 7;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return (seed / 2 ** 31) * 2e3 + 1e6;
    };
    const values = Array.from({ length: 1000 }, rand);
    const data = Float64Array.from([...values, Number.NaN, Number.POSITIVE_INFINITY, 0]);
    const finite = [...values, 0];
    const mean = finite.reduce((a, b) => a + b, 0) / finite.length;
    const std = Math.sqrt(finite.reduce((a, b) => a + (b - mean) ** 2, 0) / finite.length);
    const s = tensorStats(data);
    expect(s).toMatchObject({
      count: 1003,
      nan: 1,
      posInf: 1,
      negInf: 0,
      zero: 1,
      min: 0,
      max: Math.max(...values),
    });
    expect(s.mean).toBeCloseTo(mean, 6);
    expect(s.std! / std).toBeCloseTo(1, 9);
  });

  it('gives float32 tensors the same stats as any other typed array of the same values', () => {
    const values = [
      Number.NaN,
      Number.NEGATIVE_INFINITY,
      0,
      -0,
      1.5,
      -2.25,
      Number.POSITIVE_INFINITY,
      3,
      Number.NaN,
    ];
    expect(tensorStats(Float32Array.from(values))).toEqual(tensorStats(Float64Array.from(values)));
    expect(tensorStats(Float32Array.from([Number.NaN, Number.POSITIVE_INFINITY]))).toEqual(
      tensorStats(Float64Array.from([Number.NaN, Number.POSITIVE_INFINITY])),
    );
    expect(tensorStats(Float32Array.from(values))).toMatchObject({
      nan: 2,
      posInf: 1,
      negInf: 1,
      zero: 2,
      min: -2.25,
      max: 3,
    });
  });

  it("gives float32 the generic path's stats on large tensors, with NaN/Inf in any block", () => {
    let seed = 11;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    // Half zeros like a ReLU's output, an odd length, and blocks of 4096 with and without non-finite values.
    const n = 4096 * 5 + 3;
    const base = Float32Array.from({ length: n }, () => (rand() < 0.5 ? 0 : rand() * 8 - 2));
    const cases: [string, number[], number[]][] = [
      ['all finite', [], []],
      ['leading NaN and Inf', [0, 1], [Number.NaN, Number.NEGATIVE_INFINITY]],
      ['NaN in the middle of a block', [4096 + 17], [Number.NaN]],
      ['Inf first and last of a block', [8192, 12287], [Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]],
      ['+Inf and -Inf in one block', [100, 200], [Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]],
      ['the odd last element', [n - 1], [Number.NaN]],
    ];
    for (const [label, at, values] of cases) {
      const data = base.slice();
      at.forEach((i, k) => {
        data[i] = values[k]!;
      });
      const fast = tensorStats(data);
      const generic = tensorStats(Float64Array.from(data));
      const { mean, std, ...exact } = fast;
      const { mean: gMean, std: gStd, ...gExact } = generic;
      expect(exact, label).toEqual(gExact);
      expect(Math.abs(mean! - gMean!), label).toBeLessThan(1e-12);
      expect(Math.abs(std! / gStd! - 1), label).toBeLessThan(1e-12);
    }
    expect(tensorStats(new Float32Array(5000).fill(Number.NaN))).toMatchObject({ nan: 5000, min: null });
  });

  it('handles int64 and empty tensors', () => {
    expect(tensorStats(BigInt64Array.from([1n, -3n, 0n]))).toMatchObject({ min: -3, max: 1, zero: 1 });
    expect(tensorStats(new Float32Array(0))).toMatchObject({ count: 0, min: null, mean: null });
  });

  it('widens float16 and bfloat16 bit patterns', () => {
    expect([...widenHalf(Uint16Array.from([0x3c00, 0xc000, 0x7c00, 0x7e00, 0x0001]), 'float16')]).toEqual([
      1,
      -2,
      Number.POSITIVE_INFINITY,
      Number.NaN,
      2 ** -24,
    ]);
    expect([...widenHalf(Uint16Array.from([0x3f80, 0xff80]), 'bfloat16')]).toEqual([
      1,
      Number.NEGATIVE_INFINITY,
    ]);
  });

  it('encodes tensor bytes losslessly', () => {
    const data = Float32Array.from([1.5, Number.NaN, Number.NEGATIVE_INFINITY, -0]);
    const back = decodeTensorData(encodeTensorData(data), 'float32') as Float32Array;
    expect([...back]).toEqual([...data]);
    expect(Object.is(back[3], -0)).toBe(true);
  });
});

describe('diffTensors', () => {
  it('fails an element only when both atol and rtol are exceeded', () => {
    // |d| = 0.01: rtol 1e-2 × |100| = 1 covers it; atol 1e-5 does not.
    expect(diffTensors([100], [100.01], false, { rtol: 1e-2, atol: 1e-5 }).mismatches).toBe(0);
    expect(diffTensors([0.1], [0.11], false, { rtol: 1e-5, atol: 1e-5 }).mismatches).toBe(1);
    expect(diffTensors([0.1], [0.11], false, { rtol: 1e-5, atol: 0.02 }).mismatches).toBe(0);
  });

  it('compares integers exactly and infinities by sign', () => {
    expect(
      diffTensors(Int32Array.from([1, 2]), Int32Array.from([1, 3]), true, { atol: 10, rtol: 10 }).mismatches,
    ).toBe(1);
    expect(diffTensors([Number.POSITIVE_INFINITY], [Number.POSITIVE_INFINITY], false).mismatches).toBe(0);
    expect(diffTensors([Number.POSITIVE_INFINITY], [Number.NEGATIVE_INFINITY], false).mismatches).toBe(1);
  });
});
