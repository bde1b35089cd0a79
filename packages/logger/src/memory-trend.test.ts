import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPredictionLogger } from './logger.js';
import { memoryTrend } from './query.js';

const root = mkdtempSync(join(tmpdir(), 'pp-memory-trend-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/**
 * Three processes of 400 requests each: "warming" gains 40 MB over its first 150 requests (a
 * runtime filling its pools and compiling its code) and then stays flat; "leaking" gains 100 KiB
 * every request to the end; "crashing" climbs the same way and stops halfway, as one killed by
 * its heap limit does; "short" climbs the same way for only 40 requests.
 */
beforeAll(async () => {
  const rss: Record<string, (i: number) => number> = {
    warming: (i) => 120e6 + 40e6 * Math.min(1, i / 150) + ((i * 7919) % 13) * 1000,
    leaking: (i) => 120e6 + i * 102_400,
    crashing: (i) => 120e6 + i * 102_400,
    // A short run still climbing: 4 MB in 40 requests, as steady as a leak, too little to tell.
    short: (i) => 120e6 + i * 102_400,
  };
  for (const [host, at] of Object.entries(rss)) {
    let i = 0;
    const logger = createPredictionLogger({
      dir: root,
      sampleRate: 1,
      modelVersion: 'v1',
      host,
      pid: 1,
      now: () => Date.UTC(2024, 4, 1, 10) + i * 100,
      memorySampleIntervalMs: 0,
      memoryUsage: () => ({ rss: at(i), heapUsed: 50e6 }),
    });
    const n = host === 'crashing' ? 200 : host === 'short' ? 40 : 400;
    for (i = 0; i < n; i++) logger.log({ requestId: `${host}-${i}`, input: { x: i }, output: { y: 1 } });
    await logger.close();
  }
});

describe('memoryTrend', () => {
  it('a warm-up that levels off is not a leak; growth to the end is', async () => {
    const trend = await memoryTrend(root);
    const by = new Map(trend.processes.map((p) => [p.host, p]));
    const warming = by.get('warming')!;
    // Over the whole run the fit alone would call it a leak: 40 MB in 400 requests, R² well over 0.5.
    expect(warming.rssSlopePer1k!).toBeGreaterThan(256 * 1024);
    expect(warming.r2!).toBeGreaterThan(0.5);
    expect(Math.abs(warming.lateRssSlopePer1k!)).toBeLessThan(256 * 1024);
    expect(warming.verdict).toBe('stable');
    for (const host of ['leaking', 'crashing']) {
      const p = by.get(host)!;
      expect(p.verdict, host).toBe('leak');
      expect(p.lateRssSlopePer1k!, host).toBeCloseTo(102_400 * 1000, -4);
    }
    expect(trend.verdict).toBe('leak');
  });

  it('a steady climb of less than minGrowthBytes is insufficient data, not a leak', async () => {
    const trend = await memoryTrend(root);
    const short = trend.processes.find((p) => p.host === 'short')!;
    expect(short.rssSlopePer1k!).toBeGreaterThan(256 * 1024);
    expect(short.r2!).toBeGreaterThan(0.9);
    expect(short.verdict).toBe('insufficient-data');
    expect(trend.thresholds.minGrowthBytes).toBe(8 * 1024 * 1024);
    const lower = await memoryTrend(root, { minGrowthBytes: 2 * 1024 * 1024 });
    expect(lower.processes.find((p) => p.host === 'short')!.verdict).toBe('leak');
  });
});
