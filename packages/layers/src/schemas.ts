import { z } from 'zod';

/**
 * A number that may be NaN or infinite. In memory it is a plain number; in JSON it is either a number,
 * a value tagged by the storage codec of `@prodprobe/sanitize` (`{ "$pp": "NaN" }`, what `serializeReport`
 * writes and the parser decodes before this schema sees it) or one of the strings `"NaN"`, `"Infinity"`,
 * `"-Infinity"` (what `prodprobe --json` prints), so both load back exactly.
 */
export const anyNumber = z.union([
  z.custom<number>((v) => typeof v === 'number', { message: 'expected a number' }),
  z.enum(['NaN', 'Infinity', '-Infinity']).transform((s) => Number(s)),
]);

/** Schema of {@link TensorStats}. */
export const tensorStatsSchema = z.object({
  count: z.number().int().nonnegative(),
  min: anyNumber.nullable(),
  max: anyNumber.nullable(),
  mean: anyNumber.nullable(),
  std: anyNumber.nullable(),
  nan: z.number().int().nonnegative(),
  posInf: z.number().int().nonnegative(),
  negInf: z.number().int().nonnegative(),
  zero: z.number().int().nonnegative(),
});

/** One output of one node: dtype, the actual shape of this run, stats, and the data when asked for. */
export const inspectedOutputSchema = z.object({
  name: z.string(),
  dtype: z.string(),
  shape: z.array(z.number().int().nonnegative()),
  stats: tensorStatsSchema.nullable(),
  /** True when the model already had this value as a graph output (nothing was added for it). */
  graphOutput: z.boolean(),
  /** Raw little-endian bytes as base64 (numeric dtypes) or the strings (string tensors), when kept. */
  data: z.union([z.string(), z.array(z.string())]).optional(),
});

/** One node of the main graph, in topological order. */
export const inspectedNodeSchema = z.object({
  index: z.number().int().nonnegative(),
  name: z.string(),
  opType: z.string(),
  domain: z.string(),
  inputs: z.array(z.string()),
  outputs: z.array(inspectedOutputSchema),
});

/** Why a value could not be read. */
export const notInspectedReasonSchema = z.enum([
  'inside-subgraph',
  'empty-optional-output',
  'non-tensor',
  'graph-output-not-from-node',
  'runtime-refused',
]);

/** A value that was skipped, with the reason: never a crash. */
export const notInspectedSchema = z.object({
  node: z.string(),
  opType: z.string(),
  output: z.string(),
  reason: notInspectedReasonSchema,
  detail: z.string(),
});

/** Health of one input or output of the first non-finite node. */
export const valueHealthSchema = z.object({
  name: z.string(),
  health: z.enum(['finite', 'non-finite', 'unknown']),
  stats: tensorStatsSchema.nullable(),
});

/** The first node (topological order) whose output has NaN/Inf while all its inputs are finite. */
export const firstNonFiniteSchema = z.object({
  node: z.string(),
  opType: z.string(),
  output: z.string(),
  inputs: z.array(valueHealthSchema),
  outputs: z.array(valueHealthSchema),
});

/** Whether instrumenting the graph changed its final outputs. */
export const observerEffectSchema = z.object({
  checked: z.boolean(),
  /** True when every final output of the instrumented run is within tolerance of the plain run. */
  equal: z.boolean(),
  rtol: z.number(),
  atol: z.number(),
  outputs: z.array(
    z.object({ name: z.string(), equal: z.boolean(), maxAbsError: anyNumber, maxRelError: anyNumber }),
  ),
  note: z.string(),
});

/** Schema of a full ONNX inspection (what `inspectOnnx` returns and `prodprobe layers inspect --save` writes). */
export const onnxInspectionSchema = z.object({
  schemaVersion: z.literal(1),
  kind: z.literal('onnx-inspection'),
  model: z.object({
    path: z.string().nullable(),
    sha256: z.string(),
    irVersion: z.number(),
    producer: z.string(),
    opsets: z.array(z.object({ domain: z.string(), version: z.number() })),
  }),
  feeds: z.array(
    z.object({
      name: z.string(),
      dtype: z.string(),
      shape: z.array(z.number()),
      stats: tensorStatsSchema.nullable(),
    }),
  ),
  nodes: z.array(inspectedNodeSchema),
  notInspected: z.array(notInspectedSchema),
  firstNonFinite: firstNonFiniteSchema.nullable(),
  observerEffect: observerEffectSchema,
  batches: z.number().int().nonnegative(),
  timing: z.object({ totalMs: z.number(), plainRunMs: z.number(), instrumentedRunMs: z.number() }),
});

/** Result of `inspectOnnx`. */
export type OnnxInspection = z.infer<typeof onnxInspectionSchema>;
/** One node of an {@link OnnxInspection}. */
export type InspectedNode = z.infer<typeof inspectedNodeSchema>;
/** One output of an {@link InspectedNode}. */
export type InspectedOutput = z.infer<typeof inspectedOutputSchema>;
/** An entry of {@link OnnxInspection.notInspected}. */
export type NotInspected = z.infer<typeof notInspectedSchema>;
/** {@link OnnxInspection.firstNonFinite} when set. */
export type FirstNonFinite = z.infer<typeof firstNonFiniteSchema>;
/** {@link OnnxInspection.observerEffect}. */
export type ObserverEffect = z.infer<typeof observerEffectSchema>;

/**
 * What a pipeline stage does, whatever its name: reports, `diagnose` and the logs group stages by it
 * (the first failing inference stage is where ONNX node inspection starts).
 */
export const stageKinds = ['validation', 'features', 'preprocessing', 'inference', 'postprocessing'] as const;
/** One stage kind. */
export type StageKind = (typeof stageKinds)[number];

/** A data source one stage read (a feature store, a cache, a blob store), as the stage reported it. */
export const sourceReadSchema = z.object({
  /** The source, e.g. `feature-cache`. */
  name: z.string().min(1),
  /** The stage that read it. */
  stage: z.string(),
  /** Version of the data served (a feature-set version, a snapshot id). */
  version: z.string().optional(),
  /** When the data served was computed (ISO 8601): how stale it is. */
  asOf: z.string().optional(),
  /** Whether a cache answered (true) or the origin did (false). */
  hit: z.boolean().optional(),
  /** How long the read took. */
  ms: z.number().nonnegative().optional(),
});
/** A data source one stage read (see {@link sourceReadSchema}). */
export type SourceRead = z.infer<typeof sourceReadSchema>;

/** A problem spotted in a value: where (a JSON-path-like string) and what. */
export const healthIssueSchema = z.object({
  kind: z.enum(['nan', 'posInf', 'negInf', 'null', 'undefined', 'emptyArray', 'allZeroRow']),
  path: z.string(),
});

/** Health scan of a stage's output: counts of each problem, with the first paths where they occur. */
export const valueScanSchema = z.object({
  numbers: z.number().int().nonnegative(),
  nan: z.number().int().nonnegative(),
  posInf: z.number().int().nonnegative(),
  negInf: z.number().int().nonnegative(),
  nullFields: z.number().int().nonnegative(),
  undefinedFields: z.number().int().nonnegative(),
  emptyArrays: z.number().int().nonnegative(),
  allZeroRows: z.number().int().nonnegative(),
  /** First issues found (at most `maxIssues`, default 20), so a report stays small. */
  issues: z.array(healthIssueSchema),
});

/** Result of scanning one value. */
export type ValueScan = z.infer<typeof valueScanSchema>;

/** One stage in a {@link LayerReport}. */
export const stageReportSchema = z.object({
  stage: z.string(),
  kind: z.enum(stageKinds),
  status: z.enum(['passed', 'failed', 'not-run']),
  durationMs: z.number().nonnegative(),
  /** The stage's output (absent when it failed, did not run, or outputs were not kept). */
  output: z.unknown().optional(),
  error: z.object({ name: z.string(), message: z.string(), stack: z.string().optional() }).optional(),
  health: valueScanSchema.nullable(),
  /** This stage passed but turned finite input into NaN or Infinity. */
  nonFiniteOrigin: z.boolean(),
  /** The data sources the stage reported reading (`ctx.source`). */
  sources: z.array(sourceReadSchema).optional(),
});

/** Schema of the report `isolate` returns: which pipeline stage fails, and where non-finite numbers start. */
export const layerReportSchema = z.object({
  schemaVersion: z.literal(1),
  kind: z.literal('pipeline'),
  status: z.enum(['passed', 'failed']),
  /** Name of the stage that threw. */
  failedStage: z.string().nullable(),
  /** Name of the first stage that turned finite input into NaN or Infinity. */
  nonFiniteOrigin: z.string().nullable(),
  input: valueScanSchema,
  stages: z.array(stageReportSchema),
  totalMs: z.number().nonnegative(),
});

/** Result of `isolate`. */
export type LayerReport = z.infer<typeof layerReportSchema>;
/** One stage of a {@link LayerReport}. */
export type StageReport = z.infer<typeof stageReportSchema>;
