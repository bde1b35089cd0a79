import { LayersError } from './errors.js';
import type { FeedSpec } from './feeds.js';
import { scanHasNonFinite, scanValue } from './health.js';
import {
  type LayerReport,
  type SourceRead,
  type StageKind,
  type StageReport,
  stageKinds,
} from './schemas.js';

/** What a stage reports about a data source it read; `asOf` may be a Date or epoch ms. */
export type SourceInfo = Omit<SourceRead, 'name' | 'stage' | 'asOf'> & { asOf?: string | Date | number };

/** The second argument of every stage function. */
export interface StageContext {
  /**
   * Notes a data source this stage read: a feature store, a cache, a blob store. Traced runs and
   * `isolate` record it (the logs then tell which source version or which slow read the failing
   * or slow requests have in common); an untraced run ignores it at no cost.
   */
  source(name: string, info?: SourceInfo): void;
}

/** A stage function: sync or async, gets the previous stage's output. */
// biome-ignore lint/suspicious/noExplicitAny: stages are typed by the caller; any lets each stage narrow its own input.
export type StageFn<I = any, O = any> = (input: I, ctx: StageContext) => O | Promise<O>;

/** Anything with zod's `safeParse` (a zod schema), usable as a validation stage. */
export interface SchemaLike<T = unknown> {
  safeParse(input: unknown): { success: true; data: T } | { success: false; error: unknown };
}

/** How to run an inference stage's ONNX model outside the stage, for node-by-node inspection. */
export interface OnnxStage {
  /** The model file (path) or its bytes. */
  model: string | Uint8Array;
  /** The feeds the stage gives its session for a given stage input. */
  feeds(input: unknown): Record<string, FeedSpec>;
}

/**
 * One stage of a service's pipeline, any name. A `validation` stage is a zod schema (its parsed
 * output continues) or a function that throws on bad input or returns `false`; when it returns
 * `undefined` or `true`, the input itself continues. Any other stage's return value continues.
 */
export interface StageSpec {
  /** Unique within the pipeline: reports, traces and logs name the stage by it. */
  name: string;
  kind: StageKind;
  run: StageFn | SchemaLike;
  /** For an `inference` stage on ONNX: how to inspect it node by node. */
  onnx?: OnnxStage;
}

/**
 * The five-stage object form: `validate`, `extractFeatures`, `preprocess`, `forward`,
 * `postprocess`, all optional, run in that order (the keys are the stage names).
 */
export interface PipelineStages {
  validate?: SchemaLike | StageFn;
  extractFeatures?: StageFn;
  preprocess?: StageFn;
  forward?: StageFn;
  postprocess?: StageFn;
}

/** The kind of each key of the object form. */
const objectFormKinds: Record<keyof PipelineStages, StageKind> = {
  validate: 'validation',
  extractFeatures: 'features',
  preprocess: 'preprocessing',
  forward: 'inference',
  postprocess: 'postprocessing',
};

/** A stage as a pipeline exposes it. */
export interface PipelineStage {
  readonly name: string;
  readonly kind: StageKind;
  readonly onnx?: OnnxStage;
  /**
   * The stage on its own (a validation stage's schema or `false` check included): what `isolate`
   * runs, so a pipeline from another copy of this package isolates the same.
   */
  run(input: unknown, ctx: StageContext): unknown;
}

/** What a traced `run` records: per-stage wall time, the sources read, the stage that threw. */
export interface PipelineTrace {
  /** Milliseconds each stage took, by stage name, in the order they ran (a failed stage included). */
  stages: Record<string, number>;
  /** Data sources the stages reported (`ctx.source`). */
  sources: SourceRead[];
  /** The stage that threw, when one did. */
  failedStage?: string;
}

/** An empty trace for one `pipeline.run(input, trace)`. */
export function createTrace(): PipelineTrace {
  return { stages: {}, sources: [] };
}

/** A pipeline: `run` is the production path; `isolate` runs the very same stages with checks between them. */
export interface Pipeline<I = unknown, O = unknown> {
  readonly stages: readonly PipelineStage[];
  /**
   * Runs every stage in order and returns the last output; errors propagate unchanged. With a
   * `trace`, also records each stage's time, the sources read and the stage that threw.
   */
  run(input: I, trace?: PipelineTrace): Promise<O>;
}

/** Thrown by a function validation stage that returned `false`. */
class ValidationFailed extends Error {
  override readonly name = 'ValidationFailed';
}

function isSchema(v: unknown): v is SchemaLike {
  return typeof v === 'object' && v !== null && typeof (v as SchemaLike).safeParse === 'function';
}

type Step = (input: unknown, ctx: StageContext) => unknown;

function validateStep(validate: SchemaLike | StageFn): Step {
  if (isSchema(validate)) {
    return (input) => {
      const result = validate.safeParse(input);
      if (result.success) return result.data;
      const issues = (result.error as { issues?: { path: PropertyKey[]; message: string }[] }).issues;
      const message = issues
        ? issues
            .slice(0, 5)
            .map((i) => `${i.path.length ? i.path.map(String).join('.') : '(root)'}: ${i.message}`)
            .join('; ')
        : String(result.error);
      throw new ValidationFailed(`input failed validation: ${message}`, { cause: result.error });
    };
  }
  const fn = validate as StageFn;
  return (input, ctx) => {
    const out = fn(input, ctx);
    const settle = (v: unknown) => {
      if (v === false)
        throw new ValidationFailed('input failed validation: the validate stage returned false');
      return v === undefined || v === true ? input : v;
    };
    return out instanceof Promise ? out.then(settle) : settle(out);
  };
}

function toSpecs(stages: PipelineStages | readonly StageSpec[]): StageSpec[] {
  if (Array.isArray(stages)) return stages as StageSpec[];
  if (typeof stages !== 'object' || stages === null)
    throw new LayersError(
      'BAD_PIPELINE',
      'definePipeline: expected an array of stages or an object of stages',
    );
  const byKey = stages as Record<string, unknown>;
  for (const key of Object.keys(byKey)) {
    if (!(key in objectFormKinds)) {
      throw new LayersError(
        'BAD_PIPELINE',
        `unknown stage "${key}"; the object form takes ${Object.keys(objectFormKinds).join(', ')} (for other names pass an array of { name, kind, run })`,
      );
    }
  }
  return (Object.keys(objectFormKinds) as (keyof PipelineStages)[])
    .filter((key) => byKey[key] !== undefined)
    .map((key) => ({ name: key, kind: objectFormKinds[key], run: byKey[key] as StageFn | SchemaLike }));
}

function compile(specs: readonly StageSpec[]): PipelineStage[] {
  const seen = new Set<string>();
  return specs.map((spec, i) => {
    const where = `stage ${i}${typeof spec?.name === 'string' && spec.name ? ` "${spec.name}"` : ''}`;
    if (typeof spec !== 'object' || spec === null)
      throw new LayersError('BAD_PIPELINE', `${where}: expected an object`);
    if (typeof spec.name !== 'string' || spec.name.length === 0)
      throw new LayersError('BAD_PIPELINE', `${where}: name: expected a non-empty string`);
    if (seen.has(spec.name)) throw new LayersError('BAD_PIPELINE', `${where}: name: used twice`);
    seen.add(spec.name);
    if (!(stageKinds as readonly string[]).includes(spec.kind))
      throw new LayersError(
        'BAD_PIPELINE',
        `${where}: kind: expected one of ${stageKinds.join(', ')}, got ${JSON.stringify(spec.kind)}`,
      );
    const onnx = spec.onnx === undefined ? {} : { onnx: spec.onnx };
    if (spec.kind === 'validation')
      return Object.freeze({ name: spec.name, kind: spec.kind, run: validateStep(spec.run), ...onnx });
    if (typeof spec.run !== 'function')
      throw new LayersError(
        'BAD_PIPELINE',
        `${where}: run: expected a function${isSchema(spec.run) ? ' (a schema only works as a validation stage)' : `, got ${typeof spec.run}`}`,
      );
    if (spec.onnx !== undefined && typeof spec.onnx.feeds !== 'function')
      throw new LayersError('BAD_PIPELINE', `${where}: onnx.feeds: expected a function`);
    return Object.freeze({ name: spec.name, kind: spec.kind, run: spec.run as Step, ...onnx });
  });
}

/** The context of an untraced run: reports go nowhere. */
const silent: StageContext = Object.freeze({ source() {} });

function sourceRead(stage: string, name: string, info: SourceInfo | undefined): SourceRead {
  const read: SourceRead = { name: String(name), stage };
  if (info?.version !== undefined) read.version = String(info.version);
  if (info?.asOf !== undefined) {
    const at = info.asOf instanceof Date || typeof info.asOf === 'number' ? new Date(info.asOf) : null;
    read.asOf =
      at === null ? String(info.asOf) : Number.isNaN(at.getTime()) ? String(info.asOf) : at.toISOString();
  }
  if (typeof info?.hit === 'boolean') read.hit = info.hit;
  if (typeof info?.ms === 'number' && info.ms >= 0) read.ms = info.ms;
  return read;
}

/** A context recording into `reads` on behalf of the stage `current()` names. */
function recordingContext(reads: SourceRead[], current: () => string): StageContext {
  return { source: (name, info) => void reads.push(sourceRead(current(), name, info)) };
}

/**
 * Declares the stages of a model service once: an array of `{ name, kind, run }` (any names, any
 * subset of kinds, run in array order), or the five-stage object form. Use `pipeline.run(input)`
 * in production (a plain loop over the stages, no checks) and `isolate(pipeline, input)` to find
 * which stage breaks an input.
 * @throws LayersError `BAD_PIPELINE` naming the stage and what is wrong with it.
 */
export function definePipeline<I = unknown, O = unknown>(
  stages: PipelineStages | readonly StageSpec[],
): Pipeline<I, O> {
  const compiled = Object.freeze(compile(toSpecs(stages)));
  const n = compiled.length;
  return {
    stages: compiled,
    async run(input: I, trace?: PipelineTrace): Promise<O> {
      let value: unknown = input;
      if (trace === undefined) {
        for (let i = 0; i < n; i++) {
          value = compiled[i]!.run(value, silent);
          if (value instanceof Promise) value = await value;
        }
        return value as O;
      }
      let stage = '';
      const ctx = recordingContext(trace.sources, () => stage);
      for (let i = 0; i < n; i++) {
        const { name, run } = compiled[i]!;
        stage = name;
        const t0 = performance.now();
        try {
          value = run(value, ctx);
          if (value instanceof Promise) value = await value;
        } catch (error) {
          trace.stages[name] = performance.now() - t0;
          trace.failedStage = name;
          throw error;
        }
        trace.stages[name] = performance.now() - t0;
      }
      return value as O;
    },
  };
}

/** Options of {@link isolate}. */
export interface IsolateOptions {
  /**
   * Keep each stage's output in the report (set false for large tensors).
   * @default true
   */
  keepOutputs?: boolean;
  /**
   * How many problem paths each health scan keeps.
   * @default 20
   */
  maxIssues?: number;
}

function errorInfo(error: unknown): NonNullable<StageReport['error']> {
  if (error instanceof Error) {
    return error.stack === undefined
      ? { name: error.name, message: error.message }
      : { name: error.name, message: error.message, stack: error.stack };
  }
  return { name: 'NonError', message: String(error) };
}

/**
 * Runs a pipeline's stages one by one on `input`, timing each and scanning its output. Stops at the
 * first stage that throws and names it (`failedStage`); the first stage that passes but turns finite
 * input into NaN or Infinity is named as `nonFiniteOrigin`. Never throws for a failing stage.
 * @throws LayersError `BAD_PIPELINE` for a value that is not a pipeline of `definePipeline`.
 */
export async function isolate(
  pipeline: Pipeline<never, unknown>,
  input: unknown,
  options: IsolateOptions = {},
): Promise<LayerReport> {
  const compiled = pipeline?.stages;
  if (!Array.isArray(compiled) || compiled.some((s) => typeof s?.run !== 'function'))
    throw new LayersError('BAD_PIPELINE', 'isolate: expected a pipeline made by definePipeline');
  const keep = options.keepOutputs ?? true;
  const scanOptions = { maxIssues: options.maxIssues ?? 20 };
  const inputScan = scanValue(input, scanOptions);
  const stages: StageReport[] = [];
  let failedStage: string | null = null;
  let nonFiniteOrigin: string | null = null;
  let upstreamNonFinite = scanHasNonFinite(inputScan);
  let value: unknown = input;
  const reads: SourceRead[] = [];
  let current = '';
  const ctx = recordingContext(reads, () => current);
  const start = performance.now();
  for (const { name, kind, run } of compiled) {
    if (failedStage !== null) {
      stages.push({
        stage: name,
        kind,
        status: 'not-run',
        durationMs: 0,
        health: null,
        nonFiniteOrigin: false,
      });
      continue;
    }
    current = name;
    const sourcesOf = () => {
      const mine = reads.splice(0);
      return mine.length > 0 ? { sources: mine } : {};
    };
    const t0 = performance.now();
    try {
      let out = run(value, ctx);
      if (out instanceof Promise) out = await out;
      const durationMs = performance.now() - t0;
      const health = scanValue(out, scanOptions);
      const origin = !upstreamNonFinite && scanHasNonFinite(health);
      if (origin) nonFiniteOrigin = name;
      upstreamNonFinite ||= scanHasNonFinite(health);
      stages.push({
        stage: name,
        kind,
        status: 'passed',
        durationMs,
        ...(keep ? { output: out } : {}),
        health,
        nonFiniteOrigin: origin,
        ...sourcesOf(),
      });
      value = out;
    } catch (error) {
      failedStage = name;
      stages.push({
        stage: name,
        kind,
        status: 'failed',
        durationMs: performance.now() - t0,
        error: errorInfo(error),
        health: null,
        nonFiniteOrigin: false,
        ...sourcesOf(),
      });
    }
  }
  return {
    schemaVersion: 1,
    kind: 'pipeline',
    status: failedStage === null ? 'passed' : 'failed',
    failedStage,
    nonFiniteOrigin,
    input: inputScan,
    stages,
    totalMs: performance.now() - start,
  };
}
