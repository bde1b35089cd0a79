import { formatIssues } from '@prodprobe/sanitize';
import { z } from 'zod';
import { LoggerError } from './errors.js';

/** The `schemaVersion` this version of the package writes and reads. */
export const LOG_SCHEMA_VERSION = 1;

/** Any number, NaN and ±Infinity included (zod's `z.number()` rejects them; here they are data). */
const anyNumber = z.custom<number>(
  (v) => typeof v === 'number',
  'expected a number (NaN and ±Infinity allowed)',
);
const count = z.number().int().nonnegative();
const isoTime = z.iso.datetime({ offset: true });

/**
 * Statistics of one input, computed when the entry is logged. Paths use the sanitize path syntax
 * (`user.age`, `["odd.key"]`); values inside arrays are counted, not listed.
 */
export const InputStatsSchema = z.object({
  /** Leaf values outside arrays (numbers, strings, booleans, nulls, ...). */
  fieldCount: count,
  /** `null` and `undefined` values anywhere in the input, inside arrays too. */
  nullCount: count,
  /** NaN values anywhere in the input (typed arrays included). */
  nanCount: count,
  /** +Infinity and -Infinity values anywhere in the input. */
  infCount: count,
  /** Value of each numeric field outside arrays, after sanitizing (the policy may round it). */
  numeric: z.record(z.string(), anyNumber),
  /** Length of each string field outside arrays, measured on the raw input. */
  stringLengths: z.record(z.string(), count),
  /** Length of each array (or typed array) outside other arrays. */
  arraySizes: z.record(z.string(), count),
  /** True when the input had more fields than the stats keep (`maxStatsFields`) or was nested too deep. */
  truncated: z.boolean(),
});
/** Statistics of one input (see `InputStatsSchema`). */
export type InputStats = z.infer<typeof InputStatsSchema>;

/** Why an entry was kept: every error, the keep rules, or the deterministic sample. */
export const KeptBySchema = z.enum(['error', 'latency', 'non-finite-output', 'sample']);
/** Why an entry was kept. */
export type KeptBy = z.infer<typeof KeptBySchema>;

/** One logged prediction, one line of a segment. Stored with the lossless codec of `@prodprobe/sanitize`. */
export const PredictionLogEntrySchema = z.object({
  schemaVersion: z.literal(LOG_SCHEMA_VERSION),
  kind: z.literal('prediction'),
  /** ISO 8601 UTC time `log()` was called. */
  timestamp: isoTime,
  requestId: z.string(),
  modelVersion: z.string(),
  /** Hex sha256 of the raw input (`inputHash` of `@prodprobe/sanitize`): joins logs with captures. */
  inputHash: z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 lowercase hex characters'),
  inputStats: InputStatsSchema,
  /** The input after sanitizing; absent when the logger was created with `includeInput: false`. */
  input: z.unknown().optional(),
  /** False when the call failed (`error` present). */
  ok: z.boolean(),
  /** The output after sanitizing; absent for errors. */
  output: z.unknown().optional(),
  error: z.object({ name: z.string(), message: z.string() }).optional(),
  latencyMs: anyNumber.optional(),
  /**
   * How many requests this entry stands for: 1 for entries every request of their kind would
   * have produced (errors, keep rules), `1 / sampleRate` for sampled successes.
   */
  samplingWeight: z.number().positive(),
  keptBy: KeptBySchema,
  host: z.string(),
  pid: z.number().int(),
  /** Milliseconds each pipeline stage took, by stage name. */
  stages: z.record(z.string(), z.number()).optional(),
  /** Data sources the stages read (`ctx.source` of `@prodprobe/layers`). */
  sources: z
    .array(
      z.object({
        name: z.string(),
        stage: z.string().optional(),
        version: z.string().optional(),
        asOf: z.string().optional(),
        hit: z.boolean().optional(),
        ms: z.number().optional(),
      }),
    )
    .optional(),
  /** The pipeline stage that threw. */
  failedStage: z.string().optional(),
  /**
   * Process memory in bytes, sampled at most every `memorySampleIntervalMs`; `heapLimit` is V8's
   * heap ceiling (`--max-old-space-size`).
   */
  memory: z.object({ rss: count, heapUsed: count, heapLimit: count.optional() }),
  /** Open resources of the process, sampled with `memory`: active handles and requests, open file descriptors. */
  resources: z.object({ handles: count, fds: count.optional() }).optional(),
  envFingerprint: z.string().optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
});
/** One logged prediction (see `PredictionLogEntrySchema`). */
export type PredictionLogEntry = z.infer<typeof PredictionLogEntrySchema>;

/** Written before the entries that follow a gap: how many successes the full queue dropped. */
export const GapMarkerSchema = z.object({
  schemaVersion: z.literal(LOG_SCHEMA_VERSION),
  kind: z.literal('gap'),
  /** When the marker was written. */
  timestamp: isoTime,
  host: z.string(),
  pid: z.number().int(),
  /** Successes dropped since the previous marker (errors are never dropped). */
  dropped: count.min(1),
  firstDroppedAt: isoTime,
  lastDroppedAt: isoTime,
});
/** A record of dropped successes (see `GapMarkerSchema`). */
export type GapMarker = z.infer<typeof GapMarkerSchema>;

/** Any line of a segment. */
export const LogLineSchema = z.discriminatedUnion('kind', [PredictionLogEntrySchema, GapMarkerSchema]);
/** Any line of a segment. */
export type LogLine = z.infer<typeof LogLineSchema>;

/**
 * Validates a decoded line (prediction or gap marker).
 * @throws LoggerError `INVALID_ENTRY` naming each bad field path.
 */
export function parseLogLine(value: unknown): LogLine {
  const parsed = LogLineSchema.safeParse(value);
  if (!parsed.success)
    throw new LoggerError('INVALID_ENTRY', formatIssues('invalid log line', parsed.error.issues));
  return parsed.data;
}
