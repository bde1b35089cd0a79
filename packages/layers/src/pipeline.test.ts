import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parseLayerReport, serializeReport } from './codec.js';
import { LayersError } from './errors.js';
import { scanValue } from './health.js';
import { definePipeline, isolate } from './pipeline.js';

const schema = z.object({ amount: z.number(), country: z.string() });

function fraudPipeline(scale: { mean: number; std: number }) {
  return definePipeline<{ amount: number; country: string }, { fraud: boolean; score: number }>({
    validate: schema,
    extractFeatures: (tx: { amount: number; country: string }) => ({
      amount: tx.amount,
      foreign: tx.country !== 'FR' ? 1 : 0,
    }),
    // Async on purpose: stages may be either.
    preprocess: async (f: { amount: number; foreign: number }) => [
      [(f.amount - scale.mean) / scale.std, f.foreign],
    ],
    forward: (rows: number[][]) => rows.map((r) => 1 / (1 + Math.exp(-(r[0]! + r[1]!)))),
    postprocess: (scores: number[]) => {
      const score = scores[0]!;
      if (Number.isNaN(score)) throw new Error('score is NaN');
      return { fraud: score > 0.5, score };
    },
  });
}

describe('definePipeline / isolate', () => {
  it('runs the production path and reports every stage as passed', async () => {
    const pipeline = fraudPipeline({ mean: 100, std: 50 });
    const input = { amount: 150, country: 'DE' };
    const out = await pipeline.run(input);
    expect(out.fraud).toBe(true);
    const report = await isolate(pipeline, input);
    expect(report.status).toBe('passed');
    expect(report.failedStage).toBeNull();
    expect(report.nonFiniteOrigin).toBeNull();
    expect(report.stages.map((s) => [s.stage, s.status])).toEqual([
      ['validate', 'passed'],
      ['extractFeatures', 'passed'],
      ['preprocess', 'passed'],
      ['forward', 'passed'],
      ['postprocess', 'passed'],
    ]);
    expect(report.stages.at(-1)!.output).toEqual(out);
    expect(report.stages.every((s) => s.durationMs >= 0)).toBe(true);
  });

  it('stops at the failing validate stage and names the field', async () => {
    const report = await isolate(fraudPipeline({ mean: 100, std: 50 }), { amount: '150', country: 'DE' });
    expect(report.failedStage).toBe('validate');
    expect(report.stages[0]!.error?.message).toMatch(/amount: .*expected number/i);
    expect(report.stages.slice(1).every((s) => s.status === 'not-run')).toBe(true);
    await expect(
      fraudPipeline({ mean: 100, std: 50 }).run({ amount: '150', country: 'DE' } as never),
    ).rejects.toThrow(/amount/);
  });

  it('flags the stage that turns finite input into NaN (a zero std), and the later failure', async () => {
    const report = await isolate(fraudPipeline({ mean: 150, std: 0 }), { amount: 150, country: 'FR' });
    expect(report.nonFiniteOrigin).toBe('preprocess');
    const pre = report.stages.find((s) => s.stage === 'preprocess')!;
    expect(pre).toMatchObject({ status: 'passed', nonFiniteOrigin: true });
    expect(pre.health).toMatchObject({ nan: 1, allZeroRows: 0 });
    expect(pre.health!.issues).toContainEqual({ kind: 'nan', path: '$[0][0]' });
    // forward propagates the NaN but is not the origin; postprocess throws.
    expect(report.stages.find((s) => s.stage === 'forward')!.nonFiniteOrigin).toBe(false);
    expect(report.failedStage).toBe('postprocess');
    expect(report.status).toBe('failed');
  });

  it('accepts function validators: false fails, a returned value continues', async () => {
    const p = definePipeline({ validate: (x: number) => x > 0, forward: (x: number) => x * 2 });
    expect((await isolate(p, -1)).stages[0]!.error?.message).toMatch(/returned false/);
    expect(await p.run(3)).toBe(6);
    const q = definePipeline({ validate: async (x: string) => Number(x), postprocess: (x: number) => x + 1 });
    expect(await q.run('41')).toBe(42);
    expect(() => definePipeline({ infer: () => 1 } as never)).toThrow(LayersError);
  });

  it('a report with NaN, ±Infinity, -0, undefined, BigInt and typed arrays survives JSON', async () => {
    const p = definePipeline({
      forward: () => ({
        x: Number.NaN,
        y: [Number.POSITIVE_INFINITY, -0, Number.NEGATIVE_INFINITY],
        z: undefined,
        n: 12345678901234567890n,
        at: new Date(0),
        t: Float32Array.from([1, Number.NaN, Number.NEGATIVE_INFINITY]),
        ids: BigInt64Array.from([-1n, 2n ** 62n]),
        $pp: 'a user key that looks like a tag',
      }),
    });
    const report = await isolate(p, {});
    const text = serializeReport(report);
    // The storage encoding of @prodprobe/sanitize, pretty-printed.
    expect(text).toContain('\n  "schemaVersion": 1,');
    // The user's own "$pp" key is escaped, so the output is wrapped once.
    expect(JSON.parse(text).stages[0].output.v).toMatchObject({
      x: { $pp: 'NaN' },
      z: { $pp: 'undefined' },
      n: { $pp: 'bigint', v: '12345678901234567890' },
    });
    const loaded = parseLayerReport(text);
    expect(loaded).toEqual(report);
    expect(parseLayerReport(JSON.parse(text))).toEqual(report);
    expect(parseLayerReport(serializeReport(report, 0))).toEqual(report);
    const output = loaded.stages[0]!.output as Record<string, unknown>;
    expect(Object.hasOwn(output, 'z')).toBe(true);
    expect(Number.isNaN(output.x)).toBe(true);
    expect(output.y).toEqual([Number.POSITIVE_INFINITY, -0, Number.NEGATIVE_INFINITY]);
    expect(Object.is((output.y as number[])[1], -0)).toBe(true);
    expect(output.n).toBe(12345678901234567890n);
    expect(output.at).toEqual(new Date(0));
    expect(output.t).toBeInstanceOf(Float32Array);
    expect(Array.from(output.t as Float32Array)).toEqual([1, Number.NaN, Number.NEGATIVE_INFINITY]);
    expect(output.ids).toEqual(BigInt64Array.from([-1n, 2n ** 62n]));
    expect(output.$pp).toBe('a user key that looks like a tag');
    expect(() => parseLayerReport('{"schemaVersion": 1}')).toThrow(/kind/);
    expect(() => parseLayerReport('{"schemaVersion": 1')).toThrow(/not valid JSON/);
  });

  it("saves outputs past the storage codec's default limits whole (long strings, long arrays)", async () => {
    const long = 'x'.repeat(1_500_000);
    const values = Float64Array.from({ length: 150_000 }, (_, i) => (i === 7 ? Number.NaN : i));
    const report = await isolate(definePipeline({ forward: () => ({ long, values }) }), {});
    const loaded = parseLayerReport(serializeReport(report, 0));
    expect(loaded.stages[0]!.output).toEqual({ long, values });
  });
});

describe('scanValue', () => {
  it('counts nulls, undefined, empty arrays and all-zero rows with their paths', () => {
    const scan = scanValue({
      a: null,
      b: undefined,
      c: [],
      rows: [
        [0, 0],
        [1, 0],
      ],
      objs: [
        { p: 0, q: 0 },
        { p: 1, q: 2 },
      ],
    });
    expect(scan).toMatchObject({ nullFields: 1, undefinedFields: 1, emptyArrays: 1, allZeroRows: 2 });
    expect(scan.issues.map((i) => i.path)).toEqual(['$.a', '$.b', '$.c', '$.rows[0]', '$.objs[0]']);
  });

  it('reads tensor-like objects row by row along the last dimension', () => {
    const scan = scanValue({
      logits: { dims: [3, 2], data: Float32Array.from([1, 2, 0, 0, Number.NaN, 3]) },
    });
    expect(scan).toMatchObject({ numbers: 6, nan: 1, allZeroRows: 1 });
    expect(scan.issues).toEqual([
      { kind: 'allZeroRow', path: '$.logits.data[1]' },
      { kind: 'nan', path: '$.logits.data[4]' },
    ]);
  });
});
