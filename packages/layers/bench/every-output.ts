// One session that returns every node output: the floor of any inspection through onnxruntime-node
// (one run, nothing scanned; onnxruntime-node copies each fetched output into a new JS buffer), and
// what inspecting would hold at once without splitting the graph. Used by inspect.bench.ts (time)
// and inspect-child.ts (peak memory).
import { readFileSync } from 'node:fs';
import ort from 'onnxruntime-node';
import { analyseModel, withExtraOutputs } from '../src/onnx-graph.js';

/** Loads `model` with every node output exposed, runs it once on `feeds`; returns how many outputs came back. */
export async function runEveryOutput(model: string, feeds: Record<string, ort.Tensor>): Promise<number> {
  const bytes = readFileSync(model);
  const info = analyseModel(bytes);
  const extra = info.candidates.map((c) => c.output).filter((o) => !info.outputs.includes(o));
  const session = await ort.InferenceSession.create(withExtraOutputs(bytes, extra), {
    graphOptimizationLevel: 'basic',
  });
  try {
    return Object.keys(await session.run(feeds, [...info.outputs, ...extra])).length;
  } finally {
    await session.release();
  }
}
