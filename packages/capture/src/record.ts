import { formatIssues } from '@prodprobe/sanitize';
import { z } from 'zod';
import { CaptureError } from './errors.js';

/** The `schemaVersion` this version of the package writes and reads. */
export const CAPTURE_SCHEMA_VERSION = 1;

/** Ids double as file names, so they are restricted to characters that are safe in a path. */
const idSchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,128}$/, 'expected 1-128 characters of A-Z, a-z, 0-9, "_" or "-"');

/** The raw input encrypted with AES-256-GCM; only someone holding the key can read it. */
export const SealedInputSchema = z.object({
  alg: z.literal('aes-256-gcm'),
  /** First 16 hex characters of sha256(key): tells which key sealed it without revealing the key. */
  keyId: z.string().regex(/^[0-9a-f]{16}$/, 'expected 16 lowercase hex characters'),
  /** 12-byte nonce, base64. */
  iv: z.string().min(1),
  /** 16-byte GCM authentication tag, base64. */
  tag: z.string().min(1),
  /** The lossless encoding of the raw input, encrypted, base64. */
  ciphertext: z.string(),
});
/** The raw input encrypted with AES-256-GCM (see `sealInput`). */
export type SealedInput = z.infer<typeof SealedInputSchema>;

/** `{ name, message, stack }` of a thrown error, as captured. */
export const CapturedErrorSchema = z.object({
  name: z.string(),
  message: z.string(),
  stack: z.string().optional(),
});
/** `{ name, message, stack }` of a thrown error, as captured. */
export type CapturedError = z.infer<typeof CapturedErrorSchema>;

/** Why a call counted as failed: it threw, or it returned an output judged bad. */
export const FailureSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('error'), error: CapturedErrorSchema }),
  z.object({
    kind: z.literal('bad-output'),
    /** Human-readable reason, e.g. `output.score is NaN`. */
    reason: z.string(),
    /** The output, sanitized like the input. */
    output: z.unknown(),
  }),
]);
/** Why a call counted as failed: it threw, or it returned an output judged bad. */
export type Failure = z.infer<typeof FailureSchema>;

/** One captured failing call. Stored with the lossless codec of `@prodprobe/sanitize`. */
export const CaptureRecordSchema = z.object({
  schemaVersion: z.literal(CAPTURE_SCHEMA_VERSION),
  id: idSchema,
  requestId: z.string().min(1),
  /** ISO 8601 time of the failing call. */
  timestamp: z.iso.datetime({ offset: true }),
  modelVersion: z.string().min(1),
  /** The input after sanitizing (structure and statistics kept, PII removed). */
  input: z.unknown(),
  /** Hex sha256 of the raw input (`inputHash` of `@prodprobe/sanitize`): joins records of one input. */
  inputHash: z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 lowercase hex characters'),
  /** Present only when the capture was given an encryption key. */
  sealedInput: SealedInputSchema.optional(),
  failure: FailureSchema,
  /** Whatever the environment fingerprint hook returned, plus runtime facts. */
  environment: z.record(z.string(), z.unknown()),
});
/** One captured failing call. */
export type CaptureRecord = z.infer<typeof CaptureRecordSchema>;

/**
 * Validates an unknown value (e.g. just decoded from disk) as a `CaptureRecord`.
 * @throws CaptureError `INVALID_RECORD` naming each bad field path.
 */
export function parseCaptureRecord(value: unknown, what = 'capture record'): CaptureRecord {
  const parsed = CaptureRecordSchema.safeParse(value);
  if (!parsed.success)
    throw new CaptureError('INVALID_RECORD', formatIssues(`invalid ${what}`, parsed.error.issues));
  return parsed.data;
}

/** `error.name` of a thrown failure, `"BadOutput"` for a bad output: what `--error` filters on. */
export function failureName(record: Pick<CaptureRecord, 'failure'>): string {
  return record.failure.kind === 'error' ? record.failure.error.name : 'BadOutput';
}

/** One line describing the failure, e.g. `TypeError: x is undefined` or `BadOutput: output.score is NaN`. */
export function describeFailure(record: Pick<CaptureRecord, 'failure'>): string {
  const f = record.failure;
  return f.kind === 'error' ? `${f.error.name}: ${f.error.message}` : `BadOutput: ${f.reason}`;
}
