/** What went wrong, as a stable string a caller can switch on. */
export type EnvSnapshotErrorCode =
  | 'INVALID_OPTIONS'
  | 'INVALID_JSON'
  | 'INVALID_SNAPSHOT'
  | 'NOT_A_SNAPSHOT'
  | 'UNSUPPORTED_VERSION';

/**
 * The one error class `@prodprobe/env-snapshot` throws. Probe failures never throw: they are
 * recorded in the snapshot. This is for bad options and malformed snapshots given to `diff`.
 */
export class EnvSnapshotError extends Error {
  override readonly name = 'EnvSnapshotError';
  /** Which failure this is. */
  readonly code: EnvSnapshotErrorCode;

  constructor(code: EnvSnapshotErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

interface IssueLike {
  readonly path: readonly PropertyKey[];
  readonly message: string;
  readonly code?: string;
  readonly errors?: readonly (readonly IssueLike[])[];
}

/** Formats a field path as `a.b[0]["odd key"]`, the way a user would write it. */
export function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(root)';
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (typeof segment === 'string' && /^[A-Za-z_$][\w$]*$/.test(segment))
      out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(String(segment))}]`;
  }
  return out;
}

/**
 * A union failure reports every branch's issues; the branch that got furthest (deepest path, and
 * not just an unknown key) is the one the user meant, so its first issue is the useful message.
 */
function flattenIssue(
  issue: IssueLike,
  prefix: readonly PropertyKey[],
): { path: PropertyKey[]; message: string } {
  const path = [...prefix, ...issue.path];
  if (issue.code === 'invalid_union' && issue.errors && issue.errors.length > 0) {
    let best: { path: PropertyKey[]; message: string; score: number } | undefined;
    for (const branch of issue.errors) {
      const first = branch[0];
      if (!first) continue;
      const flat = flattenIssue(first, path);
      const score = flat.path.length * 10 - (first.code === 'unrecognized_keys' ? 5 : 0) - branch.length;
      if (!best || score > best.score) best = { ...flat, score };
    }
    if (best) return { path: best.path, message: best.message };
  }
  return { path, message: issue.message };
}

/** Turns zod issues into one message naming each failing field path and what was expected. */
export function formatIssues(what: string, issues: readonly IssueLike[]): string {
  const parts = issues.slice(0, 5).map((issue) => {
    const flat = flattenIssue(issue, []);
    return `field ${formatPath(flat.path)}: ${flat.message}`;
  });
  const more = issues.length > 5 ? ` (and ${issues.length - 5} more)` : '';
  return `${what}: ${parts.join('; ')}${more}`;
}
