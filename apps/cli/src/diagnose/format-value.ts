/** A value from a snapshot or report, shortened for a table cell. */
export function formatValue(v: unknown, max: number): string {
  if (v === undefined) return '(absent)';
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return s.length > max ? `${s.slice(0, max - 3)}...` : s;
}
