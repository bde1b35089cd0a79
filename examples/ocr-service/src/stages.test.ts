import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTrace, isolate } from '@prodprobe/layers';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig, STAGING_CONFIG } from './config.js';
import { writeStaleCache } from './faults.js';
import { createPipeline, isFailedPrediction, loadSession } from './stages.js';
import { textLines } from './traffic.js';

const config = loadConfig(STAGING_CONFIG);
const session = await loadSession(config);
const pipeline = createPipeline(config, session);
const request = (png: Uint8Array) => ({ png: Buffer.from(png).toString('base64') });
const work = mkdtempSync(join(tmpdir(), 'ocr-stages-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('the OCR pipeline on the real classifier', () => {
  it('tells upright from upside-down text lines of the traffic generator', async () => {
    const lines = textLines(99, 120);
    expect(textLines(99, 120).map((l) => l.png)).toEqual(lines.map((l) => l.png));
    let right = 0;
    for (const line of lines) {
      const out = await pipeline.run(request(line.png));
      expect(isFailedPrediction(out)).toBe(false);
      if (out.angle === line.angle) right++;
    }
    expect(right / lines.length).toBeGreaterThan(0.9);
  });

  it('a blank crop throws in crop: the mean of no ink pixels', async () => {
    const [blank] = textLines(5, 1, { blankShare: 1 });
    const report = await isolate(pipeline, request(blank!.png));
    expect(report.failedStage).toBe('crop');
    expect(report.stages.find((s) => s.stage === 'crop')?.error).toMatchObject({
      name: 'RangeError',
      message: 'mean of an empty list',
    });
  });

  it("a cache entry of the previous release's format is served and refused by the model", async () => {
    const [line] = textLines(6, 1);
    const dir = join(work, 'cache');
    writeStaleCache(dir, [line!]);
    const cached = createPipeline({ ...config, tensorCache: { dir, memoryEntries: 0 } }, session);
    const trace = createTrace();
    await expect(cached.run(request(line!.png), trace)).rejects.toThrow(/invalid dimensions for input: x/);
    expect(trace.failedStage).toBe('classify');
    expect(trace.sources).toMatchObject([
      { name: 'tensor-cache', stage: 'tensor', version: 'v1', hit: true },
    ]);
  });
});
