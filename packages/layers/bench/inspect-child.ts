// One measurement in a fresh process, so peak RSS belongs to that work alone.
// Usage: tsx bench/inspect-child.ts <plain|inspect> <model.onnx>
import ort from 'onnxruntime-node';
import { inspectOnnx } from '../src/onnx.js';

const [mode, model] = process.argv.slice(2) as [string, string];
const data = Float32Array.from({ length: 3 * 48 * 192 }, (_, i) => ((i * 7919) % 255) / 255 - 0.5);
// Baseline: runtime loaded and a throwaway tiny tensor made; what the work adds is measured over this.
new ort.Tensor('float32', new Float32Array(1), [1]);
(globalThis as { gc?: () => void }).gc?.();
const baseline = process.resourceUsage().maxRSS;
const t0 = performance.now();
if (mode === 'plain') {
  const session = await ort.InferenceSession.create(model);
  await session.run({ x: new ort.Tensor('float32', data, [1, 3, 48, 192]) });
  await session.release();
} else {
  const report = await inspectOnnx(model, { x: { type: 'float32', dims: [1, 3, 48, 192], data } });
  if (report.nodes.flatMap((n) => n.outputs).length !== 471) throw new Error('not every node was inspected');
}
const ms = performance.now() - t0;
process.stdout.write(JSON.stringify({ baselineKb: baseline, peakKb: process.resourceUsage().maxRSS, ms }));
