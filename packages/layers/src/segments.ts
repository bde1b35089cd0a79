import onnxProto from 'onnx-proto';
import { type ModelInfo, toNumber } from './onnx-graph.js';
import { onnxElemTypes } from './tensor-stats.js';

const { onnx } = onnxProto;

/**
 * A contiguous run of nodes (topological order) that is inspected as a model of its own: its inputs are
 * the feeds and values computed by earlier segments, its outputs are its nodes' outputs. The runtime
 * then holds only this segment's intermediate values at once, and each node is still loaded once.
 */
export interface Segment {
  /** Node indexes `[start, end)` into `ModelInfo.nodes`. */
  start: number;
  end: number;
  /** Values read from the feeds or from earlier segments. */
  inputs: string[];
  /** The inspectable node outputs of this segment. */
  outputs: string[];
  /** Index of the last segment that reads each of this segment's outputs (absent: no later reader). */
  lastReader: Map<string, number>;
}

/**
 * Splits the graph into segments of at most `maxOutputs` inspectable outputs, or null when it is not
 * split: one segment would do, IR < 4 (initializers must also be graph inputs there), sparse
 * initializers, or a value crossing a cut that cannot be read as a tensor (a sequence, say).
 */
export function planSegments(info: ModelInfo, maxOutputs: number): Segment[] | null {
  const graph = info.proto.graph;
  if (!graph || toNumber(info.proto.irVersion) < 4 || (graph.sparseInitializer ?? []).length > 0) return null;
  const readable = new Set(info.candidates.map((c) => c.output));
  const producer = new Map<string, number>();
  info.nodes.forEach((n, i) => {
    for (const o of n.outputs) if (o) producer.set(o, i);
  });
  const feedNames = new Set(info.inputs.map((i) => i.name));
  const ranges: [number, number][] = [];
  let start = 0;
  let count = 0;
  info.nodes.forEach((n, i) => {
    const own = n.outputs.filter((o) => readable.has(o)).length;
    if (i > start && count + own > maxOutputs) {
      ranges.push([start, i]);
      start = i;
      count = 0;
    }
    count += own;
  });
  ranges.push([start, info.nodes.length]);
  if (ranges.length < 2) return null;

  const segmentOf = (node: number) => ranges.findIndex(([a, b]) => node >= a && node < b);
  const segments: Segment[] = ranges.map(([a, b]) => ({
    start: a,
    end: b,
    inputs: [],
    outputs: info.nodes
      .slice(a, b)
      .flatMap((n) => n.outputs)
      .filter((o) => readable.has(o)),
    lastReader: new Map(),
  }));
  for (const [s, seg] of segments.entries()) {
    const inputs = new Set<string>();
    for (let i = seg.start; i < seg.end; i++) {
      for (const name of info.nodeReads[i]!) {
        const p = producer.get(name);
        if (p !== undefined && p >= seg.start) continue;
        if (p !== undefined) {
          // A value from an earlier segment is fed back in: it must be one we read as a tensor.
          if (!readable.has(name)) return null;
          inputs.add(name);
          const from = segments[segmentOf(p)]!;
          from.lastReader.set(name, Math.max(from.lastReader.get(name) ?? -1, s));
        } else if (feedNames.has(name)) inputs.add(name);
        // Otherwise an initializer (kept with the segment) or a name local to a subgraph.
      }
    }
    seg.inputs = [...inputs];
  }
  return segments;
}

/**
 * Consecutive segments `from` (inclusive) to `to` (exclusive) of a plan as one: their nodes, outputs
 * and the inputs none of them produces; `lastReader` keeps the values read after `to` (indices into
 * the same plan).
 */
export function mergeSegments(plan: readonly Segment[], from: number, to: number): Segment {
  const parts = plan.slice(from, to);
  const outputs = parts.flatMap((p) => p.outputs);
  const inside = new Set(outputs);
  const inputs = [...new Set(parts.flatMap((p) => p.inputs))].filter((name) => !inside.has(name));
  const lastReader = new Map<string, number>();
  for (const p of parts) for (const [name, last] of p.lastReader) if (last >= to) lastReader.set(name, last);
  return { start: parts[0]!.start, end: parts[parts.length - 1]!.end, inputs, outputs, lastReader };
}

// --- protobuf wire format: enough to copy the fields of a model without decoding them ----------

function readVarint(buf: Uint8Array, pos: number): [value: number, next: number] {
  let value = 0;
  let scale = 1;
  for (let i = pos; i < buf.length && i < pos + 10; i++) {
    const b = buf[i]!;
    value += (b & 0x7f) * scale;
    if (b < 0x80) return [value, i + 1];
    scale *= 128;
  }
  throw new Error('bad varint');
}

function varint(value: number): number[] {
  const out: number[] = [];
  let v = value;
  while (v >= 0x80) {
    out.push((v % 128) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}

interface Field {
  field: number;
  /** The whole field: tag, length and payload. */
  raw: Uint8Array;
  payload: Uint8Array;
}

function fieldsOf(buf: Uint8Array): Field[] {
  const fields: Field[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const start = pos;
    const [tag, afterTag] = readVarint(buf, pos);
    const wire = tag % 8;
    let payload = afterTag;
    let end: number;
    if (wire === 0) end = readVarint(buf, afterTag)[1];
    else if (wire === 1) end = afterTag + 8;
    else if (wire === 5) end = afterTag + 4;
    else if (wire === 2) {
      const [length, afterLength] = readVarint(buf, afterTag);
      payload = afterLength;
      end = afterLength + length;
    } else throw new Error(`unsupported wire type ${wire}`);
    if (end > buf.length) throw new Error('truncated field');
    fields.push({
      field: Math.floor(tag / 8),
      raw: buf.subarray(start, end),
      payload: buf.subarray(payload, end),
    });
    pos = end;
  }
  return fields;
}

function lengthDelimited(field: number, payload: Uint8Array): Uint8Array[] {
  return [Uint8Array.from([...varint(field * 8 + 2), ...varint(payload.byteLength)]), payload];
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

/** Where each part of the graph sits in the model bytes, so segments are cut out of them as they are. */
interface Layout {
  before: Uint8Array;
  after: Uint8Array;
  /** Graph fields kept in every segment (name, doc string, quantization annotations, ...). */
  kept: Uint8Array[];
  nodes: Uint8Array[];
  initializers: Map<string, Uint8Array>;
  valueInfo: Map<string, Uint8Array>;
}

/** `ModelProto.graph` and the `GraphProto` fields a segment rewrites. */
const MODEL_GRAPH = 7;
const GRAPH = { node: 1, initializer: 5, input: 11, output: 12, valueInfo: 13 };

function layoutOf(bytes: Uint8Array, info: ModelInfo): Layout | null {
  try {
    const top = fieldsOf(bytes);
    const graphs = top.filter((f) => f.field === MODEL_GRAPH);
    if (graphs.length !== 1) return null;
    const g = graphs[0]!;
    const start = g.raw.byteOffset - bytes.byteOffset;
    const fields = fieldsOf(g.payload);
    const of = (n: number) => fields.filter((f) => f.field === n).map((f) => f.raw);
    const graph = info.proto.graph!;
    const nodes = of(GRAPH.node);
    const inits = of(GRAPH.initializer);
    const infos = of(GRAPH.valueInfo);
    // The decoded lists come from these very fields, in this order.
    if (
      nodes.length !== (graph.node ?? []).length ||
      inits.length !== (graph.initializer ?? []).length ||
      infos.length !== (graph.valueInfo ?? []).length
    ) {
      return null;
    }
    const replaced = new Set(Object.values(GRAPH));
    return {
      before: bytes.subarray(0, start),
      after: bytes.subarray(start + g.raw.byteLength),
      kept: fields.filter((f) => !replaced.has(f.field)).map((f) => f.raw),
      nodes,
      initializers: new Map(inits.map((raw, i) => [graph.initializer![i]!.name ?? '', raw])),
      valueInfo: new Map(infos.map((raw, i) => [graph.valueInfo![i]!.name ?? '', raw])),
    };
  } catch {
    return null;
  }
}

const layouts = new WeakMap<ModelInfo, Layout | null>();
const elemTypeOf = new Map(Object.entries(onnxElemTypes).map(([n, t]) => [t as string, Number(n)]));

/**
 * The bytes of one segment as a model: its nodes, the initializers they read, the original
 * declarations of the feeds it reads, and for values from earlier segments their element type and
 * rank (sizes left symbolic, as in the whole graph, so the runtime picks the same kernels). Nodes,
 * initializers and every other field are copied from `bytes` as they are, not re-encoded.
 */
export function encodeSegment(
  bytes: Uint8Array,
  info: ModelInfo,
  segment: Segment,
  computed: ReadonlyMap<string, { type: string; dims: readonly number[] }>,
): Uint8Array {
  const graph = info.proto.graph!;
  const reads = new Set<string>();
  const produced = new Set<string>();
  for (let i = segment.start; i < segment.end; i++) {
    for (const name of info.nodeReads[i]!) reads.add(name);
    for (const name of info.nodes[i]!.outputs) if (name) produced.add(name);
  }
  const declared = new Map((graph.input ?? []).map((v) => [v.name ?? '', v]));
  const declaredOutputs = new Map((graph.output ?? []).map((v) => [v.name ?? '', v]));
  const input = segment.inputs.map((name) => {
    const value = computed.get(name);
    if (!value) return declared.get(name)!;
    const elemType = elemTypeOf.get(value.type);
    if (elemType === undefined) throw new Error(`cannot declare a ${value.type} input`);
    return { name, type: { tensorType: { elemType, shape: { dim: value.dims.map(() => ({})) } } } };
  });
  const output = segment.outputs.map((name) => declaredOutputs.get(name) ?? { name });
  const fileIndex = info.nodeFileIndex.slice(segment.start, segment.end);

  if (!layouts.has(info)) layouts.set(info, layoutOf(bytes, info));
  const layout = layouts.get(info);
  if (!layout) {
    return onnx.ModelProto.encode({
      ...info.proto,
      graph: {
        ...graph,
        node: fileIndex.map((i) => graph.node![i]!),
        input,
        output,
        initializer: (graph.initializer ?? []).filter((t) => t.name && reads.has(t.name)),
        valueInfo: (graph.valueInfo ?? []).filter((v) => v.name && produced.has(v.name)),
      },
    }).finish();
  }
  const parts: Uint8Array[] = [...layout.kept, ...fileIndex.map((i) => layout.nodes[i]!)];
  for (const [name, raw] of layout.initializers) if (reads.has(name)) parts.push(raw);
  for (const v of input) parts.push(...lengthDelimited(GRAPH.input, onnx.ValueInfoProto.encode(v).finish()));
  for (const v of output)
    parts.push(...lengthDelimited(GRAPH.output, onnx.ValueInfoProto.encode(v).finish()));
  for (const [name, raw] of layout.valueInfo) if (produced.has(name)) parts.push(raw);
  const graphBytes = concat(parts);
  return concat([layout.before, ...lengthDelimited(MODEL_GRAPH, graphBytes), layout.after]);
}
