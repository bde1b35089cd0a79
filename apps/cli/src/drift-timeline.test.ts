import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTimelineBuilder, driftTimeline } from '@prodprobe/drift';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type CliTimeline,
  formatWindow,
  parseWindow,
  renderTimelineHtml,
  renderTimelineText,
} from './drift-timeline.js';
import { chromiumAvailable, inChromium } from './test-browser.js';

const work = mkdtempSync(join(tmpdir(), 'cli-timeline-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Three hours: normal, a new payment method with higher amounts, then that again. */
function timeline(): CliTimeline {
  const hour = 3_600_000;
  const t0 = Date.UTC(2026, 0, 5, 0);
  const row = (i: number, shifted: boolean) => ({
    amount: (shifted ? 160 : 100) + (i % 41),
    method: shifted && i % 3 === 0 ? 'voucher' : i % 2 ? 'card' : 'cash',
  });
  const windows = createTimelineBuilder(hour);
  for (let h = 0; h < 3; h++)
    for (let i = 0; i < 300; i++) windows.add(row(i, h > 0), t0 + h * hour + i * 1000);
  windows.add(row(0, false), Number.NaN);
  const reference = Array.from({ length: 1000 }, (_, i) => row(i, false));
  return { ...driftTimeline(reference, windows), reference: 'ref.csv', current: 'logs', source: 'test rows' };
}

describe('drift timeline output', () => {
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

  it('the text says since when the drift lasts, and which rows were left out', () => {
    const text = renderTimelineText(timeline(), false);
    expect(text).toContain('drift of logs vs ref.csv, 1h windows (UTC)');
    expect(text).toMatch(/2026-01-05 00:00 +300 +0\/2 +-\n/);
    expect(text).toContain('dataset drift in every window since 2026-01-05 01:00 (2 of 3)');
    expect(text).toContain('first window with a drifted field: 2026-01-05 01:00 (');
    expect(text).toContain('1 logged rows without a readable time left out');
  });

  it.skipIf(!chromiumAvailable)(
    'the HTML timeline renders in headless Chromium: one bar per window, drift in red',
    async () => {
      const file = join(work, 'timeline.html');
      writeFileSync(file, renderTimelineHtml(timeline()));
      const errors = await inChromium(file, async (page) => {
        expect(await page.title()).toBe('prodprobe drift timeline');
        const fills = await page.$$eval('#chart svg rect', (els) => els.map((e) => e.getAttribute('fill')));
        expect(fills).toEqual(['#4c78a8', '#e45756', '#e45756']);
        expect(await page.textContent('#summary')).toContain(
          'dataset drift in every window since 2026-01-05 01:00',
        );
        const rows = await page.$$eval('#windows tbody tr', (els) => els.map((e) => e.textContent));
        expect(rows).toHaveLength(3);
        expect(rows[1]).toContain('unseen_categories');
      });
      expect(errors).toEqual([]);
    },
  );
});
