/**
 * Models saved with external data keep their large tensors in side files: each such tensor has
 * `dataLocation: EXTERNAL` and `location`, `offset` and `length` entries, which onnxruntime resolves
 * next to the model file. `inspectOnnx` runs in-memory copies of the model (outputs added, or cut
 * into parts) that have no file path, so it reads that data into the copy first.
 */
import { open, stat } from 'node:fs/promises';
import { isAbsolute, relative, resolve } from 'node:path';
import onnxProto from 'onnx-proto';
import { LayersError } from './errors.js';
import { subgraphs } from './onnx-graph.js';

const { onnx } = onnxProto;
const EXTERNAL = onnx.TensorProto.DataLocation.EXTERNAL;
/** Protobuf messages (and so an ONNX model held in memory) cannot exceed 2 GiB. */
const MAX_MODEL_BYTES = 2 ** 31 - 1;

/** Every tensor of a graph: initializers, sparse ones' parts, attribute tensors, and those of subgraphs. */
function* tensorsOf(graph: onnxProto.onnx.IGraphProto): Generator<onnxProto.onnx.ITensorProto> {
  yield* graph.initializer ?? [];
  for (const s of graph.sparseInitializer ?? []) {
    if (s.values) yield s.values;
    if (s.indices) yield s.indices;
  }
  for (const node of graph.node ?? []) {
    for (const a of node.attribute ?? []) {
      if (a.t) yield a.t;
      yield* a.tensors ?? [];
    }
    for (const { graph: sub } of subgraphs(node)) yield* tensorsOf(sub);
  }
}

/** The tensors of `model` stored in external files. */
export function externalTensors(model: onnxProto.onnx.IModelProto): onnxProto.onnx.ITensorProto[] {
  return model.graph ? [...tensorsOf(model.graph)].filter((t) => t.dataLocation === EXTERNAL) : [];
}

function entry(t: onnxProto.onnx.ITensorProto, key: string): string | undefined {
  return t.externalData?.find((e) => e.key === key)?.value ?? undefined;
}

/** A non-negative integer entry (`offset`, `length`), or `undefined` when it is absent. */
function intEntry(t: onnxProto.onnx.ITensorProto, key: string): number | undefined {
  const text = entry(t, key);
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text)) {
    throw new LayersError(
      'EXTERNAL_DATA',
      `initializer ${t.name}: external data ${key} "${text}" is not a byte count`,
    );
  }
  return Number(text);
}

/**
 * Reads the external data of `tensors` (from `modelDir`, the model file's folder) into them as
 * `rawData`, so the model no longer needs its side files. Mutates the tensors.
 * @throws LayersError `EXTERNAL_DATA` for a location outside `modelDir`, a missing file, a range past
 * its end, or a model that would exceed 2 GiB in memory.
 */
export async function inlineExternalData(
  tensors: onnxProto.onnx.ITensorProto[],
  modelDir: string,
  modelBytes: number,
): Promise<void> {
  let total = modelBytes;
  const files = new Map<string, { file: Awaited<ReturnType<typeof open>>; size: number }>();
  try {
    for (const t of tensors) {
      const location = entry(t, 'location');
      if (!location)
        throw new LayersError('EXTERNAL_DATA', `initializer ${t.name}: external data has no location`);
      const path = resolve(modelDir, location);
      const inside = relative(modelDir, path);
      if (inside.startsWith('..') || isAbsolute(inside)) {
        throw new LayersError(
          'EXTERNAL_DATA',
          `initializer ${t.name}: external data location "${location}" is outside the model's folder ${modelDir}`,
        );
      }
      let opened = files.get(path);
      if (!opened) {
        try {
          const { size } = await stat(path);
          opened = { file: await open(path, 'r'), size };
          files.set(path, opened);
        } catch (cause) {
          throw new LayersError(
            'EXTERNAL_DATA',
            `initializer ${t.name}: cannot read its external data file ${path} (${(cause as Error).message})`,
            { cause },
          );
        }
      }
      const { file, size } = opened;
      const offset = intEntry(t, 'offset') ?? 0;
      const length = intEntry(t, 'length') ?? size - offset;
      if (offset + length > size || length < 0) {
        throw new LayersError(
          'EXTERNAL_DATA',
          `initializer ${t.name}: external data bytes ${offset}..${offset + length} are past the end of ${path} (${size} bytes)`,
        );
      }
      total += length;
      if (total > MAX_MODEL_BYTES) {
        throw new LayersError(
          'EXTERNAL_DATA',
          `the model with its external data is over 2 GiB: inspecting it needs in-memory copies of the model, and an ONNX protobuf cannot exceed 2 GiB`,
        );
      }
      const data = new Uint8Array(length);
      const { bytesRead } = await file.read(data, 0, length, offset);
      if (bytesRead !== length) {
        throw new LayersError(
          'EXTERNAL_DATA',
          `initializer ${t.name}: short read of ${path} (${bytesRead} of ${length} bytes)`,
        );
      }
      t.rawData = data;
      t.dataLocation = onnx.TensorProto.DataLocation.DEFAULT;
      t.externalData = [];
    }
  } finally {
    await Promise.all([...files.values()].map(({ file }) => file.close()));
  }
}
