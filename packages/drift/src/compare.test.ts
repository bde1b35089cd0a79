import { describe, expect, it } from 'vitest';
import { benjaminiHochberg, compare } from './compare.js';
import { profile } from './profile.js';
import { driftReportSchema } from './report-schema.js';

function rng(seed: number) {
  let s = seed;
  return () => {
    s = (s * 16807) % 2147483647;
    return s / 2147483647;
  };
}
const normal = (r: () => number) => Math.sqrt(-2 * Math.log(r())) * Math.cos(2 * Math.PI * r());

function dataset(n: number, seed: number, shift = 0, methods = ['card', 'cash', 'wire']) {
  const r = rng(seed);
  return Array.from({ length: n }, (_, i) => ({
    amount: 100 + 20 * normal(r) + shift,
    age: Math.round(40 + 10 * normal(r)),
    method: methods[Math.floor(r() * methods.length)]!,
    constant: 1,
    id: i,
  }));
}

describe('compare', () => {
  it('leaves date fields untested by default (time moves on), naming both ranges; compareDates tests them as dates', () => {
    const day = 86_400_000;
    const withDates = (n: number, seed: number, start: number, shift = 0) =>
      dataset(n, seed, shift).map((row, i) => ({ ...row, date: new Date(start + i * day) }));
    const ref = withDates(400, 11, Date.UTC(2012, 0, 1));
    const cur = withDates(400, 12, Date.UTC(2014, 0, 1));
    const report = compare(ref, cur);
    expect(driftReportSchema.parse(report)).toEqual(report);
    const date = report.fields.find((f) => f.name === 'date')!;
    expect(date.status).toBe('skipped');
    expect(date.drift).toBe(false);
    expect(date.reason).toContain('reference 2012-01-01 to 2013-02-03, current 2014-01-01 to 2015-02-04');
    expect(date.warnings).toEqual([]);
    expect(date.reference!.min).toBe(Date.UTC(2012, 0, 1));
    expect(date.chart?.kind).toBe('histogram');
    // Only the other fields count toward the verdict: none of them moved.
    expect(report.driftedFields).toEqual([]);
    expect(report.datasetDrift).toBe(false);

    const tested = compare(ref, cur, { compareDates: true });
    const d = tested.fields.find((f) => f.name === 'date')!;
    expect(d.status).toBe('ok');
    expect(d.drift).toBe(true);
    expect(tested.driftedFields).toEqual(['date']);
    const messages = d.warnings.map((w) => w.message).join('\n');
    expect(messages).toContain(
      'outside the reference range [2012-01-01, 2013-02-03] (current [2014-01-01, 2015-02-04])',
    );
    expect(messages).toContain(
      'mean moved from 2012-07-18T12:00:00.000Z to 2014-07-19T12:00:00.000Z, more than one reference std (116 days)',
    );
    expect(() => compare(ref, cur, { compareDates: 'yes' as unknown as boolean })).toThrow(/compareDates/);
  });

  it('does not call the sampling noise of a small current window drift (large reference, effect sizes)', () => {
    // A large reference is judged by effect sizes, and a 150-row window of the same distribution
    // has Jensen-Shannon distances around the 0.1 threshold: an effect counts only when significant.
    const windowOf = (n: number, seed: number, shift = 0) => {
      const r = rng(seed);
      return Array.from({ length: n }, () => ({
        hour: Math.floor(r() * 24),
        amount: Math.exp(4 + 0.9 * normal(r)) + shift,
        category: ['a', 'b', 'c', 'd', 'e', 'f'][Math.floor(r() * 6)]!,
      }));
    };
    const reference = profile(windowOf(5000, 1));
    let flagged = 0;
    let effectOverThreshold = 0;
    for (let w = 0; w < 40; w++) {
      const report = compare(reference, windowOf(150, 100 + w));
      flagged += report.driftedFields.length;
      effectOverThreshold += report.fields.filter((f) => f.score >= 1).length;
    }
    // Without the significance check these windows would have been flagged that often.
    expect(effectOverThreshold).toBeGreaterThan(20);
    // 40 windows x 3 unchanged fields at a 5% level.
    expect(flagged).toBeLessThanOrEqual(8);
    // A real shift in a window that small is still found, by effect size.
    const shifted = compare(reference, windowOf(150, 7, 60)).fields.find((f) => f.name === 'amount')!;
    expect(shifted.drift).toBe(true);
    expect(shifted.decidedBy).toBe('effect-size');
    expect(shifted.severity).toBe('high');
  });

  it('reads ISO date strings in rows (JSON has no date type) as dates, not as categories', () => {
    const day = 86_400_000;
    // Rows as a JSON API or log file gives them: the dates arrive as strings.
    const rows = (n: number, seed: number, start: number) =>
      JSON.parse(
        JSON.stringify(dataset(n, seed).map((row, i) => ({ ...row, created: new Date(start + i * day) }))),
      ) as Record<string, unknown>[];
    const ref = rows(400, 11, Date.UTC(2012, 0, 1));
    const cur = rows(400, 12, Date.UTC(2014, 0, 1));
    expect(typeof ref[0]!.created).toBe('string');
    const created = compare(ref, cur).fields.find((f) => f.name === 'created')!;
    // Before: 400 unseen categories and a high drift that counted toward the verdict.
    expect(created.status).toBe('skipped');
    expect(created.reason).toContain('reference 2012-01-01 to 2013-02-03, current 2014-01-01 to 2015-02-04');
    const tested = compare(ref, cur, { compareDates: true }).fields.find((f) => f.name === 'created')!;
    expect(tested.kind).toBe('numeric');
    expect(tested.drift).toBe(true);
    // A skipped field ran no test: its bucketed sketch (5,000 distinct dates) does not make the
    // report approximate; tested, it does.
    const many = (start: number) =>
      profile(Array.from({ length: 5000 }, (_, i) => ({ at: new Date(start + i * 60_000), n: i % 7 })));
    expect(compare(many(0), many(day)).approximate).toBe(false);
    expect(compare(many(0), many(day), { compareDates: true }).approximate).toBe(true);
    // A date-like category (a quarter label) stays a category.
    const quarters = (q: string) => Array.from({ length: 50 }, () => ({ quarter: q }));
    const q = compare(quarters('2024-Q1'), quarters('2024-Q2')).fields[0]!;
    expect(q.kind).toBe('categorical');
    expect(q.drift).toBe(true);
  });

  it('finds a shifted numeric field and unseen categories with the exact field names of the contract', () => {
    const ref = dataset(500, 1);
    const cur = dataset(400, 2, 30, ['card', 'cash', 'wire', 'buy_now_pay_later']);
    const report = compare(ref, cur);
    expect(driftReportSchema.parse(report)).toEqual(report);
    const amount = report.fields.find((f) => f.name === 'amount')!;
    expect(amount.status).toBe('ok');
    expect(amount.drift).toBe(true);
    expect(amount.decidedBy).toBe('p-value');
    expect(amount.tests.ks!.pValue).toBeLessThan(1e-10);
    expect(amount.tests.wasserstein!.normalized).toBeGreaterThan(1);
    expect(amount.warnings.map((w) => w.code)).toEqual(
      expect.arrayContaining(['mean_shift', 'out_of_range']),
    );
    const method = report.fields.find((f) => f.name === 'method')!;
    expect(method.tests.chiSquare!.df).toBe(3);
    const unseen = method.warnings.find((w) => w.code === 'unseen_categories')!;
    expect(unseen.values).toEqual(['buy_now_pay_later']);
    expect(method.explanation.newCategoryMass).toBeGreaterThan(0.15);
    expect(method.explanation.movedCategories[0]!.value).toBe('buy_now_pay_later');
    expect(report.fields[0]!.drift).toBe(true);
    const age = report.fields.find((f) => f.name === 'age')!;
    expect(age.drift).toBe(false);
    const constant = report.fields.find((f) => f.name === 'constant')!;
    expect(constant.warnings.map((w) => w.code)).toContain('constant_in_reference');
    expect(report.driftedShare).toBeCloseTo(
      report.driftedFields.length / report.fields.filter((f) => f.status === 'ok').length,
    );
    expect(report.approximate).toBe(false);
  });

  it('uses effect sizes for large references and reports p-values beside them', () => {
    const ref = dataset(3000, 3);
    const cur = dataset(3000, 4, 1); // a tiny shift: significant-ish but no practical drift
    const report = compare(ref, cur);
    const amount = report.fields.find((f) => f.name === 'amount')!;
    expect(amount.decidedBy).toBe('effect-size');
    expect(amount.drift).toBe(false);
    expect(amount.tests.ks!.pValue).toBeGreaterThan(0);
    expect(report.datasetDrift).toBe(false);
  });

  it('runs on profiles, flags approximate tests and agrees with the exact tests', () => {
    const ref = dataset(20_000, 5);
    const cur = dataset(20_000, 6, 5);
    const exact = compare(ref, cur);
    const approx = compare(profile(ref), profile(cur));
    expect(approx.approximate).toBe(true);
    expect(approx.reference.source).toBe('profile');
    const e = exact.fields.find((f) => f.name === 'amount')!;
    const a = approx.fields.find((f) => f.name === 'amount')!;
    expect(a.approximate).toBe(true);
    expect(Math.abs(a.tests.ks!.statistic - e.tests.ks!.statistic)).toBeLessThan(0.01);
    expect(
      Math.abs(a.tests.wasserstein!.value - e.tests.wasserstein!.value) / e.tests.wasserstein!.value,
    ).toBeLessThan(0.02);
    expect(Math.abs(a.tests.psi!.value - e.tests.psi!.value)).toBeLessThan(0.02);
    // Low-cardinality fields stay exact in the sketch.
    const age = approx.fields.find((f) => f.name === 'age')!;
    expect(age.approximate).toBe(false);
    expect(age.tests.ks).toEqual(exact.fields.find((f) => f.name === 'age')!.tests.ks);
  });

  it('never fails the report for a bad field and explains why', () => {
    const ref = [
      { a: 1, mixed: 1, nothing: null, gone: 1, t: 1 },
      { a: 2, mixed: 'x', nothing: null, gone: 2, t: 2 },
      { a: 3, mixed: true, nothing: null, gone: 3, t: 3 },
    ];
    const cur = [
      { a: null, mixed: 1, nothing: null, t: 'one', added: 1 },
      { a: Number.NaN, mixed: 2, nothing: null, t: 'two', added: 2 },
    ];
    const report = compare(ref, cur);
    const byName = Object.fromEntries(report.fields.map((f) => [f.name, f]));
    expect(byName.a!.status).toBe('skipped');
    expect(byName.a!.warnings.map((w) => w.code)).toContain('new_nulls');
    expect(byName.mixed!.reason).toMatch(/mixed types/);
    expect(byName.nothing!.reason).toMatch(/only null/);
    expect(byName.gone!.warnings[0]!.code).toBe('field_missing');
    expect(byName.added!.warnings[0]!.code).toBe('field_added');
    expect(byName.t!.warnings.map((w) => w.code)).toContain('type_changed');
    expect(report.fields.every((f) => f.status !== 'ok' || f.tests)).toBe(true);
  });

  it('applies Benjamini-Hochberg', () => {
    // By hand: sorted 0.01, 0.03, 0.04, 0.2 -> 0.04, min(0.06, 0.0533), 0.0533, 0.2.
    const bh = benjaminiHochberg([0.01, 0.04, 0.03, 0.2]);
    const expected = [0.04, 0.16 / 3, 0.16 / 3, 0.2];
    for (let i = 0; i < expected.length; i++) expect(bh[i]).toBeCloseTo(expected[i]!, 12);
    const report = compare(dataset(200, 7), dataset(200, 8), { multipleTesting: 'none' });
    const f = report.fields.find((x) => x.name === 'amount')!;
    expect(f.adjustedPValue).toBe(f.tests.ks!.pValue);
  });

  it('rejects bad options with a message naming the option', () => {
    expect(() => compare([], [], { psiBins: 1 })).toThrow(/options\.psiBins/);
    expect(() => compare([], [], { pValueThreshold: -1 })).toThrow(/options\.pValueThreshold/);
  });

  it('refuses an empty side (EMPTY_SAMPLE) instead of reporting no drift over nothing', () => {
    const rows = dataset(100, 1);
    expect(() => compare(rows, [])).toThrow(
      expect.objectContaining({
        code: 'EMPTY_SAMPLE',
        message: 'current: no rows, so there is nothing to compare',
      }),
    );
    expect(() => compare(profile([]), rows)).toThrow(
      expect.objectContaining({
        code: 'EMPTY_SAMPLE',
        message: expect.stringMatching(/^reference: no rows/),
      }),
    );
    expect(compare(rows, rows.slice(0, 1)).current.rows).toBe(1);
  });
});
