/** zod schema of the DriftReport record. Field names are part of the public contract. */
import { z } from 'zod';
import { DriftError } from './errors.js';
import { formatIssues } from './profile-schema.js';

/** Version of the DriftReport JSON layout. */
export const REPORT_SCHEMA_VERSION = 1;

/** Warning codes a field can carry. */
export const warningCodes = [
  'mean_shift',
  'out_of_range',
  'unseen_categories',
  'missing_categories',
  'new_nulls',
  'type_changed',
  'field_missing',
  'field_added',
  'constant_in_reference',
] as const;

/** A named check that fired on a field. */
export const driftWarningSchema = z.object({
  code: z.enum(warningCodes),
  message: z.string(),
  /** Category values concerned (unseen or missing categories), most frequent first. */
  values: z.array(z.string()).optional(),
  /** Share of the current values concerned, when it applies. */
  share: z.number().optional(),
});

const nullableNumber = z.number().nullable();

/** Summary of one side (reference or current) of a field. */
export const sideStatsSchema = z.object({
  rows: z.number(),
  /** Values tested (non-null, non-NaN, finite for numeric fields). */
  values: z.number(),
  missing: z.number(),
  nulls: z.number(),
  nan: z.number(),
  positiveInfinity: z.number(),
  negativeInfinity: z.number(),
  types: z.object({
    number: z.number(),
    string: z.number(),
    boolean: z.number(),
    date: z.number(),
    other: z.number(),
  }),
  dominantType: z.enum(['number', 'string', 'boolean', 'date', 'other']).nullable(),
  mean: nullableNumber,
  std: nullableNumber,
  min: nullableNumber,
  max: nullableNumber,
  /** p5, p25, p50, p75, p95 (numpy linear) of the tested values. */
  quantiles: z.array(z.number()).nullable(),
  /** Distinct categories seen (lower bound when categories were pruned). */
  distinct: z.number().nullable(),
});

/** Chart data: overlaid histogram (numeric) or bars (categorical), as proportions. */
export const chartSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('histogram'),
    edges: z.array(z.number()),
    reference: z.array(z.number()),
    current: z.array(z.number()),
  }),
  z.object({
    kind: z.literal('bars'),
    categories: z.array(z.string()),
    reference: z.array(z.number()),
    current: z.array(z.number()),
  }),
]);

/** Per-field result. */
export const fieldReportSchema = z.object({
  name: z.string(),
  status: z.enum(['ok', 'skipped', 'error']),
  /** Why the field was skipped or failed. */
  reason: z.string().optional(),
  kind: z.enum(['numeric', 'categorical', 'unknown']),
  drift: z.boolean(),
  severity: z.enum(['none', 'low', 'medium', 'high']),
  /** Largest ratio of an effect size to its threshold (ranking key). */
  score: z.number(),
  decidedBy: z.enum(['p-value', 'effect-size']).nullable(),
  /** The deciding p-value after Benjamini-Hochberg adjustment across fields. */
  adjustedPValue: z.number().nullable(),
  /** Tests ran on sketches (bucketed values or pruned categories) rather than exact values. */
  approximate: z.boolean(),
  reference: sideStatsSchema.nullable(),
  current: sideStatsSchema.nullable(),
  tests: z.object({
    ks: z
      .object({ statistic: z.number(), pValue: z.number(), method: z.enum(['exact', 'asymptotic']) })
      .optional(),
    wasserstein: z.object({ value: z.number(), normalized: z.number() }).optional(),
    psi: z.object({ value: z.number() }).optional(),
    jensenShannon: z.object({ value: z.number() }).optional(),
    chiSquare: z.object({ statistic: z.number(), df: z.number(), pValue: z.number() }).optional(),
  }),
  warnings: z.array(driftWarningSchema),
  explanation: z.object({
    /** Per-bin PSI contributions (numeric: reference-quantile bins; categorical: categories). */
    psiBins: z.array(
      z.object({ label: z.string(), reference: z.number(), current: z.number(), contribution: z.number() }),
    ),
    /** Categories whose share moved most (current - reference), largest |delta| first. */
    movedCategories: z.array(
      z.object({ value: z.string(), reference: z.number(), current: z.number(), delta: z.number() }),
    ),
    /** Share of current values in categories never seen in the reference. */
    newCategoryMass: z.number().nullable(),
  }),
  chart: chartSchema.nullable(),
});

/** Thresholds and settings a report was computed with. */
export const compareSettingsSchema = z.object({
  pValueThreshold: z.number(),
  pValueMaxRows: z.number(),
  wassersteinThreshold: z.number(),
  jensenShannonThreshold: z.number(),
  psiThreshold: z.number(),
  psiBins: z.number(),
  psiFloor: z.number(),
  datasetDriftShare: z.number(),
  multipleTesting: z.enum(['benjamini-hochberg', 'none']),
});

/** The result of `compare`. */
export const driftReportSchema = z.object({
  schemaVersion: z.literal(REPORT_SCHEMA_VERSION),
  kind: z.literal('prodprobe.drift.report'),
  /** True when any test ran on sketches. */
  approximate: z.boolean(),
  reference: z.object({ rows: z.number(), source: z.enum(['rows', 'profile']) }),
  current: z.object({ rows: z.number(), source: z.enum(['rows', 'profile']) }),
  settings: compareSettingsSchema,
  datasetDrift: z.boolean(),
  /** Drifted fields / fields compared (status ok). */
  driftedShare: z.number(),
  driftedFields: z.array(z.string()),
  /** Fields ranked: drifted first, then by score. */
  fields: z.array(fieldReportSchema),
  warningCount: z.number(),
});

/** Drift report (see {@link driftReportSchema}). */
export type DriftReport = z.infer<typeof driftReportSchema>;
/** One field of a {@link DriftReport}. */
export type FieldReport = z.infer<typeof fieldReportSchema>;
/** A warning in a {@link FieldReport}. */
export type DriftWarning = z.infer<typeof driftWarningSchema>;
/** A warning code. */
export type WarningCode = (typeof warningCodes)[number];
/** Side statistics in a {@link FieldReport}. */
export type SideStats = z.infer<typeof sideStatsSchema>;
/** Resolved comparison settings. */
export type CompareSettings = z.infer<typeof compareSettingsSchema>;

/** Validates unknown JSON as a DriftReport, throwing a DriftError naming the bad path. */
export function parseDriftReport(value: unknown): DriftReport {
  const r = driftReportSchema.safeParse(value);
  if (!r.success)
    throw new DriftError('INVALID_INPUT', `not a drift report: ${formatIssues(r.error, 'report')}`, {
      cause: r.error,
    });
  return r.data;
}
