import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFileCaptureStore, withCapture } from '@prodprobe/capture';
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
