import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPredictionLogger } from './logger.js';
import { memoryTrend, queryLogs, resourceTrend, sourceBreakdown, stageLatency } from './query.js';
import { readPredictionLogs } from './read.js';

const root = mkdtempSync(join(tmpdir(), 'pp-logger-runtime-'));
const dir = join(root, 'logs');
afterAll(() => rmSync(root, { recursive: true, force: true }));
const START = Date.UTC(2024, 4, 1, 10, 0, 0);

/**
 * 1,000 requests through a traced three-stage pipeline. 2% are slow in `fetch` (400 ms instead of
 * 3); requests whose cache entry is version "v1" (every 10th, a cache hit) fail. Process 7 leaks
 * one handle per request; process 8 keeps 12. Process 7 stops at request 600 with its heap at 97%
 * of its limit, and process 9 takes over.
 */
beforeAll(async () => {
  let clock = START;
  let i = 0;
  const logger = (pid: number, handles: () => number, heapUsed: () => number) =>
    createPredictionLogger({
      dir,
      sampleRate: 0.5,
      modelVersion: 'v1',
      host: 'h',
      pid,
      now: () => clock,
      memorySampleIntervalMs: 0,
      memoryUsage: () => ({ rss: 200e6, heapUsed: heapUsed() }),
      resourceUsage: () => ({ handles: handles(), fds: 20 }),
    });
  const leaky = logger(
    7,
    () => 10 + i,
    () => 50e6 + i * 1e6,
  );
  const steady = logger(
    8,
    () => 12,
    () => 60e6,
  );
  const successor = logger(
    9,
    () => 11,
    () => 40e6,
  );
  for (i = 0; i < 1000; i++, clock += 100) {
    const slow = i % 50 === 7;
    const stale = i % 10 === 3;
    const stages = { validate: 0.1, fetch: slow ? 400 : 3, score: 2 };
    const sources = [
      { name: 'feature-cache', stage: 'fetch', version: stale ? 'v1' : 'v2', hit: stale, ms: stages.fetch },
    ];
    const latencyMs = stages.validate + stages.fetch + stages.score + 0.5;
    const target = i >= 600 && i % 2 === 0 ? successor : i % 2 === 0 ? leaky : steady;
    const requestId = `r-${i}`;
    if (stale)
      target.log({
        requestId,
        input: { id: i },
        error: new TypeError('features have 7 columns, the model wants 8'),
        latencyMs,
        stages,
        sources,
        failedStage: 'score',
      });
    else target.log({ requestId, input: { id: i }, output: { p: 0.1 }, latencyMs, stages, sources });
  }
  await Promise.all([leaky.close(), steady.close(), successor.close()]);
});

describe('stage timings, sources and resources in the logs', () => {
  it('stores the trace fields and the process sample on each entry, and reads them back', async () => {
    const { entries } = await readPredictionLogs(dir);
    const failed = entries.find((e) => !e.ok)!;
    expect(failed.stages).toEqual({ validate: 0.1, fetch: 3, score: 2 });
    expect(failed.sources).toEqual([
      { name: 'feature-cache', stage: 'fetch', version: 'v1', hit: true, ms: 3 },
    ]);
    expect(failed.failedStage).toBe('score');
    expect(failed.memory.heapLimit).toBeGreaterThan(0);
    expect(failed.resources).toMatchObject({ fds: 20 });
    const sql = await queryLogs(
      dir,
      `SELECT count(*) AS n FROM stage_times WHERE stage = 'fetch' AND ms > 100`,
    );
    expect(Number(sql.rows[0]!.n)).toBeGreaterThan(0);
  });

  it('stageLatency names the stage the slow requests spend their time in', async () => {
    const report = await stageLatency(dir);
    expect(report.dominant).toBe('fetch');
    const fetch = report.stages[0]!;
    expect(fetch.stage).toBe('fetch');
    expect(fetch.p50).toBe(3);
    expect(fetch.slowShare!).toBeGreaterThan(0.9);
    // A typical request spends about half its time there (3 of 5.6 ms): the tail is what is new.
    expect(fetch.typicalShare!).toBeCloseTo(3 / 5.6, 1);
    expect(report.slowThresholdMs!).toBeGreaterThan(100);
    expect(report.p50LatencyMs!).toBeLessThan(10);
    // At the median, "slow" requests are typical ones: the time is where it always is, no tail.
    const median = await stageLatency(dir, { quantile: 0.5 });
    expect(median.slowThresholdMs!).toBeLessThan(10);
    expect(median.dominant).toBeNull();
    await expect(stageLatency(dir, { quantile: 1 })).rejects.toThrow(/quantile/);
  });

  it('sourceBreakdown shows the failures all read one cache version', async () => {
    const groups = await sourceBreakdown(dir);
    const v1 = groups.find((g) => g.version === 'v1')!;
    const v2 = groups.find((g) => g.version === 'v2')!;
    expect(v1).toMatchObject({ name: 'feature-cache', stage: 'fetch', hit: true, errors: 100, errorRate: 1 });
    expect(v1.errorClasses).toEqual([
      { name: 'TypeError', message: 'features have 7 columns, the model wants 8', count: 100 },
    ]);
    expect(v2).toMatchObject({ hit: false, errors: 0, errorRate: 0 });
    expect(v2.p99Ms).toBe(400);
  });

  it('resourceTrend finds the process whose handles grow with traffic', async () => {
    const trend = await resourceTrend(dir);
    expect(trend.verdict).toBe('leak');
    const byPid = new Map(trend.processes.map((p) => [p.pid, p]));
    expect(byPid.get(7)).toMatchObject({ verdict: 'leak', leaking: ['handles'] });
    expect(byPid.get(7)!.handlesSlopePer1k!).toBeGreaterThan(1500);
    expect(byPid.get(8)!.verdict).toBe('stable');
  });

  it('memoryTrend says how close each heap ran to its limit and which process was replaced', async () => {
    const trend = await memoryTrend(dir);
    const byPid = new Map(trend.processes.map((p) => [p.pid, p]));
    const leaky = byPid.get(7)!;
    expect(leaky.heapLimit).toBeGreaterThan(0);
    expect(leaky.maxHeapUsed).toBeGreaterThan(600e6 - 2e6);
    expect(leaky.peakHeapShare).toBeCloseTo(leaky.maxHeapUsed / leaky.heapLimit!, 6);
    expect(leaky.replaced).toBe(true);
    expect(byPid.get(8)!.replaced).toBe(false);
    expect(byPid.get(9)!.replaced).toBe(false);
  });
});
