import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFileCaptureStore, withCapture } from '@prodprobe/capture';
import { profile } from '@prodprobe/drift';
import { createPredictionLogger } from '@prodprobe/logger';
import { createSanitizer } from '@prodprobe/sanitize';
import { afterAll, describe, expect, it } from 'vitest';
import { run } from '../program.js';
import { memoryIo } from '../test-io.js';
import type { DiagnoseReport } from './diagnose.js';

const work = mkdtempSync(join(tmpdir(), 'cli-diagnose-inputs-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function diagnoseJson(...args: string[]) {
  const mem = memoryIo({ cwd: work });
  const code = await run(['node', 'prodprobe', '--json', 'diagnose', ...args], mem.io);
  return { code, report: JSON.parse(mem.stdout()) as DiagnoseReport };
}

describe('diagnose: what it says about the capture folder it was given', () => {
  it('an empty folder (often the wrong one) is named under not checked', async () => {
    mkdirSync(join(work, 'empty'));
    const { code, report } = await diagnoseJson('--captures', 'empty');
    expect(code).toBe(0);
    expect(report.notChecked).toContain(
      `captures: ${join(work, 'empty')} holds no capture records, so nothing was replayed`,
    );
  });

  it('corrupt record files are counted and the first is named with its reason; the good ones are used', async () => {
    const dir = join(work, 'captures');
    const store = createFileCaptureStore(dir);
    const predict = withCapture(
      (_x: { a: number }): number => {
        throw new Error('boom');
      },
      { store, modelVersion: 'v1' },
    );
    expect(() => predict({ a: 1 })).toThrow('boom');
    await predict.flush();
    writeFileSync(join(dir, 'cap-garbage.json'), '{"schemaVersion": 1, "id": ');
    const { report } = await diagnoseJson('--captures', 'captures');
    expect(report.totals.captures).toBe(1);
    const note = report.notChecked.find((n) => n.startsWith('captures:'));
    expect(note).toContain(
      `captures: 1 record file(s) in ${dir} could not be read and were skipped (cap-garbage.json: `,
    );
    expect(note).toContain('truncated');
  });
});

describe('diagnose: logs that span hours', () => {
  it('dates the dataset drift: since when every hourly window has drifted', async () => {
    // Two-digit amounts: the logger keeps 2 significant digits, so logged values equal the reference's.
    const row = (i: number, shifted: boolean) => ({
      amount: (shifted ? 40 : 10) + (i % 41),
      method: shifted && i % 3 === 0 ? 'voucher' : i % 2 ? 'card' : 'cash',
    });
    writeFileSync(
      join(work, 'reference.json'),
      JSON.stringify(profile(Array.from({ length: 1000 }, (_, i) => row(i, false)))),
    );
    const hour = 3_600_000;
    const t0 = Date.UTC(2026, 10, 20, 10);
    let at = t0;
    const logger = createPredictionLogger({
      dir: join(work, 'hours-logs'),
      sampleRate: 1,
      modelVersion: 'v1',
      sanitizer: createSanitizer({ rules: { method: 'keep' } }),
      now: () => at,
    });
    for (let h = 0; h < 4; h++)
      for (let i = 0; i < 300; i++) {
        at = t0 + h * hour + i * 1000;
        logger.log({ requestId: `r-${h}-${i}`, input: row(i, h >= 2), output: { score: 0.1 }, latencyMs: 1 });
      }
    await logger.close();

    const { report } = await diagnoseJson('--logs', 'hours-logs', '--reference', 'reference.json');
    expect(report.driftTimeline?.windows.map((w) => [w.start, w.datasetDrift])).toEqual([
      ['2026-11-20T10:00:00.000Z', false],
      ['2026-11-20T11:00:00.000Z', false],
      ['2026-11-20T12:00:00.000Z', true],
      ['2026-11-20T13:00:00.000Z', true],
    ]);
    const cause = report.rootCauses.find((c) => c.kind === 'distribution-drift');
    expect(cause?.evidence).toContain(
      'Over time: dataset drift in every window since 2026-11-20 12:00 UTC (the last 2 of 4 windows of 1h).',
    );
    const text = memoryIo({ cwd: work });
    await run(
      ['node', 'prodprobe', 'diagnose', '--logs', 'hours-logs', '--reference', 'reference.json'],
      text.io,
    );
    expect(text.stdout()).toContain('over time: dataset drift in every window since 2026-11-20 12:00 UTC');
  });
});
