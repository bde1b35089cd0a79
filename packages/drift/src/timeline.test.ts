import { describe, expect, it } from 'vitest';
import { DriftError } from './errors.js';
import { profile } from './profile.js';
import { createTimelineBuilder, driftTimeline } from './timeline.js';

/** n rows of a seeded normal-ish amount around `mean`, and a method drawn from `methods`. */
function rows(n: number, seed: number, mean: number, methods: string[]) {
  let s = seed;
  const r = () => {
    s = (s * 16807) % 2147483647;
    return s / 2147483647;
  };
  return Array.from({ length: n }, () => ({
    amount: mean + 10 * (r() + r() + r() - 1.5),
    method: methods[Math.floor(r() * methods.length)]!,
  }));
}

const hour = 3_600_000;
const t0 = Date.UTC(2026, 0, 5, 0);

describe('driftTimeline', () => {
  it('a one-window blip is the first drift, but the ongoing drift is dated from where it stays', () => {
    const reference = rows(2000, 1, 100, ['card', 'cash']);
    const timeline = createTimelineBuilder(hour);
    const traffic = [
      rows(400, 2, 130, ['card', 'cash', 'voucher']), // 00:00 a blip
      rows(400, 3, 100, ['card', 'cash']), // 01:00 back to normal
      rows(400, 4, 130, ['card', 'cash', 'voucher']), // 02:00 the drift that stays
      rows(400, 5, 130, ['card', 'cash', 'voucher']), // 03:00
    ];
    // Out of order, and as numbers or Dates: windows are by time, not by arrival.
    for (const h of [3, 1, 0, 2]) {
      for (const [i, row] of traffic[h]!.entries())
        timeline.add(row, i % 2 ? t0 + h * hour + i * 1000 : new Date(t0 + h * hour + i * 1000));
    }
    timeline.add({ amount: 1, method: 'card' }, Number.NaN);
    timeline.add({ amount: 1, method: 'card' }, new Date('not a date'));

    // A rows reference gives what its profile gives.
    const t = driftTimeline(reference, timeline);
    expect(driftTimeline(profile(reference), timeline)).toEqual(t);
    expect(t.windows.map((w) => [w.start, w.end.slice(11, 16), w.rows, w.datasetDrift])).toEqual([
      ['2026-01-05T00:00:00.000Z', '01:00', 400, true],
      ['2026-01-05T01:00:00.000Z', '02:00', 400, false],
      ['2026-01-05T02:00:00.000Z', '03:00', 400, true],
      ['2026-01-05T03:00:00.000Z', '04:00', 400, true],
    ]);
    expect(t.windows[1]!.drifted).toEqual([]);
    expect(t.windows[0]!.compared).toBe(2);
    expect(t.windows[0]!.drifted.find((d) => d.name === 'method')?.warnings).toContain('unseen_categories');
    expect(t.firstDatasetDrift).toBe('2026-01-05T00:00:00.000Z');
    expect(t.firstFieldDrift?.start).toBe('2026-01-05T00:00:00.000Z');
    expect(t.datasetDriftSince).toBe('2026-01-05T02:00:00.000Z');
    expect(t.undated).toBe(2);

    // Compare options reach every window.
    const amountOnly = driftTimeline(reference, timeline, { fields: ['amount'] });
    expect(amountOnly.windows.every((w) => w.compared === 1)).toBe(true);
  });

  it('no drift still going on: no since date; bounds and bad options are DriftErrors', () => {
    const timeline = createTimelineBuilder(hour, { maxWindows: 2 });
    for (const [i, row] of rows(300, 7, 130, ['card']).entries()) timeline.add(row, t0 + i);
    for (const [i, row] of rows(300, 8, 100, ['card', 'cash']).entries()) timeline.add(row, t0 + hour + i);
    const t = driftTimeline(rows(1000, 9, 100, ['card', 'cash']), timeline);
    expect(t.windows.map((w) => w.datasetDrift)).toEqual([true, false]);
    expect(t.datasetDriftSince).toBeNull();
    expect(() => timeline.add({ amount: 1 }, t0 + 2 * hour)).toThrow(DriftError);
    expect(() => timeline.add({ amount: 1 }, t0 + 2 * hour)).toThrow('more than 2 windows');
    expect(() => createTimelineBuilder(0)).toThrow('windowMs: expected a number of milliseconds >= 1');
    expect(() => createTimelineBuilder(hour, { maxWindows: 0 })).toThrow('maxWindows');
  });
});
