import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createFileCaptureStore, withCapture } from '@prodprobe/capture';
import { profile } from '@prodprobe/drift';
import type { Service } from '@prodprobe/layers';
import onnxProto from 'onnx-proto';
import { afterAll, describe, expect, it } from 'vitest';
import { run } from '../program.js';
import { memoryIo } from '../test-io.js';
import type { DiagnoseReport } from './diagnose.js';

const { onnx } = onnxProto;
// Inside the app, so the pipeline module resolves onnxruntime-node and @prodprobe/layers like a service would.
const work = join(import.meta.dirname, '..', '..', `.test-inference-${process.pid}`);
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** x[1,2] → Scale (Mul by 1) → Log → y: a negative feature turns into NaN inside the model, at the Log. */
function logModel(): Uint8Array {
  const info = (name: string) =>
    onnx.ValueInfoProto.create({
      name,
      type: { tensorType: { elemType: 1, shape: { dim: [{ dimValue: 1 }, { dimValue: 2 }] } } },
    });
  const one = onnx.TensorProto.create({ name: 'one', dims: [1], dataType: 1, floatData: [1] });
  return onnx.ModelProto.encode(
    onnx.ModelProto.create({
      irVersion: 8,
      opsetImport: [{ domain: '', version: 15 }],
      graph: {
        name: 'log-model',
        node: [
          { name: 'scale', opType: 'Mul', input: ['x', 'one'], output: ['s'] },
          { name: 'log', opType: 'Log', input: ['s'], output: ['y'] },
        ],
        initializer: [one],
        input: [info('x')],
        output: [info('y')],
      },
    }),
  ).finish();
}

// A service's pipeline module, as `diagnose --pipeline` loads it: TypeScript, its own stage names.
const pipelineModule = `
import * as ort from 'onnxruntime-node';
import { definePipeline, defineService } from '@prodprobe/layers';

const modelPath = new URL('./model.onnx', import.meta.url).pathname;

export default defineService({
  name: 'log-scorer',
  async load(_version: string) {
    const session = await ort.InferenceSession.create(modelPath);
    return definePipeline([
      { name: 'check', kind: 'validation', run: (input: any) => typeof input?.a === 'number' && typeof input?.b === 'number' },
      { name: 'to-tensor', kind: 'preprocessing', run: (input: { a: number; b: number }) => Float32Array.of(input.a, input.b) },
      {
        name: 'score',
        kind: 'inference',
        run: async (x: Float32Array) => (await session.run({ x: new ort.Tensor('float32', x, [1, 2]) })).y.data,
        onnx: { model: modelPath, feeds: (x: unknown) => ({ x: { type: 'float32', dims: [1, 2], data: x as Float32Array } }) },
      },
      { name: 'sum', kind: 'postprocessing', run: (y: Float32Array) => ({ score: y[0]! + y[1]! }) },
    ]);
  },
  isFailure: (output: { score?: number }) => (Number.isFinite(output?.score) ? false : 'score is not finite'),
});
`;

describe('diagnose: a failure that starts inside the model', () => {
  it('replays it, isolates it to inference, and names the first non-finite ONNX node', async () => {
    mkdirSync(work, { recursive: true });
    writeFileSync(join(work, 'model.onnx'), logModel());
    writeFileSync(join(work, 'pipeline.ts'), pipelineModule);
    const { default: service } = (await import(pathToFileURL(join(work, 'pipeline.ts')).href)) as {
      default: Service<unknown, { score: number }>;
    };
    const pipeline = await service.pipeline('log-v1');
    const store = createFileCaptureStore(join(work, 'captures'));
    const predict = withCapture((input: unknown) => pipeline.run(input), {
      store,
      modelVersion: 'log-v1',
      isFailure: service.isFailure,
    });
    expect(Number.isFinite((await predict({ a: 1, b: 2 })).score)).toBe(true);
    expect(Number.isNaN((await predict({ a: -1, b: 2 })).score)).toBe(true);
    await predict.flush();

    const mem = memoryIo({ cwd: work });
    const code = await run(
      ['node', 'prodprobe', '--json', 'diagnose', '--captures', 'captures', '--pipeline', 'pipeline.ts'],
      mem.io,
    );
    expect(mem.stderr()).toBe('');
    expect(code).toBe(1); // a root cause was found
    const report = JSON.parse(mem.stdout()) as DiagnoseReport;
    expect(report.totals.captures).toBe(1);
    const [replay] = report.replays;
    expect(replay).toMatchObject({ reproduced: true, verdict: 'model-or-input' });
    expect(replay!.isolation).toMatchObject({
      failedStage: null,
      nonFiniteOrigin: 'score',
      nonFiniteKind: 'inference',
      onnx: { inspected: true, stage: 'score', firstNonFinite: { node: 'log', opType: 'Log' } },
    });
    const cause = report.rootCauses.find((c) => c.kind === 'model-or-input');
    expect(cause?.evidence.join('\n')).toContain('First non-finite ONNX node: log (Log)');
    expect(report.notChecked.some((n) => n.startsWith('logs:'))).toBe(true);

    // The same pipeline module replays the capture on its own (what a replay next command runs).
    const again = memoryIo({ cwd: work });
    const replayed = await run(
      ['node', 'prodprobe', 'capture', 'replay', 'captures', replay!.recordId, '--pipeline', 'pipeline.ts'],
      again.io,
    );
    expect(again.stderr()).toBe('');
    expect(replayed).toBe(1);
    expect(again.stdout()).toContain('REPRODUCED');
    expect(again.stdout()).toContain('score is not finite');
    const neither = memoryIo({ cwd: work });
    expect(
      await run(['node', 'prodprobe', 'capture', 'replay', 'captures', replay!.recordId], neither.io),
    ).toBe(2);
    expect(neither.stderr()).toMatch(/give either --pipeline .* or --model/);
  });

  it('captured inputs that are not rows (a tensor as an array) are left out of drift, not a crash', async () => {
    const dir = join(work, 'tensor-captures');
    mkdirSync(dir, { recursive: true });
    const store = createFileCaptureStore(join(dir, 'captures'));
    const predict = withCapture(
      (_x: number[]): number => {
        throw new Error('bad tensor');
      },
      { store, modelVersion: 'v1' },
    );
    expect(() => predict([1, 2, 3])).toThrow('bad tensor');
    await predict.flush();
    writeFileSync(join(dir, 'ref.json'), JSON.stringify(profile([{ a: 1 }, { a: 2 }])));
    const mem = memoryIo({ cwd: dir });
    const code = await run(
      ['node', 'prodprobe', '--json', 'diagnose', '--captures', 'captures', '--reference', 'ref.json'],
      mem.io,
    );
    expect(mem.stderr()).not.toMatch(/expected a plain object/);
    expect(code).toBe(0);
    const report = JSON.parse(mem.stdout()) as DiagnoseReport;
    expect(report.totals.captures).toBe(1);
    expect(report.notChecked).toContain('drift: no production inputs in the logs or captures to compare');
  });

  it('drift of captured inputs: the unseen-category next command compares the capture folder, and runs', async () => {
    const dir = join(work, 'row-captures');
    mkdirSync(dir, { recursive: true });
    const predict = withCapture(
      (x: { method: string; amount: number }): number => {
        if (x.method === 'bnpl') throw new Error('unknown method');
        return x.amount;
      },
      { store: createFileCaptureStore(join(dir, 'captures')), modelVersion: 'v1' },
    );
    for (let i = 0; i < 20; i++) expect(() => predict({ method: 'bnpl', amount: i })).toThrow();
    await predict.flush();
    const training = Array.from({ length: 50 }, (_, i) => ({ method: i % 2 ? 'card' : 'cash', amount: i }));
    writeFileSync(join(dir, 'ref.json'), JSON.stringify(profile(training)));
    const mem = memoryIo({ cwd: dir });
    const argv = [
      'node',
      'prodprobe',
      '--json',
      'diagnose',
      '--captures',
      'captures',
      '--reference',
      'ref.json',
      '--html',
      'report.html',
    ];
    // Exit 1: diagnose found root causes.
    expect(await run(argv, mem.io), mem.stderr()).toBe(1);
    const report = JSON.parse(mem.stdout()) as DiagnoseReport;
    expect(report.driftFrom).toBe('captures');
    const cause = report.rootCauses.find((c) => c.kind === 'unseen-category');
    expect(cause?.next).toBe(
      `prodprobe drift compare ${join(dir, 'ref.json')} ${join(dir, 'captures')} --html drift.html`,
    );
    // A reference of 50 rows is small: the p-value decides, and the drift chart's caption says so.
    expect(report.drift?.fields.some((f) => f.decidedBy === 'p-value')).toBe(true);
    expect(readFileSync(join(dir, 'report.html'), 'utf8')).toContain(
      'With a reference this small (50 rows) the adjusted p-value decides',
    );
    const next = memoryIo({ cwd: dir });
    expect(await run(['node', ...cause!.next.split(' ')], next.io), next.stderr()).toBe(0);
    expect(next.stdout()).toMatch(/method/);
    expect(next.stderr()).toMatch(/20 captured inputs \(failures only/);
  });

  it('a --pipeline module that declares no service, or does not compile, is a usage error naming the file', async () => {
    mkdirSync(work, { recursive: true });
    writeFileSync(join(work, 'empty.mjs'), 'export const x = 1;\n');
    const mem = memoryIo({ cwd: work });
    const code = await run(
      ['node', 'prodprobe', 'diagnose', '--captures', '.', '--pipeline', 'empty.mjs'],
      mem.io,
    );
    expect(code).toBe(2);
    expect(mem.stderr()).toContain(
      '--pipeline empty.mjs: expected a module whose default export is defineService({ name, load }) of @prodprobe/layers (it exports x)',
    );
    writeFileSync(join(work, 'broken.ts'), 'export default defineService({ name: "x", load: ( });\n');
    const broken = memoryIo({ cwd: work });
    expect(
      await run(['node', 'prodprobe', 'diagnose', '--captures', '.', '--pipeline', 'broken.ts'], broken.io),
    ).toBe(2);
    expect(broken.stderr()).toContain(`--pipeline ${join(work, 'broken.ts')}: cannot import it:`);
    const missing = memoryIo({ cwd: work });
    expect(
      await run(['node', 'prodprobe', 'diagnose', '--captures', '.', '--pipeline', 'nope.ts'], missing.io),
    ).toBe(2);
    expect(missing.stderr()).toContain('--pipeline nope.ts: no such file');
  });
});
