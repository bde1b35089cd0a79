/** zod schema of the Profile record (stored JSON, merged across replicas). */
import { z } from 'zod';
import { DriftError } from './errors.js';

/** Version of the Profile JSON layout. */
export const PROFILE_SCHEMA_VERSION = 1;

const count = z.number().int().nonnegative();

const sketchSchema = z.discriminatedUnion('mode', [
  z.object({ mode: z.literal('exact'), values: z.array(z.number()), counts: z.array(count) }),
  z.object({
    mode: z.literal('buckets'),
    zeros: count,
    positiveOffset: z.number().int(),
    positive: z.array(count),
    negativeOffset: z.number().int(),
    negative: z.array(count),
  }),
]);

const momentsSchema = z.object({ count, mean: z.number(), m2: z.number().nonnegative() });

/** Per-field summary in a Profile. */
export const fieldProfileSchema = z.object({
  /** Rows where the field was absent or `undefined`. */
  missing: count,
  /** `null` values. */
  nulls: count,
  /** NaN values (numbers, invalid dates). */
  nan: count,
  positiveInfinity: count,
  negativeInfinity: count,
  /** Non-null values by JavaScript type (number includes NaN and ±Infinity; bigint counts as number). */
  types: z.object({ number: count, string: count, boolean: count, date: count, other: count }),
  /** Finite numeric values (numbers, bigints, dates as epoch ms). */
  numeric: z
    .object({
      moments: momentsSchema,
      min: z.number(),
      max: z.number(),
      sketch: sketchSchema,
      /** Derived from the sketch: equal-width bins over [min, max]. */
      histogram: z.object({ edges: z.array(z.number()), counts: z.array(z.number()) }),
    })
    .nullable(),
  /** Strings and booleans by value: the most frequent `maxCategories`, the rest summed in `other`. */
  categorical: z
    .object({
      counts: z.record(z.string(), count),
      other: count,
      total: count,
    })
    .nullable(),
  /** Length in UTF-16 code units of string values. */
  stringLength: z.object({ moments: momentsSchema, min: z.number(), max: z.number() }).nullable(),
});

/** A mergeable summary of a dataset: per-field counts, moments, quantile sketch and categories. */
export const profileSchema = z.object({
  schemaVersion: z.literal(PROFILE_SCHEMA_VERSION),
  kind: z.literal('prodprobe.drift.profile'),
  rowCount: count,
  settings: z.object({
    exactThreshold: z.number().int().positive(),
    relativeAccuracy: z.number().positive().lt(1),
    maxBuckets: z.number().int().positive(),
    maxCategories: z.number().int().positive(),
    histogramBins: z.number().int().positive(),
  }),
  fields: z.record(z.string(), fieldProfileSchema),
});

/** A dataset profile (see {@link profileSchema}). */
export type Profile = z.infer<typeof profileSchema>;
/** One field of a {@link Profile}. */
export type FieldProfile = z.infer<typeof fieldProfileSchema>;
/** Profile construction settings. */
export type ProfileSettings = Profile['settings'];

/** Turns zod issues into one message naming each failing path. */
export function formatIssues(error: z.ZodError, root: string): string {
  return error.issues
    .slice(0, 5)
    .map((i) => `${[root, ...i.path.map(String)].join('.')}: ${i.message}`)
    .join('; ');
}

/** Validates unknown JSON as a Profile, throwing a DriftError that names the bad path. */
export function parseProfile(value: unknown): Profile {
  const r = profileSchema.safeParse(value);
  if (!r.success)
    throw new DriftError('INVALID_PROFILE', `not a drift profile: ${formatIssues(r.error, 'profile')}`, {
      cause: r.error,
    });
  return r.data;
}

/** Like {@link parseProfile} but returns a result instead of throwing. */
export function safeParseProfile(
  value: unknown,
): { ok: true; value: Profile } | { ok: false; error: DriftError } {
  try {
    return { ok: true, value: parseProfile(value) };
  } catch (error) {
    return { ok: false, error: error as DriftError };
  }
}
