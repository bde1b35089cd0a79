/**
 * Special functions needed by the drift tests, written to follow the algorithms scipy uses so the
 * p-values agree with `scipy.stats` to about 1e-10 (checked against fixtures made by scipy).
 */

const LANCZOS_G = 7;
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];
const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);

/** Natural log of the gamma function for x > 0 (Lanczos, ~1e-15 relative). */
export function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  const z = x - 1;
  let a = LANCZOS[0]!;
  const t = z + LANCZOS_G + 0.5;
  for (let i = 1; i < LANCZOS_G + 2; i++) a += LANCZOS[i]! / (z + i);
  return LOG_SQRT_2PI + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

const EPS = 2.220446049250313e-16;
const TINY = 1e-300;

/**
 * Regularized upper incomplete gamma Q(a, x) = Γ(a, x) / Γ(a): series for x < a + 1, Lentz's
 * continued fraction otherwise (both converge to machine precision).
 */
export function gammaIncUpper(a: number, x: number): number {
  if (!(a > 0) || Number.isNaN(x)) return Number.NaN;
  if (x <= 0) return 1;
  if (x === Number.POSITIVE_INFINITY) return 0;
  const logPrefix = a * Math.log(x) - x - logGamma(a);
  if (x < a + 1) {
    // Lower series P(a, x) = e^{-x} x^a / Γ(a+1) * Σ x^n / ((a+1)...(a+n)).
    let sum = 1 / a;
    let term = sum;
    let ap = a;
    for (let n = 0; n < 100_000; n++) {
      ap += 1;
      term *= x / ap;
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * EPS) break;
    }
    return Math.max(0, 1 - sum * Math.exp(logPrefix));
  }
  let b = x + 1 - a;
  let c = 1 / TINY;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 100_000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < TINY) d = TINY;
    c = b + an / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < EPS) break;
  }
  return Math.min(1, Math.exp(logPrefix) * h);
}

/** Survival function of the chi-square distribution with `df` degrees of freedom. */
export function chiSquareSf(statistic: number, df: number): number {
  if (df <= 0) return Number.NaN;
  return gammaIncUpper(df / 2, statistic / 2);
}

const clip01 = (p: number): number => Math.min(1, Math.max(0, p));

/**
 * One-sided Smirnov survival function Pr(D+_n >= x) (scipy.special.smirnov), by the
 * Birnbaum-Tingey sum evaluated term by term in log space.
 */
export function smirnovSf(n: number, x: number): number {
  if (!(n > 0) || !(x >= 0 && x <= 1)) return Number.NaN;
  if (n === 1) return 1 - x;
  if (x === 0) return 1;
  if (x === 1) return 0;
  const nx = n * x;
  const nxfl = Math.floor(nx);
  const alpha = nx - nxfl;
  if (nxfl === 0 || (nxfl === 1 && alpha === 0)) {
    return clip01(1 - x * (1 + x) ** (n - 1));
  }
  if (-2 * n * x * x < -708.3964185322641) return 0;
  if (nxfl >= n - 1) return clip01((1 - x) ** n);
  if (n > 1_000_000) {
    // scipy's approximation for very large n: p ~ exp(-(6nx+1)^2 / 18n).
    const logp = -((6 * n * x + 1) ** 2) / 18 / n;
    return clip01(logp < -Math.LN2 ? Math.exp(logp) : 1 + Math.expm1(logp));
  }
  // Lower sum: x * Σ_{v=0}^{floor(n(1-x))} C(n,v) (x+v/n)^(v-1) (1-x-v/n)^(n-v).
  const last = n - nxfl - 1;
  let sum = 0;
  let logC = 0; // log C(n, v)
  const logX = Math.log(x);
  for (let v = 0; v <= last; v++) {
    if (v > 0) logC += Math.log((n - v + 1) / v);
    const a = x + v / n;
    const b = 1 - a;
    if (b <= 0) break;
    const logTerm = logC + logX + (v - 1) * Math.log(a) + (n - v) * Math.log1p(-a);
    const term = Math.exp(logTerm);
    sum += term;
    // Same early exit as scipy: the remaining terms cannot change the sum.
    if (term !== 0 && v !== last && 4 * (last - v) * term < EPS * sum) break;
  }
  return clip01(sum);
}
