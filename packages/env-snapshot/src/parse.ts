import { EnvSnapshotError, formatIssues } from './errors.js';
import { type EnvSnapshot, EnvSnapshotSchema, SNAPSHOT_KIND, SNAPSHOT_SCHEMA_VERSION } from './schema.js';

/** The result of a `safe*` function: a value, or the error the throwing variant would throw. */
export type SafeResult<T> = { ok: true; value: T } | { ok: false; error: EnvSnapshotError };

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string')
    return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
  return typeof value === 'object' ? 'an object' : String(value);
}

/**
 * Validates a parsed JSON value as an `EnvSnapshot`. Throws `EnvSnapshotError` naming the field:
 * `NOT_A_SNAPSHOT` for foreign JSON, `UNSUPPORTED_VERSION` for a newer format, `INVALID_SNAPSHOT`
 * for a malformed one. `what` names the input in messages.
 * @default what 'snapshot'
 */
export function parseSnapshot(value: unknown, what = 'snapshot'): EnvSnapshot {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new EnvSnapshotError(
      'NOT_A_SNAPSHOT',
      `${what}: expected a JSON object (an env snapshot), got ${describe(value)}`,
    );
  const record = value as Record<string, unknown>;
  if (record.kind !== SNAPSHOT_KIND)
    throw new EnvSnapshotError(
      'NOT_A_SNAPSHOT',
      `${what}: field kind: expected "${SNAPSHOT_KIND}", got ${describe(record.kind)} (not an env snapshot; create one with \`prodprobe env snapshot\`)`,
    );
  if (typeof record.schemaVersion === 'number' && record.schemaVersion > SNAPSHOT_SCHEMA_VERSION)
    throw new EnvSnapshotError(
      'UNSUPPORTED_VERSION',
      `${what}: field schemaVersion: ${record.schemaVersion} is newer than this version of @prodprobe/env-snapshot reads (${SNAPSHOT_SCHEMA_VERSION})`,
    );
  const parsed = EnvSnapshotSchema.safeParse(value);
  if (!parsed.success)
    throw new EnvSnapshotError('INVALID_SNAPSHOT', formatIssues(what, parsed.error.issues), {
      cause: parsed.error,
    });
  return parsed.data;
}

/** {@link parseSnapshot} without throwing. */
export function safeParseSnapshot(value: unknown, what = 'snapshot'): SafeResult<EnvSnapshot> {
  try {
    return { ok: true, value: parseSnapshot(value, what) };
  } catch (error) {
    if (error instanceof EnvSnapshotError) return { ok: false, error };
    throw error;
  }
}

/** Parses snapshot JSON text (a file's content); `INVALID_JSON` when it is not JSON at all. */
export function parseSnapshotJson(text: string, what = 'snapshot'): EnvSnapshot {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new EnvSnapshotError(
      'INVALID_JSON',
      `${what}: not valid JSON (${error instanceof Error ? error.message : String(error)})`,
      { cause: error },
    );
  }
  return parseSnapshot(value, what);
}
