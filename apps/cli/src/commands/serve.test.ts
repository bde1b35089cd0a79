import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateTransactions } from '@prodprobe/fraud-model';
import { readPredictionLogs } from '@prodprobe/logger';
import { afterAll, describe, expect, it } from 'vitest';
import { startDemoServer } from '../demo/servers.js';
import { run } from '../program.js';
import { memoryIo } from '../test-io.js';

const work = mkdtempSync(join(tmpdir(), 'cli-serve-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** POSTs each row to /predict, one at a time; every answer must be a 200. */
async function predictAll(url: string, rows: unknown[]): Promise<void> {
  for (const row of rows) {
    const response = await fetch(`${url}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(row),
    });
    expect(response.status).toBe(200);
  }
}

describe('prodprobe serve --log-sample-rate', () => {
  it.each(['1.5', '-0.1', 'often', ''])('rejects %j before starting anything', async (rate) => {
    const m = memoryIo({ cwd: work });
    const code = await run(['node', 'prodprobe', 'serve', '--log-sample-rate', rate], m.io);
    expect(code).not.toBe(0);
    expect(m.stderr()).toContain(`--log-sample-rate must be a number from 0 to 1, got "${rate}"`);
  });

  it('sets the share of successes the logs keep (1: every one, kept as a sample of weight 1)', async () => {
    const dataDir = join(work, 'all');
    const server = await startDemoServer('staging', dataDir, 'x'.repeat(32), work, [
      '--log-sample-rate',
      '1',
    ]);
    const rows = generateTransactions(5, { seed: 3 }).map((r) => r.transaction);
    try {
      await predictAll(server.url, rows);
    } finally {
      await server.stop();
    }
    const { entries } = await readPredictionLogs(join(dataDir, 'logs'));
    expect(entries).toHaveLength(rows.length);
    expect(
      entries.every((e) => e.kind === 'prediction' && e.keptBy === 'sample' && e.samplingWeight === 1),
    ).toBe(true);
  }, 30_000);
});

describe('prodprobe serve --log-serialize-in-worker', () => {
  it("serializes the kept entries on the logger's worker thread (the built service, as deployed)", async () => {
    const token = 'x'.repeat(32);
    const server = await startDemoServer('staging', join(work, 'worker'), token, work, [
      '--log-sample-rate',
      '1',
      '--log-serialize-in-worker',
    ]);
    const rows = generateTransactions(5, { seed: 4 }).map((r) => r.transaction);
    try {
      await predictAll(server.url, rows);
      type Health = { logger: { written: number; serializedInWorker: number }; errors: number };
      const health = async () =>
        (await (
          await fetch(`${server.url}/debug/instrumentation`, {
            headers: { authorization: `Bearer ${token}` },
          })
        ).json()) as Health;
      let h = await health();
      for (let i = 0; h.logger.written < rows.length && i < 100; i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        h = await health();
      }
      expect(h).toMatchObject({ logger: { written: 5, serializedInWorker: 5 }, errors: 0 });
    } finally {
      await server.stop();
    }
  }, 30_000);
});
