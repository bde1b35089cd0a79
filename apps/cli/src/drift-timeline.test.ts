import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { profile } from '@prodprobe/drift';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type DriftTimeline,
  driftTimeline,
  formatWindow,
  parseWindow,
  renderTimelineHtml,
  renderTimelineText,
  TimeWindows,
} from './drift-timeline.js';
import { chromiumAvailable, inChromium } from './test-browser.js';

const work = mkdtempSync(join(tmpdir(), 'cli-timeline-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

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

/** Four hours of 400 requests: a one-hour blip of drift, an hour back to normal, then a drift that stays. */
function blipTimeline(): DriftTimeline {
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
  return driftTimeline(reference, windows, { reference: 'ref', current: 'logs', source: 'test rows' });
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
    const t = blipTimeline();
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

  it.skipIf(!chromiumAvailable)(
    'the HTML timeline renders in headless Chromium: one bar per window, drift in red',
    async () => {
      const file = join(work, 'timeline.html');
      writeFileSync(file, renderTimelineHtml(blipTimeline()));
      const errors = await inChromium(file, async (page) => {
        expect(await page.title()).toBe('prodprobe drift timeline');
        const fills = await page.$$eval('#chart svg rect', (els) => els.map((e) => e.getAttribute('fill')));
        expect(fills).toEqual(['#e45756', '#4c78a8', '#e45756', '#e45756']);
        expect(await page.textContent('#summary')).toContain(
          'dataset drift in every window since 2026-01-05 02:00',
        );
        const rows = await page.$$eval('#windows tbody tr', (els) => els.map((e) => e.textContent));
        expect(rows).toHaveLength(4);
        expect(rows[2]).toContain('unseen_categories');
      });
      expect(errors).toEqual([]);
    },
  );
});
