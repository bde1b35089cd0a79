import { LayersError } from './errors.js';
import { scanHasNonFinite, scanValue } from './health.js';
import { type LayerReport, type StageName, type StageReport, stageNames } from './schemas.js';

/** A stage function: sync or async, gets the previous stage's output. */
// biome-ignore lint/suspicious/noExplicitAny: stages are typed by the caller; any lets each stage narrow its own input.
export type StageFn<I = any, O = any> = (input: I) => O | Promise<O>;

/** Anything with zod's `safeParse` (a zod schema), usable as the `validate` stage. */
export interface SchemaLike<T = unknown> {
  safeParse(input: unknown): { success: true; data: T } | { success: false; error: unknown };
}

/**
 * The stages of a model service, all optional, run in this order. `validate` is a zod schema (its
 * parsed output continues) or a function that throws on bad input (or returns `false`); when the
 * function returns undefined or `true`, the input itself continues, otherwise its return value does.
 */
export interface PipelineStages {
  validate?: SchemaLike | StageFn;
  extractFeatures?: StageFn;
  preprocess?: StageFn;
  forward?: StageFn;
  postprocess?: StageFn;
}

/** A pipeline: `run` is the production path; `isolate` runs the very same stages with checks between them. */
export interface Pipeline<I = unknown, O = unknown> {
  readonly stages: Readonly<PipelineStages>;
  /** Runs every stage in order and returns the last output; errors propagate unchanged. */
  run(input: I): Promise<O>;
}

/** Thrown by a function `validate` stage that returned `false`. */
class ValidationFailed extends Error {
  override readonly name = 'ValidationFailed';
}

function isSchema(v: unknown): v is SchemaLike {
  return typeof v === 'object' && v !== null && typeof (v as SchemaLike).safeParse === 'function';
}

type Step = (input: unknown) => unknown;

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
  return (input) => {
    const out = fn(input);
    const settle = (v: unknown) => {
      if (v === false)
        throw new ValidationFailed('input failed validation: the validate stage returned false');
      return v === undefined || v === true ? input : v;
    };
    return out instanceof Promise ? out.then(settle) : settle(out);
  };
}

function compile(stages: PipelineStages): { name: StageName; step: Step }[] {
  const steps: { name: StageName; step: Step }[] = [];
  for (const name of stageNames) {
    const stage = stages[name];
    if (stage === undefined) continue;
    if (name === 'validate') steps.push({ name, step: validateStep(stage) });
    else if (typeof stage === 'function') steps.push({ name, step: stage as Step });
    else throw new LayersError('BAD_PIPELINE', `stage "${name}" must be a function, got ${typeof stage}`);
  }
  return steps;
}

const steps = new WeakMap<Pipeline, { name: StageName; step: Step }[]>();

/**
 * Declares the stages of a model service once. Use `pipeline.run(input)` in production (a plain loop
 * over the stages, no checks) and `isolate(pipeline, input)` to find which stage breaks an input.
 */
export function definePipeline<I = unknown, O = unknown>(stages: PipelineStages): Pipeline<I, O> {
  for (const key of Object.keys(stages)) {
    if (!(stageNames as readonly string[]).includes(key)) {
      throw new LayersError('BAD_PIPELINE', `unknown stage "${key}"; stages are ${stageNames.join(', ')}`);
    }
  }
  const compiled = compile(stages);
  const pipeline: Pipeline<I, O> = {
    stages: Object.freeze({ ...stages }),
    async run(input: I): Promise<O> {
      let value: unknown = input;
      for (let i = 0; i < compiled.length; i++) {
        value = compiled[i]!.step(value);
        if (value instanceof Promise) value = await value;
      }
      return value as O;
    },
  };
  steps.set(pipeline as Pipeline, compiled);
  return pipeline;
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
 */
export async function isolate(
  pipeline: Pipeline<never, unknown>,
  input: unknown,
  options: IsolateOptions = {},
): Promise<LayerReport> {
  const compiled = steps.get(pipeline as Pipeline) ?? compile(pipeline.stages);
  const keep = options.keepOutputs ?? true;
  const scanOptions = { maxIssues: options.maxIssues ?? 20 };
  const inputScan = scanValue(input, scanOptions);
  const stages: StageReport[] = [];
  let failedStage: StageName | null = null;
  let nonFiniteOrigin: StageName | null = null;
  let upstreamNonFinite = scanHasNonFinite(inputScan);
  let value: unknown = input;
  const start = performance.now();
  for (const { name, step } of compiled) {
    if (failedStage !== null) {
      stages.push({ stage: name, status: 'not-run', durationMs: 0, health: null, nonFiniteOrigin: false });
      continue;
    }
    const t0 = performance.now();
    try {
      let out = step(value);
      if (out instanceof Promise) out = await out;
      const durationMs = performance.now() - t0;
      const health = scanValue(out, scanOptions);
      const origin = !upstreamNonFinite && scanHasNonFinite(health);
      if (origin) nonFiniteOrigin = name;
      upstreamNonFinite ||= scanHasNonFinite(health);
      stages.push({
        stage: name,
        status: 'passed',
        durationMs,
        ...(keep ? { output: out } : {}),
        health,
        nonFiniteOrigin: origin,
      });
      value = out;
    } catch (error) {
      failedStage = name;
      stages.push({
        stage: name,
        status: 'failed',
        durationMs: performance.now() - t0,
        error: errorInfo(error),
        health: null,
        nonFiniteOrigin: false,
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
