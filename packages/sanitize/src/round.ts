const POW10: number[] = [];
for (let k = 0; k <= 22; k++) POW10.push(Number(`1e${k}`));

/**
 * Round to `digits` significant digits, returning a number: the same result as
 * `Number(x.toPrecision(digits))` without building a string on the common path.
 * 0, -0, NaN and ±Infinity come back unchanged.
 */
export function roundSignificant(x: number, digits: number): number {
  if (x === 0 || x - x !== 0) return x;
  // Past 15 digits the scaled value no longer fits the exact-integer range of a double.
  if (digits > 15) return finiteOr(Number(x.toPrecision(digits)), x);
  const ax = x < 0 ? -x : x;
  const shift = digits - 1 - Math.floor(Math.log10(ax));
  let r: number;
  if (shift >= 0 && shift <= 22) {
    const p = POW10[shift] as number;
    const scaled = ax * p;
    // A product that landed exactly on .5 may be a rounding artefact: let toPrecision decide.
    if (scaled - Math.floor(scaled) === 0.5) return Number(x.toPrecision(digits));
    r = Math.round(scaled) / p;
  } else if (shift < 0 && shift >= -22) {
    const p = POW10[-shift] as number;
    const scaled = ax / p;
    if (scaled - Math.floor(scaled) === 0.5) return Number(x.toPrecision(digits));
    r = Math.round(scaled) * p;
  } else {
    return finiteOr(Number(x.toPrecision(digits)), x);
  }
  return x < 0 ? -r : r;
}

/** Rounding must never turn a finite number into Infinity (1.79e308 → 1.8e308 would overflow). */
function finiteOr(rounded: number, x: number): number {
  return rounded - rounded === 0 ? rounded : x;
}

/** Round a BigInt to `digits` significant decimal digits (half away from zero). */
export function roundBigIntSignificant(x: bigint, digits: number): bigint {
  const negative = x < 0n;
  const text = (negative ? -x : x).toString();
  if (text.length <= digits) return x;
  const zeros = text.length - digits;
  let head = BigInt(text.slice(0, digits));
  if ((text.charCodeAt(digits) as number) >= 53 /* '5' */) head += 1n;
  const rounded = head * 10n ** BigInt(zeros);
  return negative ? -rounded : rounded;
}

/** Round to a number of decimal places (half away from zero, as `toFixed` does on the decimal value). */
export function roundDecimals(x: number, decimals: number): number {
  if (x - x !== 0 || Math.abs(x) >= 1e21) return x;
  const r = Number(Math.abs(x).toFixed(decimals));
  return x < 0 ? -r : r;
}
