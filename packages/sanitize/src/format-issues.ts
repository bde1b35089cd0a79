/**
 * Turns zod issues into one message that names each failing field path and what was expected,
 * e.g. `invalid capture record: timestamp: Invalid ISO datetime; id: expected 1-128 characters`.
 * Shared by the packages that validate records with zod (capture, logger), so users see one style.
 */
export function formatIssues(
  what: string,
  issues: readonly { path: readonly PropertyKey[]; message: string }[],
): string {
  const parts = issues.slice(0, 5).map((issue) => {
    const path = issue.path.length === 0 ? '(root)' : issue.path.map(String).join('.');
    return `${path}: ${issue.message}`;
  });
  const more = issues.length > 5 ? ` (and ${issues.length - 5} more)` : '';
  return `${what}: ${parts.join('; ')}${more}`;
}
