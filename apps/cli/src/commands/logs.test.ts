import { appendFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPredictionLogger, listSegments } from '@prodprobe/logger';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../program.js';
import { memoryIo } from '../test-io.js';

let root: string;
const START = Date.UTC(2024, 4, 1, 10, 0, 0);

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'cli-logs-'));
  let clock = START;
  let i = 0;
  const logger = createPredictionLogger({
    dir: join(root, 'logs'),
    sampleRate: 1,
    modelVersion: 'v1',
    host: 'h',
    pid: 1,
    now: () => clock,
    memorySampleIntervalMs: 0,
    // A cache that grows 64 KiB per request.
    memoryUsage: () => ({ rss: 50e6 + i * 65_536, heapUsed: 20e6 }),
  });
  for (i = 0; i < 200; i++, clock += 1000) {
    const input = { amount: i % 10 === 0 ? Number.NaN : i, country: 'DE' };
    if (i % 10 === 0)
      logger.log({ requestId: `r${i}`, input, error: new TypeError('amount is NaN'), latencyMs: 3 });
    else logger.log({ requestId: `r${i}`, input, output: { score: 0.5 }, latencyMs: 1 + (i % 20) });
  }
  await logger.close();
  const [file] = await listSegments(join(root, 'logs'));
  appendFileSync(file as string, '{"schemaVersion":1,"kind":"predic'); // a torn last line
  writeFileSync(join(root, 'not-a-dir'), 'x');
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function cli(...args: string[]) {
  const m = memoryIo({ cwd: root });
  const code = await run(['node', 'prodprobe', ...args], m.io);
  return { code, out: m.stdout(), err: m.stderr() };
}

describe('prodprobe logs', () => {
  it('query runs SQL over the segments, as a table or JSON, and notes torn lines', async () => {
    const text = await cli(
      'logs',
      'query',
      'logs',
      'SELECT errorName, count(*) AS n FROM predictions GROUP BY 1 ORDER BY 1',
    );
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/errorName\s+n/);
    expect(text.out).toMatch(/TypeError\s+20/);
    expect(text.out).toContain('(2 rows)');
    expect(text.err).toMatch(/skipped 1 torn last line/);
    const json = await cli(
      '--json',
      'logs',
      'query',
      'logs',
      "SELECT value FROM input_values WHERE path = 'amount' AND requestId = 'r0'",
    );
    expect(json.code).toBe(0);
    const parsed = JSON.parse(json.out);
    expect(parsed.rows).toEqual([{ value: 'NaN' }]);
    expect(parsed.tornLines).toBe(1);
  });

  it('exits 2 with a clear message for a missing directory, a file, and bad SQL', async () => {
    const missing = await cli('logs', 'query', 'nope', 'SELECT 1');
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('log directory nope does not exist');
    const file = await cli('logs', 'errors', 'not-a-dir');
    expect(file.code).toBe(2);
    expect(file.err).toContain('is not a directory');
    const bad = await cli('logs', 'query', 'logs', 'SELEC 1');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/query failed: .*syntax error/i);
    const noType = await cli('logs', 'failures', 'logs', '--error', 'KeyError');
    expect(noType.code).toBe(2);
    expect(noType.err).toContain('no KeyError errors');
  });

  it('errors, failures, latency and versions summarise the logs', async () => {
    const errors = await cli('logs', 'errors', 'logs');
    expect(errors.code).toBe(0);
    expect(errors.out).toContain('20 error(s) in ~200 requests (10.0%)');
    expect(errors.out).toMatch(/20\s+TypeError\s+amount is NaN\s+2024-05-01T10:00:00.000Z/);
    const failures = await cli('--json', 'logs', 'failures', 'logs', '--error', 'TypeError');
    expect(failures.code).toBe(0);
    const profile = JSON.parse(failures.out);
    expect(profile.fields[0]).toMatchObject({ path: 'amount', kind: 'numeric', failing: { nanShare: 1 } });
    const table = await cli('logs', 'failures', 'logs', '--error', 'TypeError');
    // Every failing amount is NaN: no finite values to compare, so no KS distance.
    expect(table.out).toMatch(/amount\s+numeric\s+100.0% vs 100.0%\s+100.0% vs 0.0%.*\s-\s+1\n/);
    expect(table.out).toContain('KS: largest gap between the failing and succeeding value distributions');
    const latency = await cli('--json', 'logs', 'latency', 'logs', '--bucket', '1 hour');
    expect(JSON.parse(latency.out)).toHaveLength(1);
    // 200 requests over 200 s, one in ten failing: per minute, 60 requests and 6 errors (10%).
    const perMinute = await cli('logs', 'latency', 'logs', '--bucket', '1m');
    expect(perMinute.out).toMatch(/^bucket\s+entries\s+~requests\s+errors\s+error %\s+p50 ms/);
    expect(perMinute.out).toMatch(/\n\S+\s+60\s+60\s+6\s+10\s/);
    const badBucket = await cli('logs', 'latency', 'logs', '--bucket', 'fortnight');
    expect(badBucket.code).toBe(2);
    expect(badBucket.err).toContain('bucket');
    const versions = await cli('logs', 'versions', 'logs');
    expect(versions.out).toMatch(/v1\s+200\s+200\s+20\s+10.0%/);
  });

  it('memory reports the leak and exits 1', async () => {
    const memory = await cli('logs', 'memory', 'logs');
    expect(memory.code).toBe(1);
    expect(memory.out).toContain('verdict: leak');
    expect(memory.out).toMatch(/62.50 MiB/); // 64 KiB x 1,000 requests
  });

  it('export writes a Parquet file', async () => {
    const result = await cli('logs', 'export', 'logs', '--parquet', 'out.parquet');
    expect(result.code).toBe(0);
    expect(result.out).toContain('wrote 200 row(s) to out.parquet');
    expect(existsSync(join(root, 'out.parquet'))).toBe(true);
  });
});
