/** A value from a snapshot or report, shortened for a table cell. */
export function formatValue(v: unknown, max: number): string {
  if (v === undefined) return '(absent)';
  // A fraction to 6 significant digits: 12.2569, not 12.25692457348056.
  if (typeof v === 'number' && Number.isFinite(v) && !Number.isInteger(v)) return String(+v.toPrecision(6));
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return s.length > max ? `${s.slice(0, max - 3)}...` : s;
}

/** Values every input of a failure group has: `retries = 0 (4.0% of training values)`. */
export function describeShared(
  shared: readonly { field: string; value: unknown; referenceShare: number | null }[],
): string {
  return shared
    .map(
      (x) =>
        `${x.field} = ${formatValue(x.value, 40)}${x.referenceShare === null ? '' : ` (${(x.referenceShare * 100).toFixed(1)}% of training values)`}`,
    )
    .join(', ');
}
