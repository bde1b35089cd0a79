// One measurement in a fresh process, so peak RSS belongs to that work alone.
// Usage: tsx bench/inspect-child.ts <plain|inspect|every-output> <model.onnx> <input name> <dims, e.g. 1x3x48x192>
import { readFileSync } from 'node:fs';
import ort from 'onnxruntime-node';
import { inspectOnnx } from '../src/onnx.js';
import { runEveryOutput } from './every-output.js';

// The peak RSS of this process image (kB). Not resourceUsage().maxRSS: Linux carries a parent's
// ru_maxrss over fork and exec, so a child of a big parent would start at the parent's peak.
const peakKb = () => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]);

const [mode, model, input, dimsText] = process.argv.slice(2) as [string, string, string, string];
const dims = dimsText.split('x').map(Number);
const size = dims.reduce((a, b) => a * b, 1);
const data = Float32Array.from({ length: size }, (_, i) => ((i * 7919) % 255) / 255 - 0.5);
// Baseline: runtime loaded and a throwaway tiny tensor made; what the work adds is measured over this.
new ort.Tensor('float32', new Float32Array(1), [1]);
(globalThis as { gc?: () => void }).gc?.();
const baseline = peakKb();
const t0 = performance.now();
let nodes = 0;
let notInspected = 0;
if (mode === 'plain') {
  const session = await ort.InferenceSession.create(model);
  await session.run({ [input]: new ort.Tensor('float32', data, dims) });
  await session.release();
} else if (mode === 'every-output') {
  nodes = await runEveryOutput(model, { [input]: new ort.Tensor('float32', data, dims) });
} else {
  const report = await inspectOnnx(model, { [input]: { type: 'float32', dims, data } });
  nodes = report.nodes.length;
  notInspected = report.notInspected.length;
  if (nodes === 0) throw new Error('no node was inspected');
}
const ms = performance.now() - t0;
process.stdout.write(JSON.stringify({ baselineKb: baseline, peakKb: peakKb(), ms, nodes, notInspected }));
