import { appendFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LoggerError } from './errors.js';
import { createPredictionLogger } from './logger.js';
import {
  byModelVersion,
  errorSummary,
  exportParquet,
  failureProfile,
  type LogDatabase,
  latencyPercentiles,
  memoryTrend,
  openLogDatabase,
  queryLogs,
} from './query.js';
import { listSegments, readPredictionLogs } from './read.js';

const root = mkdtempSync(join(tmpdir(), 'pp-logger-query-'));
const dir = join(root, 'logs');
afterAll(() => rmSync(root, { recursive: true, force: true }));

const START = Date.UTC(2024, 4, 1, 10, 0, 0);

/**
 * 1,200 requests over two model versions, 200 ms apart (two minutes). Every 15th request has a
 * NaN amount and fails with a TypeError; every 40th a missing `country` and a RangeError.
 * Host "leaky" grows 40 KiB per request; host "steady" stays flat.
 */
beforeAll(async () => {
  for (const host of ['leaky', 'steady']) {
    let clock = START;
    let i = 0;
    const now = () => clock;
    const v1 = createPredictionLogger({
      dir,
      sampleRate: 0.5,
      modelVersion: 'v1',
      host,
      pid: 7,
      now,
      memorySampleIntervalMs: 0,
      memoryUsage: () => ({
        rss: host === 'leaky' ? 100e6 + i * 40_960 : 100e6 + ((i * 7919) % 13) * 1000,
        heapUsed: 50e6,
      }),
    });
    const v2 = createPredictionLogger({
      dir,
      sampleRate: 0.5,
      modelVersion: 'v2',
      host: `${host}-v2`,
      pid: 8,
      now,
    });
    for (i = 0; i < 600; i++, clock += 200) {
      const target = i % 2 === 1 ? v2 : v1;
      const requestId = `${host}-${i}`;
      const input: Record<string, unknown> = {
        amount: i % 15 === 0 ? Number.NaN : 10 + (i % 7),
        country: 'DE',
        name: 'x'.repeat(i % 5),
      };
      if (i % 40 === 0) delete input.country;
      const latencyMs = 5 + (i % 50);
      if (i % 15 === 0) target.log({ requestId, input, error: new TypeError('amount is NaN'), latencyMs });
      else if (i % 40 === 0)
        target.log({ requestId, input, error: new RangeError('country missing'), latencyMs });
      else target.log({ requestId, input, output: { score: i % 100 === 1 ? Number.NaN : 0.5 }, latencyMs });
    }
    await v1.close();
    await v2.close();
  }
});

/** Weighted quantile as documented: smallest x whose cumulative weight reaches q of the total. */
function weightedQuantile(points: { x: number; w: number }[], q: number): number {
  const sorted = [...points].sort((a, b) => a.x - b.x);
  const total = sorted.reduce((s, p) => s + p.w, 0);
  let cum = 0;
  for (const p of sorted) {
    cum += p.w;
    if (cum >= q * total) return p.x;
  }
  return Number.NaN;
}

describe('queryLogs', () => {
  it('reads every entry the JavaScript reader reads, with the declared columns', async () => {
    const js = await readPredictionLogs(dir);
    const result = await queryLogs(
      dir,
      'SELECT count(*) AS n, count(DISTINCT requestId) AS ids FROM predictions',
    );
    expect(result.rows).toEqual([{ n: js.entries.length, ids: js.entries.length }]);
    expect(result.columns).toEqual([
      { name: 'n', type: 'BIGINT' },
      { name: 'ids', type: 'BIGINT' },
    ]);
    expect(js.entries.length).toBeGreaterThan(600);
    const cols = await queryLogs(dir, 'DESCRIBE predictions');
    const types = Object.fromEntries(cols.rows.map((r) => [r.column_name, r.column_type]));
    expect(types).toMatchObject({
      timestamp: 'TIMESTAMP WITH TIME ZONE',
      latencyMs: 'DOUBLE',
      numeric: 'MAP(VARCHAR, DOUBLE)',
      stringLengths: 'MAP(VARCHAR, BIGINT)',
      dt: 'DATE',
    });
  });

  it('round-trips NaN through disk and DuckDB (inputs, outputs, latency)', async () => {
    const nanDir = join(root, 'nan');
    const logger = createPredictionLogger({ dir: nanDir, sampleRate: 1, modelVersion: 'v' });
    logger.log({
      requestId: 'n1',
      input: { a: Number.NaN, b: Number.NEGATIVE_INFINITY, c: 1.5 },
      output: { score: Number.NaN },
      latencyMs: Number.NaN,
    });
    await logger.close();
    const { rows } = await queryLogs(
      nanDir,
      `SELECT path, value, isnan(value) AS isNan FROM input_values ORDER BY path`,
    );
    expect(rows).toEqual([
      { path: 'a', value: Number.NaN, isNan: true },
      { path: 'b', value: Number.NEGATIVE_INFINITY, isNan: false },
      { path: 'c', value: 1.5, isNan: false },
    ]);
    const out = await queryLogs(
      nanDir,
      `SELECT pp_double(output->'score') AS score, latencyMs FROM predictions`,
    );
    expect(out.rows).toEqual([{ score: Number.NaN, latencyMs: Number.NaN }]);
  });

  it('skips a torn last line without failing the query, and counts it', async () => {
    const tornDir = join(root, 'torn');
    const logger = createPredictionLogger({ dir: tornDir, sampleRate: 1, modelVersion: 'v' });
    for (let i = 0; i < 3; i++) logger.log({ requestId: `r${i}`, input: { i }, output: i });
    await logger.close();
    const [file] = await listSegments(tornDir);
    appendFileSync(file as string, '{"schemaVersion":1,"kind":"prediction","timestamp":"2024-05-01T1');
    const result = await queryLogs(tornDir, 'SELECT count(*) AS n FROM predictions');
    expect(result.rows).toEqual([{ n: 3 }]);
    expect(result.tornLines).toBe(1);
    const raw = await queryLogs(tornDir, 'SELECT count(*) AS n FROM log_lines WHERE kind IS NULL');
    expect(raw.rows).toEqual([{ n: 1 }]);
  });

  it('throws typed errors for a missing folder, an empty folder and bad SQL', async () => {
    await expect(queryLogs(join(root, 'nope'), 'SELECT 1')).rejects.toMatchObject({ code: 'NO_SEGMENTS' });
    mkdirSync(join(root, 'empty'));
    await expect(queryLogs(join(root, 'empty'), 'SELECT 1')).rejects.toMatchObject({ code: 'NO_SEGMENTS' });
    const bad = await queryLogs(dir, 'SELEC oops').catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(LoggerError);
    expect((bad as LoggerError).code).toBe('QUERY_FAILED');
    expect((bad as LoggerError).message).toMatch(/syntax error/i);
  });
});

describe('analyses', () => {
  let db: LogDatabase;
  beforeAll(async () => {
    db = await openLogDatabase(dir);
  });
  afterAll(() => db.close());

  it('errorSummary groups errors by type and message with counts, first/last seen and versions', async () => {
    const js = await readPredictionLogs(dir);
    const summary = await errorSummary(db);
    // 600 per host: i % 15 === 0 → 40 TypeErrors; i % 40 === 0 and not % 15 → 15 - 5 = 10 RangeErrors.
    expect(summary.groups.map((g) => [g.errorName, g.errorMessage, g.count])).toEqual([
      ['TypeError', 'amount is NaN', 80],
      ['RangeError', 'country missing', 20],
    ]);
    expect(summary.errors).toBe(100);
    const estimated = js.entries.reduce((s, e) => s + e.samplingWeight, 0);
    expect(summary.estimatedRequests).toBe(estimated);
    expect(summary.errorRate).toBeCloseTo(100 / estimated, 12);
    const type = summary.groups[0];
    expect(type?.modelVersions).toEqual(['v1', 'v2']);
    expect(type?.hosts).toBe(4);
    expect(type?.firstSeen.toISOString()).toBe('2024-05-01T10:00:00.000Z');
    const lastTypeError = 585; // largest i < 600 with i % 15 === 0
    expect(type?.lastSeen.getTime()).toBe(START + lastTypeError * 200);
  });

  it('failureProfile puts the NaN amount and the missing country first', async () => {
    const profile = await failureProfile(db, 'TypeError');
    expect(profile.failing.entries).toBe(80);
    const amount = profile.fields.find((f) => f.path === 'amount' && f.kind === 'numeric');
    expect(amount?.failing).toMatchObject({ present: 1, nanShare: 1, mean: null });
    expect(amount?.succeeding.nanShare).toBe(0);
    expect(amount?.succeeding.mean).toBeGreaterThan(10);
    expect(amount?.score).toBe(1);
    expect(profile.fields[0]?.path).toBe('amount');
    expect(profile.failing.meanNanCount).toBe(1);
    expect(profile.succeeding.meanNanCount).toBe(0);

    const range = await failureProfile(db, 'RangeError');
    const country = range.fields.find((f) => f.path === 'country');
    expect(country?.kind).toBe('string-length');
    expect(country?.failing.present).toBe(0);
    expect(country?.succeeding.present).toBe(1);
    expect(range.fields[0]?.score).toBe(1);
  });

  it('failureProfile sees a value every failure shares (weighted KS distance, checked independently)', async () => {
    // Every RangeError request has i % 40 === 0, so its name is '' (i % 5 === 0): length 0 in every
    // failure, 0..4 in successes. The means differ by less than two stds; the distributions by 0.8.
    const range = await failureProfile(db, 'RangeError');
    const name = range.fields.find((f) => f.path === 'name' && f.kind === 'string-length')!;
    expect(name.failing).toMatchObject({ min: 0, max: 0 });
    const js = await readPredictionLogs(dir);
    const points = (failing: boolean) =>
      js.entries
        .filter((e) => (failing ? e.error?.name === 'RangeError' : e.ok))
        .map((e) => ({ x: e.inputStats.stringLengths.name, w: e.samplingWeight }))
        .filter((p): p is { x: number; w: number } => p.x !== undefined);
    const ecdf = (ps: { x: number; w: number }[], x: number) =>
      ps.filter((p) => p.x <= x).reduce((a, p) => a + p.w, 0) / ps.reduce((a, p) => a + p.w, 0);
    const f = points(true);
    const s = points(false);
    const expected = Math.max(...[...f, ...s].map((p) => Math.abs(ecdf(f, p.x) - ecdf(s, p.x))));
    expect(expected).toBeGreaterThan(0.7);
    expect(name.ks).toBeCloseTo(expected, 12);
    expect(name.ksSignificant).toBe(true);
    expect(name.score).toBe(name.ks);
    // The amount of a RangeError is drawn like any other: no significant gap, and no ks at all
    // for a TypeError, whose amounts are all NaN.
    const amount = range.fields.find((f) => f.path === 'amount' && f.kind === 'numeric')!;
    expect(amount.ks).not.toBeNull();
    expect(amount.ksSignificant).toBe(false);
    const type = await failureProfile(db, 'TypeError');
    expect(type.fields.find((f) => f.path === 'amount' && f.kind === 'numeric')!.ks).toBeNull();
  });

  it('latencyPercentiles match an independent weighted quantile and error count per bucket', async () => {
    const js = await readPredictionLogs(dir);
    const buckets = await latencyPercentiles(db, { bucket: '1 minute' });
    expect(buckets.map((b) => b.bucket.toISOString())).toEqual([
      '2024-05-01T10:00:00.000Z',
      '2024-05-01T10:01:00.000Z',
    ]);
    for (const b of buckets) {
      const inBucket = js.entries.filter(
        (e) => Math.floor(Date.parse(e.timestamp) / 60_000) * 60_000 === b.bucket.getTime(),
      );
      const points = inBucket
        .filter((e) => Number.isFinite(e.latencyMs))
        .map((e) => ({ x: e.latencyMs as number, w: e.samplingWeight }));
      expect(b.entries).toBe(inBucket.length);
      const requests = inBucket.reduce((s, e) => s + e.samplingWeight, 0);
      expect(b.requests).toBe(requests);
      const errors = inBucket.filter((e) => !e.ok).length;
      expect(errors).toBeGreaterThan(0);
      expect(b.errors).toBe(errors);
      expect(b.errorRate).toBeCloseTo(errors / requests, 12);
      expect(b.p50).toBe(weightedQuantile(points, 0.5));
      expect(b.p95).toBe(weightedQuantile(points, 0.95));
      expect(b.p99).toBe(weightedQuantile(points, 0.99));
    }
    await expect(latencyPercentiles(db, { bucket: "1 hour'; DROP" })).rejects.toMatchObject({
      code: 'INVALID_OPTIONS',
    });
    // Short intervals mean the same buckets.
    expect(await latencyPercentiles(db, { bucket: '1m' })).toEqual(buckets);
    await expect(latencyPercentiles(db, { bucket: '1w' })).rejects.toThrow('"5 minutes", "1 hour" or "1h"');
  });

  it('memoryTrend flags the process whose rss climbs with traffic, not the flat one', async () => {
    const trend = await memoryTrend(db);
    expect(trend.verdict).toBe('leak');
    const leaky = trend.processes.find((p) => p.host === 'leaky');
    const steady = trend.processes.find((p) => p.host === 'steady');
    expect(leaky?.verdict).toBe('leak');
    // 40 KiB per request; this process sees every other request (v1), so ~80 KiB per request of its own.
    expect(leaky?.rssSlopePer1k).toBeGreaterThan(40_960 * 1000);
    expect(leaky?.r2).toBeGreaterThan(0.99);
    expect(steady?.verdict).toBe('stable');
    expect(Math.abs(steady?.rssSlopePer1k ?? Number.POSITIVE_INFINITY)).toBeLessThan(256 * 1024);
    // The v2 processes used real process memory; whatever it did, they are reported, each with a verdict.
    expect(trend.processes).toHaveLength(4);
  });

  it('byModelVersion reports requests, errors and latency per version', async () => {
    const js = await readPredictionLogs(dir);
    const rows = await byModelVersion(db);
    expect(rows.map((r) => r.modelVersion)).toEqual(['v1', 'v2']);
    for (const r of rows) {
      const mine = js.entries.filter((e) => e.modelVersion === r.modelVersion);
      expect(r.entries).toBe(mine.length);
      expect(r.errors).toBe(mine.filter((e) => !e.ok).length);
      expect(r.requests).toBe(mine.reduce((s, e) => s + e.samplingWeight, 0));
      expect(r.p95LatencyMs).toBe(
        weightedQuantile(
          mine.map((e) => ({ x: e.latencyMs as number, w: e.samplingWeight })),
          0.95,
        ),
      );
    }
  });

  it('exportParquet writes the predictions view, NaN kept', async () => {
    const out = join(root, 'out.parquet');
    const { rows } = await exportParquet(db, out);
    const js = await readPredictionLogs(dir);
    expect(rows).toBe(js.entries.length);
    const back = await db.query(
      `SELECT count(*) AS n, count(*) FILTER (WHERE isnan(numeric['amount'])) AS nanAmount FROM read_parquet('${out}')`,
    );
    const nanAmounts = js.entries.filter((e) => Number.isNaN(e.inputStats.numeric.amount)).length;
    expect(back.rows).toEqual([{ n: js.entries.length, nanAmount: nanAmounts }]);
    expect(nanAmounts).toBe(80);
  });
});
