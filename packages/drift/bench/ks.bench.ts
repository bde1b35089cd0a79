/**
 * Exact KS statistic on 1,000,000 vs 1,000,000 values, including sorting (target < 2 s), with the
 * p-value as `ks_2samp(method='auto')` (asymptotic at this size) and with the exact p-value
 * (`method='exact'`, equal sizes). Baseline: sorting both samples alone.
 */
import { ksTwoSample } from '../src/stats/ks-test.js';
import { sampleFrom } from '../src/stats/sample.js';

const N = 1_000_000;
let seed = 99;
const rand = () => {
  seed = (seed * 16807) % 2147483647;
  return seed / 2147483647;
};
const gauss = () => Math.sqrt(-2 * Math.log(rand())) * Math.cos(2 * Math.PI * rand());
const a = Float64Array.from({ length: N }, gauss);
const b = Float64Array.from({ length: N }, () => gauss() + 0.002);

function time<T>(fn: () => T): [number, T] {
  const s = performance.now();
  const r = fn();
  return [(performance.now() - s) / 1000, r];
}

const [tSort] = time(() => [Float64Array.from(a).sort(), Float64Array.from(b).sort()]);
for (const method of ['auto', 'exact'] as const) {
  const [t, r] = time(() => ksTwoSample(sampleFrom(a), sampleFrom(b), method));
  console.log(
    `KS 1M vs 1M (${method} -> ${r.method} p): ${t.toFixed(3)} s (target < 2 s), D=${r.statistic.toFixed(6)} p=${r.pValue.toPrecision(4)} | baseline sort only ${tSort.toFixed(3)} s | ratio ${(t / tSort).toFixed(2)}x`,
  );
}
