import { createHash } from 'node:crypto';
import { canonicalJson } from './json-value.js';

/** Fields that describe the snapshot itself, not the environment; never diffed, never fingerprinted. */
export const META_FIELDS: readonly string[] = [
  'kind',
  'schemaVersion',
  'label',
  'createdAt',
  'durationMs',
  'fingerprint',
];

/**
 * Paths (`*` = any key or index) whose values change from one moment or replica to the next:
 * left out of the fingerprint, and of `diff` unless `includeVolatile` is set.
 */
export const VOLATILE_PATHS: readonly (readonly string[])[] = [
  ['runtime', 'uptimeSeconds'],
  ['runtime', 'utcOffsetMinutes'],
  ['os', 'hostname'],
  ['resources', 'freeMemoryBytes'],
  ['disks', '*', 'freeBytes'],
  ['probes', '*', 'durationMs'],
  ['models', '*', 'durationMs'],
  ['dataSources', '*', 'durationMs'],
];

/** Whether the path (keys and indexes from the snapshot root) is a volatile field. */
export function isVolatilePath(path: readonly (string | number)[]): boolean {
  return VOLATILE_PATHS.some(
    (pattern) =>
      pattern.length === path.length && pattern.every((seg, i) => seg === '*' || seg === String(path[i])),
  );
}

function strip(value: unknown, path: (string | number)[]): unknown {
  if (Array.isArray(value)) return value.map((item, i) => strip(item, [...path, i]));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const next = [...path, k];
      if (path.length === 0 && META_FIELDS.includes(k)) continue;
      if (isVolatilePath(next)) continue;
      out[k] = strip(v, next);
    }
    return out;
  }
  return value;
}

/**
 * sha256 (hex) of a snapshot's content without its meta and volatile fields: two snapshots of the
 * same environment get the same fingerprint, a changed model hash or package version changes it.
 */
export function computeFingerprint(snapshot: object): string {
  return createHash('sha256')
    .update(canonicalJson(strip(snapshot, [])))
    .digest('hex');
}
