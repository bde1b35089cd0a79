import { profile } from '@prodprobe/drift';
import { describe, expect, it } from 'vitest';
import {
  driftTimeline,
  formatWindow,
  parseWindow,
  renderTimelineText,
  TimeWindows,
} from './drift-timeline.js';

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

describe('drift timeline', () => {
  it('window lengths: units, and clear errors', () => {
    expect(parseWindow('90s')).toBe(90_000);
    expect(parseWindow('15m')).toBe(900_000);
    expect(parseWindow('1.5h')).toBe(5_400_000);
    expect(parseWindow('1d')).toBe(86_400_000);
    expect(() => parseWindow('0.5s')).toThrow('at least 1s');
    expect(() => parseWindow('1w')).toThrow('--window 1w: expected a length such as 30m, 1h, 6h or 1d');
    expect(formatWindow(5_400_000)).toBe('90m');
    expect(formatWindow(86_400_000)).toBe('1d');
  });

  it('a one-window blip is the first drift, but the ongoing drift is dated from where it stays', () => {
    const reference = profile(rows(2000, 1, 100, ['card', 'cash']));
    const hour = 3_600_000;
    const t0 = Date.UTC(2026, 0, 5, 0);
    const windows = new TimeWindows(hour);
    const traffic = [
      rows(400, 2, 130, ['card', 'cash', 'voucher']), // 00:00 a blip
      rows(400, 3, 100, ['card', 'cash']), // 01:00 back to normal
      rows(400, 4, 130, ['card', 'cash', 'voucher']), // 02:00 the drift that stays
      rows(400, 5, 130, ['card', 'cash', 'voucher']), // 03:00
    ];
    traffic.forEach((hourRows, h) => {
      for (const [i, row] of hourRows.entries()) windows.add(row, t0 + h * hour + i * 1000);
    });
    windows.add({ amount: 1, method: 'card' }, Number.NaN);
    const t = driftTimeline(reference, windows, { reference: 'ref', current: 'logs', source: 'test rows' });
    expect(t.windows.map((w) => [w.start.slice(11, 16), w.rows, w.datasetDrift])).toEqual([
      ['00:00', 400, true],
      ['01:00', 400, false],
      ['02:00', 400, true],
      ['03:00', 400, true],
    ]);
    expect(t.windows[1]!.drifted).toEqual([]);
    expect(t.firstDatasetDrift).toBe('2026-01-05T00:00:00.000Z');
    expect(t.datasetDriftSince).toBe('2026-01-05T02:00:00.000Z');
    expect(t.undated).toBe(1);
    const text = renderTimelineText(t, false);
    expect(text).toContain('dataset drift in every window since 2026-01-05 02:00 (2 of 4)');
    expect(text).toContain('first window with dataset drift: 2026-01-05 00:00');
    expect(text).toContain('1 logged rows without a readable time left out');
  });
});
