import { describe, expect, it } from 'vitest';
import { LayersError } from './errors.js';
import { createTrace, definePipeline, isolate } from './pipeline.js';
import { defineService, isService } from './service.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A team's own pipeline: its own stage names, a data source, any subset of kinds. */
function ocrLike(cache: Map<string, number[]>) {
  return definePipeline<{ id: string; pixels: number[] }, { label: string; score: number }>([
    {
      name: 'check-image',
      kind: 'validation',
      run: (x: { id: string; pixels: number[] }) => Array.isArray(x.pixels),
    },
    {
      name: 'load-tensor',
      kind: 'features',
      run: async (x: { id: string; pixels: number[] }, ctx) => {
        const cached = cache.get(x.id);
        ctx.source('tensor-cache', { hit: cached !== undefined, version: cached ? 'v1' : 'v2', asOf: 0 });
        await sleep(5);
        return cached ?? x.pixels;
      },
    },
    {
      name: 'normalise',
      kind: 'preprocessing',
      run: (px: number[]) => {
        if (px.length === 0) throw new RangeError('cannot normalise an empty image');
        const mean = px.reduce((a, b) => a + b, 0) / px.length;
        return px.map((p) => p - mean);
      },
    },
    { name: 'classify', kind: 'inference', run: (x: number[]) => x.reduce((a, b) => a + Math.abs(b), 0) },
    {
      name: 'label',
      kind: 'postprocessing',
      run: (s: number) => ({ label: s > 1 ? 'flipped' : 'upright', score: s }),
    },
  ]);
}

describe('definePipeline with named stages', () => {
  it('runs stages of any name in order and reports their names and kinds', async () => {
    const p = ocrLike(new Map());
    expect(p.stages.map((s) => [s.name, s.kind])).toEqual([
      ['check-image', 'validation'],
      ['load-tensor', 'features'],
      ['normalise', 'preprocessing'],
      ['classify', 'inference'],
      ['label', 'postprocessing'],
    ]);
    expect(await p.run({ id: 'a', pixels: [0, 2] })).toEqual({ label: 'flipped', score: 2 });
    const report = await isolate(p, { id: 'a', pixels: [] });
    expect(report.failedStage).toBe('normalise');
    expect(report.stages.find((s) => s.stage === 'normalise')).toMatchObject({
      kind: 'preprocessing',
      status: 'failed',
      error: { name: 'RangeError', message: 'cannot normalise an empty image' },
    });
    expect(report.stages.find((s) => s.stage === 'load-tensor')!.sources).toEqual([
      {
        name: 'tensor-cache',
        stage: 'load-tensor',
        hit: false,
        version: 'v2',
        asOf: '1970-01-01T00:00:00.000Z',
      },
    ]);
  });

  it('a traced run records each stage time, the sources read and the stage that threw', async () => {
    const p = ocrLike(new Map([['old', [1, 1, 1]]]));
    const trace = createTrace();
    await p.run({ id: 'old', pixels: [9] }, trace);
    expect(Object.keys(trace.stages)).toEqual([
      'check-image',
      'load-tensor',
      'normalise',
      'classify',
      'label',
    ]);
    expect(trace.stages['load-tensor']).toBeGreaterThanOrEqual(4);
    expect(trace.sources).toEqual([
      {
        name: 'tensor-cache',
        stage: 'load-tensor',
        hit: true,
        version: 'v1',
        asOf: '1970-01-01T00:00:00.000Z',
      },
    ]);
    expect(trace.failedStage).toBeUndefined();
    const failing = createTrace();
    await expect(p.run({ id: 'x', pixels: [] }, failing)).rejects.toThrow(RangeError);
    expect(failing.failedStage).toBe('normalise');
    expect(Object.keys(failing.stages)).toEqual(['check-image', 'load-tensor', 'normalise']);
    // Untraced runs ignore ctx.source.
    await expect(p.run({ id: 'x', pixels: [3] })).resolves.toMatchObject({ label: 'upright' });
  });

  it('isolates a pipeline-shaped value from another copy of the package by its public stages', async () => {
    const p = ocrLike(new Map());
    const copy = { stages: p.stages.map((s) => ({ ...s })), run: p.run };
    expect((await isolate(copy, { id: 'a', pixels: [] })).failedStage).toBe('normalise');
    await expect(isolate({ stages: [{ name: 'x' }] } as never, 1)).rejects.toThrow(LayersError);
  });

  it('refuses bad stage lists, naming the stage and the problem', () => {
    const bad = (stages: unknown) => () => definePipeline(stages as never);
    expect(bad([{ name: '', kind: 'inference', run: () => 1 }])).toThrow(/stage 0: name/);
    expect(
      bad([
        { name: 'a', kind: 'inference', run: () => 1 },
        { name: 'a', kind: 'postprocessing', run: () => 1 },
      ]),
    ).toThrow(/stage 1 "a": name: used twice/);
    expect(bad([{ name: 'a', kind: 'model', run: () => 1 }])).toThrow(/kind: expected one of validation/);
    expect(
      bad([{ name: 'a', kind: 'inference', run: { safeParse: () => ({ success: true, data: 1 }) } }]),
    ).toThrow(/only works as a validation stage/);
    expect(bad({ infer: () => 1 })).toThrow(/unknown stage "infer"/);
  });
});

describe('defineService', () => {
  it('loads each model version once, retries a failed load, and replays through loadModel', async () => {
    const loads: string[] = [];
    let failNext = true;
    const service = defineService({
      name: 'doubler',
      async load(version) {
        loads.push(version);
        if (version === 'flaky' && failNext) {
          failNext = false;
          throw new Error('model file not there yet');
        }
        return definePipeline<number, number>([
          { name: 'double', kind: 'inference', run: (x: number) => x * 2 },
        ]);
      },
    });
    expect(isService(service)).toBe(true);
    expect(isService({ kind: 'prodprobe.service' })).toBe(false);
    const [a, b] = await Promise.all([service.pipeline('v1'), service.pipeline('v1')]);
    expect(a).toBe(b);
    expect(await (await service.loadModel('v1'))(21)).toBe(42);
    await expect(service.pipeline('flaky')).rejects.toThrow('model file not there yet');
    await expect(service.pipeline('flaky')).resolves.toBeDefined();
    expect(loads).toEqual(['v1', 'flaky', 'flaky']);
  });

  it("normalises the service's failure check to a reason or false, and leaves it out when none is declared", () => {
    const plain = defineService({ name: 's', load: () => definePipeline([]) });
    expect(plain.isFailure).toBeUndefined();
    const flagged = defineService({
      name: 's',
      load: () => definePipeline([]),
      isFailure: (o: number) => o < 0,
    });
    expect(flagged.isFailure!(-1)).toBe('bad output');
    expect(flagged.isFailure!(1)).toBe(false);
    const own = defineService({
      name: 's',
      load: () => definePipeline([]),
      isFailure: (o: { label?: string }) => (o.label === undefined ? 'no label' : false),
    });
    expect(own.isFailure!({})).toBe('no label');
    expect(own.isFailure!({ label: 'x' })).toBe(false);
  });

  it('refuses a definition without a name or a loader, and a loader that returns no pipeline', async () => {
    expect(() => defineService({ load: () => definePipeline([]) } as never)).toThrow(/name/);
    expect(() => defineService({ name: 'x' } as never)).toThrow(/load: expected a function/);
    const broken = defineService({ name: 'x', load: () => ({}) as never });
    await expect(broken.pipeline('v1')).rejects.toThrow(
      /load\("v1"\) returned object, expected definePipeline/,
    );
  });
});
