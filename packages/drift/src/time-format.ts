/** Date fields as text: reading ISO 8601 strings, and how reports write dates (epoch ms) and spans. */

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

// YYYY-MM-DD (or YYYY/MM/DD, year first so never ambiguous), then optionally [T or space]
// HH:MM[:SS[.fraction]] and a zone (Z, ±HH, ±HHMM, ±HH:MM).
const ISO_DATE =
  /^(\d{4})([-/])(\d{2})\2(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}(?::?\d{2})?)?)?$/;

/**
 * The epoch ms of an ISO 8601 date or date-time string (or the same with `/` between year, month
 * and day: `2001/01/14 21:55`), or NaN when `text` is not one (or names no real day:
 * `2023-02-30`). A date-time without a zone is read as UTC, so a profile never depends on the time
 * zone of the machine that built it.
 */
export function parseIsoDate(text: string): number {
  // Cheap rejection first: category values almost never have '-' or '/' at position 4.
  const sep = text.charCodeAt(4);
  if (text.length < 10 || (sep !== 45 && sep !== 47)) return Number.NaN;
  const m = ISO_DATE.exec(text);
  if (m === null) return Number.NaN;
  const [, y, , mo, d, h = '0', mi = '0', s = '0', fraction = '', zone = 'Z'] = m;
  const year = Number(y);
  const month = Number(mo) - 1;
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (month > 11 || hour > 23 || minute > 59 || second > 59) return Number.NaN;
  // setUTCFullYear, not Date.UTC, which reads years 0-99 as 1900-1999.
  const date = new Date(0);
  date.setUTCFullYear(year, month, day);
  // A day that does not exist (2023-02-30) rolls over into the next month: not a date.
  if (date.getUTCDate() !== day || date.getUTCMonth() !== month) return Number.NaN;
  const ms = date.setUTCHours(hour, minute, second, Number(fraction.padEnd(3, '0').slice(0, 3)));
  if (zone === 'Z') return ms;
  const sign = zone.charCodeAt(0) === 45 ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  const offsetMinutes = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || '0');
  if (offsetMinutes > 18 * 60) return Number.NaN;
  // 10:00+02:00 is 08:00 UTC.
  return ms - sign * offsetMinutes * 60_000;
}
