/** How reports write the values of date fields, which are profiled as epoch milliseconds. */

/** A date (epoch ms) as ISO 8601, the date alone at midnight UTC. */
export function formatDate(ms: number): string {
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) return String(ms);
  const iso = d.toISOString();
  return iso.endsWith('T00:00:00.000Z') ? iso.slice(0, 10) : iso;
}

const SPAN_UNITS: readonly [number, string][] = [
  [86_400_000, 'days'],
  [3_600_000, 'hours'],
  [60_000, 'minutes'],
  [1000, 's'],
];

/** A length of time in ms (a spread of dates), in the largest unit that keeps it at 1 or more. */
export function formatSpan(ms: number): string {
  for (const [size, unit] of SPAN_UNITS)
    if (Math.abs(ms) >= size) return `${+(ms / size).toPrecision(3)} ${unit}`;
  return `${+ms.toPrecision(3)} ms`;
}
