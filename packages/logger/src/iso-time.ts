const MILLIS: string[] = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));
/** Largest time whose ISO form is `YYYY-MM-DDTHH:MM:SS.sssZ` (year 9999). */
const LAST_PLAIN_ISO_MS = 253402300799999;
let isoSecond = Number.NaN;
let isoPrefix = '';

/**
 * `new Date(t).toISOString()`, reusing the `YYYY-MM-DDTHH:MM:SS.` part while the second is the
 * same (entries come many to a second); other times (fractional, negative, far future, invalid)
 * go through Date.
 */
export function isoTime(t: number): string {
  if (!Number.isInteger(t) || t < 0 || t > LAST_PLAIN_ISO_MS) return new Date(t).toISOString();
  const ms = t % 1000;
  const second = t - ms;
  if (second !== isoSecond) {
    isoPrefix = new Date(second).toISOString().slice(0, 20);
    isoSecond = second;
  }
  return `${isoPrefix}${MILLIS[ms] as string}Z`;
}
