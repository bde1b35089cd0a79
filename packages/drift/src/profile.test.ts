import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DriftError } from './errors.js';
import { createProfileBuilder, mergeProfiles, profile, valueShare } from './profile.js';
import type { FieldProfile, Profile } from './profile-schema.js';
import { sketchToSample } from './sketch.js';
import { quantiles, sampleFrom } from './stats/sample.js';

const value = fc.oneof(
  { weight: 6, arbitrary: fc.double({ min: -1e6, max: 1e6, noNaN: true }) },
  { weight: 3, arbitrary: fc.integer({ min: -5, max: 5 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      Number.NaN,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
      null,
      undefined,
    ),
  },
  { weight: 2, arbitrary: fc.constantFrom('card', 'cash', 'wire', 'bnpl', '') },
  { weight: 1, arbitrary: fc.boolean() },
);
const row = fc.record(
  { x: value, y: fc.double({ min: 0, max: 100, noNaN: true }), s: fc.constantFrom('a', 'bb', 'ccc') },
  { requiredKeys: [] },
);
const rows = fc.array(row, { maxLength: 60 });

/** Compares everything exactly except mean/M2, which must agree to floating-point rounding. */
function expectSameProfile(a: Profile, b: Profile): void {
  expect(a.rowCount).toBe(b.rowCount);
  expect(Object.keys(a.fields).sort()).toEqual(Object.keys(b.fields).sort());
  for (const name of Object.keys(a.fields)) {
    const fa = a.fields[name]!;
    const fb = b.fields[name]!;
    const strip = (f: FieldProfile) => ({
      ...f,
      numeric: f.numeric && {
        ...f.numeric,
        moments: f.numeric.moments.count,
        histogram: f.numeric.histogram.counts,
      },
      stringLength: f.stringLength && { ...f.stringLength, moments: f.stringLength.moments.count },
    });
    expect(strip(fa)).toEqual(strip(fb));
    for (const key of ['numeric', 'stringLength'] as const) {
      const ma = fa[key]?.moments;
      const mb = fb[key]?.moments;
      if (!ma || !mb) continue;
      expect(Math.abs(ma.mean - mb.mean)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(mb.mean)));
      expect(Math.abs(ma.m2 - mb.m2)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(mb.m2)));
    }
  }
}

// Small thresholds so the properties exercise the bucketed sketch and category pruning too.
for (const settings of [{}, { exactThreshold: 8 }]) {
  describe(`mergeProfiles ${JSON.stringify(settings)}`, () => {
    it('is commutative and associative, and equals profiling all rows at once', () => {
      fc.assert(
        fc.property(rows, rows, rows, (a, b, c) => {
          const pa = profile(a, settings);
          const pb = profile(b, settings);
          const pc = profile(c, settings);
          const ab = mergeProfiles(pa, pb);
          expect(ab).toEqual(mergeProfiles(pb, pa));
          expectSameProfile(mergeProfiles(ab, pc), mergeProfiles(pa, mergeProfiles(pb, pc)));
          expectSameProfile(mergeProfiles(ab, pc), profile([...a, ...b, ...c], settings));
        }),
        { numRuns: 150, seed: 42 },
      );
    });
  });
}

describe('profile', () => {
  it('counts nulls, missing, NaN, infinities and types per field', () => {
    const p = profile([
      { x: 1, s: 'a' },
      { x: null, s: 'bb' },
      { x: Number.NaN },
      { x: Number.POSITIVE_INFINITY, s: true },
      { x: Number.NEGATIVE_INFINITY, s: 'a' },
      { x: 3n, s: new Date(0) },
    ]);
    const x = p.fields.x!;
    expect(x).toMatchObject({ missing: 0, nulls: 1, nan: 1, positiveInfinity: 1, negativeInfinity: 1 });
    expect(x.types.number).toBe(5);
    expect(x.numeric!.moments).toEqual({ count: 2, mean: 2, m2: 2 });
    expect([x.numeric!.min, x.numeric!.max]).toEqual([1, 3]);
    const s = p.fields.s!;
    expect(s.missing).toBe(1);
    expect(s.types).toEqual({ number: 0, string: 3, boolean: 1, date: 1, other: 0 });
    expect(s.categorical!.counts).toEqual({ a: 2, bb: 1, true: 1 });
    expect(s.stringLength).toMatchObject({ min: 1, max: 2 });
  });

  it('addColumns with typed arrays equals row-by-row add', () => {
    const xs = Float64Array.from(
      { length: 20_000 },
      (_, i) => Math.sin(i) * 1000 + (i % 7 === 0 ? Number.NaN : 0),
    );
    const fast = createProfileBuilder().addColumns({ x: xs }).toJSON();
    const slow = profile(Array.from(xs, (x) => ({ x })));
    expectSameProfile(fast, slow);
    expect(fast.fields.x!.numeric!.sketch.mode).toBe('buckets');
  });

  it('addColumns of small integers (counted in a dense array) equals row-by-row add, across the exact threshold', () => {
    // Small non-negative integers (and -0) mixed with large, negative, fractional and non-finite values.
    const mixed = Float64Array.from({ length: 30_000 }, (_, i) =>
      i % 11 === 0
        ? -0
        : i % 13 === 0
          ? 70_000 + (i % 5)
          : i % 17 === 0
            ? -3
            : i % 19 === 0
              ? 2.5
              : i % 23 === 0
                ? Number.NaN
                : i % 500,
    );
    const exact = createProfileBuilder().addColumns({ x: mixed }).toJSON();
    expectSameProfile(exact, profile(Array.from(mixed, (x) => ({ x }))));
    expect(exact.fields.x!.numeric!.sketch.mode).toBe('exact');
    // exactThreshold distinct small integers stay exact, one more switches to buckets, over
    // several calls, as row by row.
    for (const distinct of [4096, 4097]) {
      const many = Float64Array.from({ length: 12_000 }, (_, i) => (i * 7) % distinct);
      const b = createProfileBuilder({ exactThreshold: 4096 });
      for (let i = 0; i < many.length; i += 1000) b.addColumns({ x: many.subarray(i, i + 1000) });
      const fast = b.toJSON();
      expectSameProfile(
        fast,
        profile(
          Array.from(many, (x) => ({ x })),
          { exactThreshold: 4096 },
        ),
      );
      expect(fast.fields.x!.numeric!.sketch.mode).toBe(distinct > 4096 ? 'buckets' : 'exact');
    }
  });

  it('addColumns with dates (epoch ms) equals row-by-row add of Date values', () => {
    const day = 86_400_000;
    const ms = Float64Array.from({ length: 500 }, (_, i) => Date.UTC(2020, 0, 1) + i * day);
    const withNull = Array.from(ms, (x, i) => (i === 3 ? null : x));
    const fast = createProfileBuilder()
      .addColumns({ d: ms, e: withNull, n: ms }, { dates: ['d', 'e'] })
      .toJSON();
    const slow = profile(
      Array.from(ms, (x, i) => ({ d: new Date(x), e: i === 3 ? null : new Date(x), n: x })),
    );
    expectSameProfile(fast, slow);
    expect(fast.fields.d!.types).toMatchObject({ date: 500, number: 0 });
    expect(fast.fields.n!.types).toMatchObject({ date: 0, number: 500 });
  });

  it('stays bounded in size whatever the row count', () => {
    const b = createProfileBuilder();
    let seed = 7;
    const rand = () => {
      seed = (seed * 16807) % 2147483647;
      return seed / 2147483647;
    };
    const sizes: number[] = [];
    for (let round = 0; round < 4; round++) {
      const xs = Float64Array.from(
        { length: 50_000 },
        () => Math.exp(rand() * 40 - 20) * (rand() < 0.5 ? -1 : 1),
      );
      const cats = Array.from({ length: 50_000 }, () => `user-${Math.floor(rand() * 1e6)}`);
      b.addColumns({ x: xs, id: cats });
      sizes.push(JSON.stringify(b.toJSON()).length);
    }
    const p = b.toJSON();
    expect(Object.keys(p.fields.id!.categorical!.counts).length).toBe(1000);
    expect(p.fields.id!.categorical!.total).toBe(200_000);
    expect(sizes[3]! - sizes[0]!).toBeLessThan(0.1 * sizes[0]!);
    expect(sizes[3]).toBeLessThan(200_000);
  });

  it('bucketed sketch quantiles are within the relative accuracy of the true quantiles', () => {
    const xs = Float64Array.from({ length: 30_000 }, (_, i) => Math.exp(Math.sin(i * 12.9898) * 8));
    const p = createProfileBuilder({ exactThreshold: 16 }).addColumns({ x: xs }).toJSON();
    const sketch = p.fields.x!.numeric!.sketch;
    const qs = [0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99];
    const approx = quantiles(sketchToSample(sketch, p.settings.relativeAccuracy), qs);
    const exact = quantiles(sampleFrom(xs), qs);
    qs.forEach((_, i) => {
      expect(Math.abs(approx[i]! - exact[i]!) / exact[i]!).toBeLessThanOrEqual(0.0101);
    });
  });

  it('rejects merging profiles built with different settings, naming the setting', () => {
    const a = profile([{ x: 1 }]);
    const b = profile([{ x: 1 }], { relativeAccuracy: 0.02 });
    expect(() => mergeProfiles(a, b)).toThrow(/settings\.relativeAccuracy/);
    expect(() => mergeProfiles(a, { ...b, schemaVersion: 9 } as unknown as Profile)).toThrow(DriftError);
  });

  it('rejects a row that is not an object', () => {
    expect(() => profile([1 as unknown as Record<string, unknown>])).toThrow(
      /row 0: expected a plain object/,
    );
  });

  it("valueShare: a value's share of the profiled values when the profile holds it exactly", () => {
    const p = profile(
      Array.from({ length: 100 }, (_, i) => ({ n: i % 4, s: i % 5 === 0 ? 'a' : 'b', x: i + 0.5 })),
    );
    expect(valueShare(p.fields.n!, 0)).toBe(0.25);
    expect(valueShare(p.fields.n!, 7)).toBe(0);
    expect(valueShare(p.fields.s!, 'a')).toBe(0.2);
    expect(valueShare(p.fields.s!, 'zzz')).toBe(0);
    // A type the field does not hold, a bucketed sketch, a category folded into "other": unknown.
    expect(valueShare(p.fields.n!, 'a')).toBeNull();
    const wide = profile(
      Array.from({ length: 50 }, (_, i) => ({ x: i })),
      { exactThreshold: 10 },
    );
    expect(valueShare(wide.fields.x!, 3)).toBeNull();
    const few = profile(
      ['c', 'c', 'a', 'b'].map((s) => ({ s })),
      { maxCategories: 1 },
    );
    expect(valueShare(few.fields.s!, 'c')).toBe(0.5);
    expect(valueShare(few.fields.s!, 'a')).toBeNull();
  });
});
