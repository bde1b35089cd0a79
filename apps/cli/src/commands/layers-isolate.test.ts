import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createFileCaptureStore, withCapture } from '@prodprobe/capture';
import { encode } from '@prodprobe/sanitize';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../program.js';
import { memoryIo } from '../test-io.js';

// Inside the app, so the service module resolves @prodprobe/layers as a team's service would.
const work = join(import.meta.dirname, '..', '..', `.test-isolate-${process.pid}`);
afterAll(() => rmSync(work, { recursive: true, force: true }));

// A team's service, in TypeScript, with its own stage names: averaging an empty list throws.
const serviceModule = `
import { definePipeline, defineService } from '@prodprobe/layers';

export default defineService({
  name: 'basket-scorer',
  defaultVersion: 'v3',
  load: (version: string) =>
    definePipeline([
      { name: 'check', kind: 'validation', run: (x: any) => Array.isArray(x?.prices) },
      {
        name: 'history',
        kind: 'features',
        run: (x: { prices: number[] }, ctx) => {
          ctx.source('price-cache', { version: 'p7', hit: true });
          return x.prices;
        },
      },
      {
        name: 'average',
        kind: 'preprocessing',
        run: (xs: number[]) => {
          if (xs.length === 0) throw new RangeError('cannot average an empty list');
          return xs.reduce((a, b) => a + b, 0) / xs.length;
        },
      },
      { name: 'score', kind: 'inference', run: (m: number) => Math.log(m) },
      { name: 'label', kind: 'postprocessing', run: (s: number) => ({ version, score: s }) },
    ]),
  isFailure: (o: { score: number }) => (Number.isFinite(o.score) ? false : 'score is not finite'),
});
`;

let recordId: string;

beforeAll(async () => {
  mkdirSync(work, { recursive: true });
  writeFileSync(join(work, 'service.ts'), serviceModule);
  writeFileSync(join(work, 'ok.json'), JSON.stringify({ prices: [10, 30] }));
  writeFileSync(join(work, 'empty.json'), JSON.stringify({ prices: [] }));
  writeFileSync(join(work, 'negative.json'), encode({ prices: [-4, -2] }));
  const store = createFileCaptureStore(join(work, 'captures'));
  const predict = withCapture(
    (x: { prices: number[] }) => {
      if (x.prices.length === 0) throw new RangeError('cannot average an empty list');
      return { score: 1 };
    },
    { store, modelVersion: 'v2' },
  );
  expect(() => predict({ prices: [] })).toThrow(RangeError);
  await predict.flush();
  recordId = (await store.list())[0]!.id;
});

async function isolate(...args: string[]) {
  const mem = memoryIo({ cwd: work });
  const code = await run(
    ['node', 'prodprobe', 'layers', 'isolate', '--pipeline', 'service.ts', ...args],
    mem.io,
  );
  return { code, out: mem.stdout(), err: mem.stderr() };
}

describe('prodprobe layers isolate --pipeline', () => {
  it('runs a good input through every named stage, with its kind and the sources it read (exit 0)', async () => {
    const r = await isolate('--input', 'ok.json');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain('service "basket-scorer"');
    expect(r.out).toContain('model v3');
    expect(r.out).toMatch(/history\s+features\s+passed .*read price-cache p7 \(hit\)/);
    expect(r.out).toMatch(/label\s+postprocessing\s+passed/);
    expect(r.out).toContain('ok: every stage ran and every value was finite');
  });

  it('names the stage that throws, from a file or from a capture record on its model version (exit 1)', async () => {
    const file = await isolate('--input', 'empty.json');
    expect(file.code).toBe(1);
    expect(file.out).toMatch(/average\s+preprocessing\s+failed .*RangeError: cannot average an empty list/);
    expect(file.out).toMatch(/score\s+inference\s+not run/);
    const captured = await isolate('--capture', 'captures', '--id', recordId, '--json');
    expect(captured.code).toBe(1);
    const report = JSON.parse(captured.out);
    expect(report).toMatchObject({
      service: 'basket-scorer',
      modelVersion: 'v2',
      finding: { failedStage: 'average', failedKind: 'preprocessing', error: { name: 'RangeError' } },
    });
  });

  it("flags where NaN first appears, and the service's own failure check (exit 1)", async () => {
    const r = await isolate('--input', 'negative.json', '--json');
    expect(r.code).toBe(1);
    const report = JSON.parse(r.out);
    expect(report.finding).toMatchObject({
      failedStage: null,
      nonFiniteOrigin: 'score',
      nonFiniteKind: 'inference',
    });
    expect(report.failure).toBe('score is not finite');
    expect(report.finding.onnx.reason).toBe('stage score declares no ONNX model (onnx: { model, feeds })');
  });

  it('refuses what it cannot run, naming the flag', async () => {
    expect((await isolate()).err).toContain('give either --input <file.json> or --capture <dir> --id <id>');
    expect((await isolate('--capture', 'captures')).err).toContain('--capture needs --id <record id>');
    expect((await isolate('--capture', 'captures', '--id', 'nope')).err).toContain(
      'no capture record with id nope in captures',
    );
    const missing = await isolate('--input', 'nope.json');
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('--input nope.json: cannot read the file');
  });
});
