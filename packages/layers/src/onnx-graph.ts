import { createHash } from 'node:crypto';
import onnxProto from 'onnx-proto';
import { LayersError } from './errors.js';
import type { NotInspected } from './schemas.js';
import { type NumericData, onnxElemTypes, type TensorDtype, widenHalf } from './tensor-stats.js';

const { onnx } = onnxProto;

/** The decoded protobuf classes of `onnx-proto` (ONNX IR 8), for building or reading models. */
export const onnxSchema: typeof onnxProto.onnx = onnx;

type ModelProto = onnxProto.onnx.ModelProto;
type GraphProto = onnxProto.onnx.IGraphProto;
type TensorProto = onnxProto.onnx.ITensorProto;
type TypeProto = onnxProto.onnx.ITypeProto;

/** A protobuf int64 as decoded by protobufjs (a `Long`) or a plain number. */
export function toNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (v !== null && typeof v === 'object' && typeof (v as { toNumber?: unknown }).toNumber === 'function') {
    return (v as { toNumber(): number }).toNumber();
  }
  return Number(v ?? 0);
}

/** A graph input the caller must feed. */
export interface ModelInput {
  name: string;
  dtype: TensorDtype;
  /** Fixed sizes as numbers, symbolic or unknown ones as strings (`"batch"`) or null. */
  dims: (number | string | null)[] | null;
}

/** A node of the main graph in topological order. */
export interface GraphNode {
  index: number;
  name: string;
  opType: string;
  domain: string;
  inputs: string[];
  outputs: string[];
}

/** What `inspectOnnx` needs to know about a model before running it. */
export interface ModelInfo {
  proto: ModelProto;
  sha256: string;
  inputs: ModelInput[];
  outputs: string[];
  nodes: GraphNode[];
  initializers: Map<string, TensorProto>;
  /** Node outputs that can be added as graph outputs and read. */
  candidates: { node: GraphNode; output: string }[];
  notInspected: NotInspected[];
  /** Per node (order of `nodes`): its position in the file's `graph.node` list. */
  nodeFileIndex: number[];
  /** Per node (order of `nodes`): every value it reads, including from inside its subgraphs. */
  nodeReads: string[][];
}

function dtypeOf(type: TypeProto | null | undefined): TensorDtype {
  const elem = type?.tensorType?.elemType;
  return elem ? (onnxElemTypes[elem] ?? 'unknown') : 'unknown';
}

function dimsOf(type: TypeProto | null | undefined): (number | string | null)[] | null {
  const shape = type?.tensorType?.shape;
  if (!shape) return null;
  return (shape.dim ?? []).map((d) => {
    const dim = d as onnxProto.onnx.TensorShapeProto.Dimension;
    if (dim.value === 'dimValue') return toNumber(dim.dimValue);
    if (dim.value === 'dimParam') return dim.dimParam ?? null;
    if (d.dimParam) return d.dimParam;
    if (d.dimValue !== null && d.dimValue !== undefined && toNumber(d.dimValue) > 0)
      return toNumber(d.dimValue);
    return null;
  });
}

const sequenceOps = new Set([
  'SequenceConstruct',
  'SequenceEmpty',
  'SequenceInsert',
  'SequenceErase',
  'SplitToSequence',
  'Optional',
  'ZipMap',
]);

/** The graphs a node holds in its attributes (If branches, Loop and Scan bodies), named by attribute. */
export function subgraphs(node: onnxProto.onnx.INodeProto): { attr: string; graph: GraphProto }[] {
  const out: { attr: string; graph: GraphProto }[] = [];
  for (const a of node.attribute ?? []) {
    if (a.g) out.push({ attr: a.name ?? '', graph: a.g });
    for (const [i, g] of (a.graphs ?? []).entries()) out.push({ attr: `${a.name}[${i}]`, graph: g });
  }
  return out;
}

function nodeName(node: onnxProto.onnx.INodeProto, index: number): string {
  return node.name ? node.name : `${node.opType ?? 'node'}_${index}`;
}

function collectSubgraph(
  prefix: string,
  graph: GraphProto,
  notInspected: NotInspected[],
  usedNames: Set<string>,
): void {
  for (const [i, inner] of (graph.node ?? []).entries()) {
    const name = `${prefix}/${nodeName(inner, i)}`;
    for (const input of inner.input ?? []) if (input) usedNames.add(input);
    for (const output of inner.output ?? []) {
      if (!output) continue;
      notInspected.push({
        node: name,
        opType: inner.opType ?? '',
        output,
        reason: 'inside-subgraph',
        detail: 'values inside If/Loop/Scan bodies cannot be added as outputs of the main graph',
      });
    }
    for (const sub of subgraphs(inner))
      collectSubgraph(`${name}/${sub.attr}`, sub.graph, notInspected, usedNames);
  }
}

/**
 * Decodes an ONNX model and works out what can be inspected: graph inputs, nodes in topological order,
 * the node outputs that can be exposed, and the ones that cannot (with the reason).
 * Throws `LayersError('NOT_ONNX')` when the bytes are not an ONNX model.
 */
export function analyseModel(bytes: Uint8Array): ModelInfo {
  let proto: ModelProto;
  try {
    proto = onnx.ModelProto.decode(bytes);
  } catch (cause) {
    throw new LayersError(
      'NOT_ONNX',
      `not an ONNX model: protobuf decoding failed (${(cause as Error).message})`,
      {
        cause,
      },
    );
  }
  const graph = proto.graph;
  if (
    !graph ||
    toNumber(proto.irVersion) <= 0 ||
    ((graph.node ?? []).length === 0 && (graph.output ?? []).length === 0)
  ) {
    throw new LayersError('NOT_ONNX', 'not an ONNX model: no IR version or no graph in the file');
  }
  const initializers = new Map<string, TensorProto>();
  for (const t of graph.initializer ?? []) if (t.name) initializers.set(t.name, t);
  const inputs: ModelInput[] = (graph.input ?? [])
    .filter((v) => v.name && !initializers.has(v.name))
    .map((v) => ({ name: v.name!, dtype: dtypeOf(v.type), dims: dimsOf(v.type) }));
  const outputs = (graph.output ?? []).map((v) => v.name ?? '');
  const valueKinds = new Map<string, string>();
  for (const v of [...(graph.valueInfo ?? []), ...(graph.output ?? [])]) {
    const kind = (v.type as onnxProto.onnx.TypeProto | null | undefined)?.value;
    if (v.name && kind) valueKinds.set(v.name, kind);
  }

  const raw = graph.node ?? [];
  const notInspected: NotInspected[] = [];
  // Dependencies include names a node's subgraphs read from the outer scope.
  const producer = new Map<string, number>();
  raw.forEach((n, i) => {
    for (const o of n.output ?? []) if (o) producer.set(o, i);
  });
  const reads: string[][] = [];
  const deps: number[][] = raw.map((n, i) => {
    const used = new Set<string>((n.input ?? []).filter(Boolean));
    for (const sub of subgraphs(n))
      collectSubgraph(`${nodeName(n, i)}/${sub.attr}`, sub.graph, notInspected, used);
    reads.push([...used]);
    const d: number[] = [];
    for (const name of used) {
      const p = producer.get(name);
      if (p !== undefined && p !== i) d.push(p);
    }
    return d;
  });
  let order = raw.map((_, i) => i);
  if (deps.some((d, i) => d.some((p) => p > i))) order = topologicalOrder(deps);

  const nodes: GraphNode[] = order.map((i, index) => {
    const n = raw[i]!;
    return {
      index,
      name: nodeName(n, i),
      opType: n.opType ?? '',
      domain: n.domain ?? '',
      inputs: [...(n.input ?? [])],
      outputs: [...(n.output ?? [])],
    };
  });
  const candidates: ModelInfo['candidates'] = [];
  for (const node of nodes) {
    for (const output of node.outputs) {
      if (!output) {
        notInspected.push({
          node: node.name,
          opType: node.opType,
          output: '',
          reason: 'empty-optional-output',
          detail: 'the optional output is not produced by this node',
        });
        continue;
      }
      const kind = valueKinds.get(output);
      if ((kind && kind !== 'tensorType') || (!kind && sequenceOps.has(node.opType))) {
        notInspected.push({
          node: node.name,
          opType: node.opType,
          output,
          reason: 'non-tensor',
          detail: `the value is a ${kind ?? 'sequence/map/optional'}, not a tensor`,
        });
        continue;
      }
      candidates.push({ node, output });
    }
  }
  const produced = new Set(nodes.flatMap((n) => n.outputs));
  for (const o of outputs) {
    if (o && !produced.has(o)) {
      notInspected.push({
        node: '',
        opType: '',
        output: o,
        reason: 'graph-output-not-from-node',
        detail: initializers.has(o)
          ? 'the graph output is an initializer'
          : 'the graph output is a graph input',
      });
    }
  }
  return {
    proto,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    inputs,
    outputs,
    nodes,
    initializers,
    candidates,
    notInspected,
    nodeFileIndex: order,
    nodeReads: order.map((i) => reads[i]!),
  };
}

function topologicalOrder(deps: number[][]): number[] {
  const n = deps.length;
  const indegree = new Array<number>(n).fill(0);
  const users: number[][] = Array.from({ length: n }, () => []);
  deps.forEach((d, i) => {
    for (const p of new Set(d)) {
      indegree[i]!++;
      users[p]!.push(i);
    }
  });
  // Lowest original index first among ready nodes keeps the file's order where it is valid.
  const ready = deps.map((_, i) => i).filter((i) => indegree[i] === 0);
  const order: number[] = [];
  while (ready.length > 0) {
    ready.sort((a, b) => a - b);
    const i = ready.shift()!;
    order.push(i);
    for (const u of users[i]!) if (--indegree[u]! === 0) ready.push(u);
  }
  if (order.length !== n) throw new LayersError('NOT_ONNX', 'the ONNX graph has a cycle');
  return order;
}

/**
 * The numbers of a floating-point initializer (for the health of node inputs), or null for integer
 * types, which are always finite.
 */
export function initializerValues(t: TensorProto): NumericData | null {
  const dtype = onnxElemTypes[t.dataType ?? 0];
  const raw = t.rawData && t.rawData.length > 0 ? t.rawData : null;
  const copy = (bytes: Uint8Array) => {
    const c = new Uint8Array(bytes.byteLength);
    c.set(bytes);
    return c.buffer;
  };
  if (dtype === 'float32') return raw ? new Float32Array(copy(raw)) : Float32Array.from(t.floatData ?? []);
  if (dtype === 'float64') return raw ? new Float64Array(copy(raw)) : Float64Array.from(t.doubleData ?? []);
  if (dtype === 'float16' || dtype === 'bfloat16') {
    const bits = raw ? new Uint16Array(copy(raw)) : Uint16Array.from((t.int32Data ?? []).map(Number));
    return widenHalf(bits, dtype);
  }
  return null;
}

/**
 * The model bytes with extra graph outputs, by appending a second `graph` field holding only those
 * outputs: protobuf merges repeated fields of an embedded message, so every byte of the original
 * (including fields newer than this decoder knows) is kept as is. A name is enough for onnxruntime,
 * which infers the type.
 */
export function withExtraOutputs(bytes: Uint8Array, names: string[]): Uint8Array {
  if (names.length === 0) return bytes;
  const tail = onnx.ModelProto.encode({ graph: { output: names.map((name) => ({ name })) } }).finish();
  const out = new Uint8Array(bytes.byteLength + tail.byteLength);
  out.set(bytes, 0);
  out.set(tail, bytes.byteLength);
  return out;
}
