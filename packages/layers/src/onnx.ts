import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import onnxProto from 'onnx-proto';
import ort from 'onnxruntime-node';
import { diffTensors } from './compare.js';
import { LayersError } from './errors.js';
import { externalTensors, inlineExternalData } from './external-data.js';
import { checkFeeds, type FeedSpec } from './feeds.js';
import { analyseModel, initializerValues, type ModelInfo, withExtraOutputs } from './onnx-graph.js';
import type {
  FirstNonFinite,
  InspectedNode,
  InspectedOutput,
  NotInspected,
  ObserverEffect,
  OnnxInspection,
} from './schemas.js';
import { encodeSegment, mergeSegments, planSegments, type Segment } from './segments.js';
import {
  encodeTensorData,
  hasNonFinite,
  isFloatDtype,
  type NumericData,
  numericView,
  type TensorStats,
  tensorStats,
} from './tensor-stats.js';

const { onnx } = onnxProto;

/** Bytes of node outputs a part aims at by default (its outputs are held twice at its end). */
const PART_BYTES = 4 * 1024 * 1024;
/** Outputs per unit of the default plan, merged into parts by {@link PART_BYTES}. */
const UNIT_OUTPUTS = 8;

/** Options of {@link inspectOnnx}. */
export interface InspectOptions {
  /**
   * Most node outputs read per session and run; bounds memory. The graph is split into consecutive
   * parts of at most this many outputs, each loaded as a model of its own and fed the values it reads
   * from earlier parts, so the runtime holds one part's intermediate tensors at a time and every node is
   * still loaded and run once. When the graph is not split (see `splitGraph`), the whole graph is loaded
   * once per batch of this many added outputs, so smaller batches cost more time. Left unset, a graph
   * of more than 128 outputs is split into parts of at most 128 that aim at about 4 MB of outputs each
   * (judged by the part before), so large activations (a batch, a big image) get smaller parts.
   * @default 128 when split (fewer for large outputs), 512 otherwise
   */
  batchSize?: number;
  /**
   * Split the graph into parts (see `batchSize`). With `false` every batch runs the whole graph with
   * outputs added. Splitting falls back to the whole graph by itself when a value crossing a cut is not
   * a tensor, for IR < 4 or sparse initializers, and when a part fails to load or run.
   * @default true
   */
  splitGraph?: boolean;
  /**
   * Keep full tensor data in the report (needed for an element-wise `compareRuns`); `true` for every
   * output or a list of output names.
   * @default false
   */
  keepTensors?: boolean | string[];
  /**
   * Tolerance of the observer-effect check (instrumented vs plain final outputs).
   * @default { rtol: 1e-5, atol: 1e-5 }
   */
  observerTolerance?: { rtol?: number; atol?: number };
  /**
   * Session options passed to onnxruntime (graph optimization level, threads, ...). The instrumented
   * sessions use `graphOptimizationLevel: 'basic'` unless it is set here: with every node output
   * exposed nothing can be fused, and level 'all' only adds layout reorders and load time.
   * @default {} (onnxruntime's defaults; 'basic' for the instrumented sessions)
   */
  sessionOptions?: ort.InferenceSession.SessionOptions;
  /** Called after each batch, for progress display. */
  onProgress?: (done: number, total: number) => void;
}

/** A feed: an onnxruntime tensor or plain data (see `parseFeeds`). */
export type Feed = ort.Tensor | FeedSpec;

function toTensor(name: string, feed: Feed): ort.Tensor {
  if (feed instanceof ort.Tensor) return feed;
  const f = feed as FeedSpec;
  try {
    return new ort.Tensor(f.type as 'float32', f.data as Float32Array, f.dims);
  } catch (cause) {
    throw new LayersError('BAD_FEED', `feed "${name}": ${(cause as Error).message}`, { cause });
  }
}

const unsupported =
  /No Op registered|Could not find an implementation|is not a registered function\/op|Unrecognized attribute|opset .* not supported|Unsupported/i;

function runtimeError(stage: string, cause: unknown): LayersError {
  const message = cause instanceof Error ? cause.message : String(cause);
  if (unsupported.test(message)) {
    return new LayersError('UNSUPPORTED_OP', `onnxruntime cannot run this model (${stage}): ${message}`, {
      cause,
    });
  }
  return new LayersError('RUNTIME_ERROR', `onnxruntime failed (${stage}): ${message}`, { cause });
}

async function createSession(
  bytes: Uint8Array,
  options: ort.InferenceSession.SessionOptions | undefined,
  stage: string,
) {
  try {
    return await ort.InferenceSession.create(bytes, options ?? {});
  } catch (cause) {
    throw runtimeError(stage, cause);
  }
}

function statsOf(tensor: ort.Tensor): TensorStats | null {
  const view = numericView(tensor.data, tensor.type);
  return view ? tensorStats(view) : null;
}

function keptData(tensor: ort.Tensor): InspectedOutput['data'] {
  if (tensor.type === 'string') return [...(tensor.data as string[])];
  return encodeTensorData(tensor.data as ArrayBufferView);
}

/**
 * Runs an ONNX model with every intermediate node output exposed and reports, per node in topological
 * order, each output's dtype, shape and stats; names the first node that produced NaN/Inf from finite
 * inputs; lists what could not be inspected and why; and checks that instrumenting did not change the
 * final outputs. `model` is a file path or the model bytes.
 */
export async function inspectOnnx(
  model: string | Uint8Array,
  feeds: Record<string, Feed>,
  options: InspectOptions = {},
): Promise<OnnxInspection> {
  const started = performance.now();
  const split = options.splitGraph ?? true;
  const batchSize = options.batchSize ?? 512;
  const partSize = options.batchSize ?? 128;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new LayersError('BAD_OPTIONS', `batchSize must be a positive integer, got ${batchSize}`);
  }
  let bytes: Uint8Array;
  if (typeof model === 'string') {
    try {
      bytes = await readFile(model);
    } catch (cause) {
      throw new LayersError('NOT_ONNX', `cannot read model file ${model}: ${(cause as Error).message}`, {
        cause,
      });
    }
  } else bytes = model;
  let info = analyseModel(bytes);
  const external = externalTensors(info.proto);
  if (external.length > 0) {
    if (typeof model !== 'string') {
      throw new LayersError(
        'EXTERNAL_DATA',
        `the model keeps ${external.length} tensor(s) in external data files (${external[0]!.name}, ...): pass it as a file path, so they can be read from its folder`,
      );
    }
    // The report names the model file, so it keeps the file's hash.
    const { sha256 } = info;
    await inlineExternalData(external, dirname(resolve(model)), bytes.byteLength);
    bytes = onnx.ModelProto.encode(info.proto).finish();
    info = { ...analyseModel(bytes), sha256 };
  }
  const tensors: Record<string, ort.Tensor> = {};
  for (const [name, feed] of Object.entries(feeds)) tensors[name] = toTensor(name, feed);
  checkFeeds(info.inputs, tensors);

  // Plain run first: the reference for the observer-effect check, and the clearest errors.
  const t0 = performance.now();
  const plain = await createSession(bytes, options.sessionOptions, 'loading the model');
  // Tensor outputs only: onnxruntime-node cannot return a sequence or a map (a ZipMap's
  // probabilities, say), and asking for one fails the whole run. Those are listed below.
  const tensorOutputs = plain.outputMetadata.filter((m) => m.isTensor).map((m) => m.name);
  let plainOut: ort.InferenceSession.ReturnType | undefined;
  try {
    if (tensorOutputs.length > 0) plainOut = await plain.run(tensors, tensorOutputs);
  } catch (cause) {
    throw runtimeError('running the model', cause);
  } finally {
    await plain.release();
  }
  if (plainOut === undefined) {
    throw new LayersError(
      'RUNTIME_ERROR',
      `every graph output is a non-tensor value (sequence, map or optional: ${plain.outputNames.join(', ')}), which onnxruntime-node cannot return, so there is nothing to compare the instrumented run with`,
    );
  }
  const plainRunMs = performance.now() - t0;

  const keep = options.keepTensors ?? false;
  const keepSet = Array.isArray(keep) ? new Set(keep) : null;
  const shouldKeep = (name: string) => keep === true || (keepSet?.has(name) ?? false);
  const graphOutputs = new Set(info.outputs);
  let notInspected: NotInspected[] = [...info.notInspected];
  let results = new Map<string, InspectedOutput>();
  const record = (name: string, tensor: ort.Tensor) => {
    const out: InspectedOutput = {
      name,
      dtype: tensor.type,
      shape: [...tensor.dims],
      stats: statsOf(tensor),
      graphOutput: graphOutputs.has(name),
    };
    if (shouldKeep(name)) out.data = keptData(tensor);
    results.set(name, out);
  };
  const nonTensor = (c: ModelInfo['candidates'][number]): NotInspected => ({
    node: c.node.name,
    opType: c.node.opType,
    output: c.output,
    reason: 'non-tensor',
    detail: 'onnxruntime reports a non-tensor value (sequence, map or optional)',
  });
  let instrumentedFinal: Record<string, ort.Tensor> = {};
  let sessions = 0;
  // With every node output exposed, onnxruntime can fuse next to nothing, and its layout
  // optimizations (level 'all': NCHWc convolutions) add a reorder for each exposed output, so the
  // instrumented sessions default to 'basic' (constant folding, no fusion or layout change).
  const instrumentedOptions: ort.InferenceSession.SessionOptions = {
    graphOptimizationLevel: 'basic',
    ...options.sessionOptions,
  };

  // Each part of the graph runs as a model of its own, fed the values it reads from earlier parts.
  // onnxruntime keeps every graph output of a run alive until the run ends and onnxruntime-node then
  // copies each into a JS buffer, so a whole-graph run holds all intermediate tensors twice at its end;
  // a part holds only its own (plus the JS copies made so far), and every node is still loaded once.
  // Any failure falls back to the whole graph, which also gives errors their usual wording.
  //
  // By default the plan is made of small units (UNIT_OUTPUTS outputs), and each part takes as many
  // units as keep it near PART_BYTES of outputs, judged by the bytes per output of the part before
  // (at most `partSize` outputs; the first part is one unit): a part's outputs are held twice at its
  // end, so big activations (a batch, a large image) get small parts and small ones stay few.
  const inspectSegments = async (units: Segment[], adaptive: boolean): Promise<void> => {
    const candidateOf = new Map(info.candidates.map((c) => [c.output, c]));
    const available = new Map<string, ort.Tensor>(Object.entries(tensors));
    const lastUse = new Map<string, number>();
    const computed = new Map<string, { type: string; dims: readonly number[] }>();
    let bytesPerOutput = Number.POSITIVE_INFINITY;
    for (let u = 0; u < units.length; ) {
      let v = u + 1;
      let outputs = units[u]!.outputs.length;
      while (adaptive && v < units.length) {
        const more = outputs + units[v]!.outputs.length;
        if (more > partSize || more * bytesPerOutput > PART_BYTES) break;
        outputs = more;
        v++;
      }
      const segment = v - u === 1 ? units[u]! : mergeSegments(units, u, v);
      const feeds: Record<string, ort.Tensor> = {};
      for (const name of segment.inputs) {
        const t = available.get(name);
        if (!t) throw new Error(`segment ${u} needs ${name}, which was not read`);
        feeds[name] = t;
      }
      const session = await createSession(
        encodeSegment(bytes, info, segment, computed),
        instrumentedOptions,
        'loading a segment',
      );
      sessions++;
      let partBytes = 0;
      let fetched = 0;
      try {
        const isTensor = new Map(session.outputMetadata.map((m) => [m.name, m.isTensor]));
        const fetch: string[] = [];
        for (const name of segment.outputs) {
          if (isTensor.get(name) !== false) fetch.push(name);
          else if (!graphOutputs.has(name)) notInspected.push(nonTensor(candidateOf.get(name)!));
        }
        const out = fetch.length > 0 ? await session.run(feeds, fetch) : {};
        for (const name of fetch) {
          const tensor = out[name];
          if (!tensor) continue;
          record(name, tensor);
          fetched++;
          const data = tensor.data as { byteLength?: number; length: number };
          partBytes += data.byteLength ?? data.length * 8;
          if (graphOutputs.has(name)) instrumentedFinal[name] = tensor;
          const last = segment.lastReader.get(name);
          if (last !== undefined) {
            available.set(name, tensor);
            lastUse.set(name, last);
            computed.set(name, { type: tensor.type, dims: tensor.dims });
          }
        }
      } finally {
        await session.release();
      }
      // Drop what no later part reads, so those copies can be collected.
      for (const [name, last] of lastUse) {
        if (last < v) {
          available.delete(name);
          lastUse.delete(name);
        }
      }
      if (fetched > 0) bytesPerOutput = partBytes / fetched;
      options.onProgress?.(v, units.length);
      u = v;
    }
  };

  const inspectWholeGraph = async (): Promise<void> => {
    const toAdd = info.candidates.filter((c) => !graphOutputs.has(c.output));
    const batches: (typeof toAdd)[] = [];
    for (let i = 0; i < toAdd.length; i += batchSize) batches.push(toAdd.slice(i, i + batchSize));
    if (batches.length === 0) batches.push([]);
    for (const [b, batch] of batches.entries()) {
      const names = batch.map((c) => c.output);
      const session = await createSession(
        withExtraOutputs(bytes, names),
        instrumentedOptions,
        'loading the instrumented model',
      );
      sessions++;
      try {
        const fetch: string[] = [];
        const meta = session.outputMetadata;
        const isTensor = new Map(meta.map((m) => [m.name, m.isTensor]));
        for (const c of batch) {
          if (isTensor.get(c.output) === false) notInspected.push(nonTensor(c));
          else fetch.push(c.output);
        }
        // Graph outputs are read once, with the first batch.
        const finals = b === 0 ? info.outputs.filter((o) => o && isTensor.get(o) !== false) : [];
        let out: ort.InferenceSession.ReturnType;
        try {
          out = await session.run(tensors, [...finals, ...fetch]);
        } catch (cause) {
          if (b === 0 && fetch.length === 0) throw runtimeError('running the instrumented model', cause);
          const message = cause instanceof Error ? cause.message : String(cause);
          for (const c of batch) {
            notInspected.push({
              node: c.node.name,
              opType: c.node.opType,
              output: c.output,
              reason: 'runtime-refused',
              detail: `onnxruntime failed to run with this batch of outputs: ${message}`,
            });
          }
          continue;
        }
        for (const name of [...finals, ...fetch]) {
          const tensor = out[name];
          if (tensor) record(name, tensor);
        }
        if (b === 0) for (const name of finals) if (out[name]) instrumentedFinal[name] = out[name];
      } finally {
        await session.release();
      }
      options.onProgress?.(b + 1, batches.length);
    }
  };

  const t1 = performance.now();
  const segments = split ? planSegments(info, partSize) : null;
  // A graph split in parts of `partSize` outputs is re-planned in small units merged by size (unless
  // batchSize was given, which sets the parts).
  const units =
    segments && options.batchSize === undefined ? (planSegments(info, UNIT_OUTPUTS) ?? null) : null;
  let segmented = false;
  if (segments) {
    try {
      await inspectSegments(units ?? segments, units !== null);
      segmented = true;
    } catch {
      notInspected = [...info.notInspected];
      results = new Map();
      instrumentedFinal = {};
      sessions = 0;
    }
  }
  if (!segmented) await inspectWholeGraph();
  const instrumentedRunMs = performance.now() - t1;
  // Graph outputs that onnxruntime refused are listed rather than silently missing.
  for (const o of info.outputs) {
    if (o && !results.has(o) && !notInspected.some((n) => n.output === o)) {
      const producer = info.nodes.find((n) => n.outputs.includes(o));
      notInspected.push({
        node: producer?.name ?? '',
        opType: producer?.opType ?? '',
        output: o,
        reason: 'non-tensor',
        detail: 'graph output is not a tensor',
      });
    }
  }

  const observerEffect = checkObserverEffect(plainOut, instrumentedFinal, options.observerTolerance ?? {});
  instrumentedFinal = {};

  const nodes: InspectedNode[] = info.nodes.map((n) => ({
    index: n.index,
    name: n.name,
    opType: n.opType,
    domain: n.domain,
    inputs: n.inputs,
    outputs: n.outputs.flatMap((o) => {
      const r = results.get(o);
      return r ? [r] : [];
    }),
  }));
  const feedReport = Object.entries(tensors).map(([name, t]) => ({
    name,
    dtype: t.type,
    shape: [...t.dims],
    stats: statsOf(t),
  }));
  const firstNonFinite = findFirstNonFinite(info, nodes, feedReport);
  const opsets = (info.proto.opsetImport ?? []).map((o) => ({
    domain: o.domain ?? '',
    version: Number(o.version ?? 0),
  }));
  return {
    schemaVersion: 1,
    kind: 'onnx-inspection',
    model: {
      path: typeof model === 'string' ? model : null,
      sha256: info.sha256,
      irVersion: Number(info.proto.irVersion ?? 0),
      producer: [info.proto.producerName, info.proto.producerVersion].filter(Boolean).join(' '),
      opsets,
    },
    feeds: feedReport,
    nodes,
    notInspected,
    firstNonFinite,
    observerEffect,
    batches: sessions,
    timing: { totalMs: performance.now() - started, plainRunMs, instrumentedRunMs },
  };
}

function checkObserverEffect(
  plain: ort.InferenceSession.ReturnType,
  instrumented: Record<string, ort.Tensor>,
  tolerance: { rtol?: number; atol?: number },
): ObserverEffect {
  const rtol = tolerance.rtol ?? 1e-5;
  const atol = tolerance.atol ?? 1e-5;
  const outputs: ObserverEffect['outputs'] = [];
  for (const [name, p] of Object.entries(plain)) {
    const i = instrumented[name];
    const pv = numericView(p.data, p.type);
    const iv = i ? numericView(i.data, i.type) : null;
    if (!i || !pv || !iv) continue;
    const sameShape = p.dims.length === i.dims.length && p.dims.every((d, k) => d === i.dims[k]);
    if (!sameShape) {
      const inf = Number.POSITIVE_INFINITY;
      outputs.push({ name, equal: false, maxAbsError: inf, maxRelError: inf });
      continue;
    }
    // NaN in the same place in both runs is the model's behaviour, not an observer effect.
    const d = diffTensors(pv as NumericData, iv as NumericData, !isFloatDtype(p.type), {
      rtol,
      atol,
      equalNan: true,
    });
    outputs.push({ name, equal: d.mismatches === 0, maxAbsError: d.maxAbsError, maxRelError: d.maxRelError });
  }
  const checked = outputs.length > 0;
  const equal = checked && outputs.every((o) => o.equal);
  const note = !checked
    ? 'no numeric final output to compare; the observer effect was not checked'
    : equal
      ? `instrumented final outputs equal the plain run's within rtol=${rtol}, atol=${atol}`
      : 'instrumented final outputs differ from the plain run: exposing intermediate outputs changed which kernels ran (e.g. fusions); intermediate values may not be exactly those of production';
  return { checked, equal, rtol, atol, outputs, note };
}

function findFirstNonFinite(
  info: ModelInfo,
  nodes: InspectedNode[],
  feeds: { name: string; stats: TensorStats | null }[],
): FirstNonFinite | null {
  const stats = new Map<string, TensorStats | null>();
  for (const f of feeds) stats.set(f.name, f.stats);
  for (const n of nodes) for (const o of n.outputs) stats.set(o.name, o.stats);
  const initStats = (name: string): TensorStats | null | undefined => {
    const t = info.initializers.get(name);
    if (!t) return undefined;
    const values = initializerValues(t);
    return values ? tensorStats(values) : null;
  };
  const health = (name: string) => {
    const s = stats.has(name) ? stats.get(name)! : initStats(name);
    if (s === undefined) return { name, health: 'unknown' as const, stats: null };
    // Integer tensors (stats always finite) and strings (null stats) cannot carry NaN.
    if (s === null) return { name, health: 'finite' as const, stats: null };
    return { name, health: hasNonFinite(s) ? ('non-finite' as const) : ('finite' as const), stats: s };
  };
  for (const node of nodes) {
    const bad = node.outputs.find((o) => o.stats && hasNonFinite(o.stats));
    if (!bad) continue;
    const inputs = node.inputs.filter(Boolean).map(health);
    if (inputs.some((i) => i.health === 'non-finite')) continue;
    return {
      node: node.name,
      opType: node.opType,
      output: bad.name,
      inputs,
      outputs: node.outputs.map((o) => ({
        name: o.name,
        health: o.stats && hasNonFinite(o.stats) ? ('non-finite' as const) : ('finite' as const),
        stats: o.stats,
      })),
    };
  }
  return null;
}
