/**
 * Profile build throughput through addColumns (target: >= 20M numeric values/s/core), against a
 * baseline measured in the same run: a plain loop computing sum, min and max of the same values.
 */
import { createProfileBuilder } from '../src/profile.js';

const N = 10_000_000;
const BATCH = 100_000;
let seed = 12345;
const rand = () => {
  seed = (seed * 16807) % 2147483647;
  return seed / 2147483647;
};
const continuous = Float64Array.from({ length: N }, () => (rand() - 0.3) * 1000 * Math.exp(rand() * 3));
const integers = Float64Array.from({ length: N }, () => Math.floor(rand() * 500));

function baseline(values: Float64Array): number {
  let sum = 0;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < values.length; i++) {
    const x = values[i]!;
    sum += x;
    if (x < min) min = x;
    if (x > max) max = x;
  }
  return sum + min + max;
}

function build(values: Float64Array): void {
  const b = createProfileBuilder();
  for (let i = 0; i < values.length; i += BATCH) b.addColumns({ x: values.subarray(i, i + BATCH) });
  b.toJSON();
}

function best(fn: () => unknown, runs = 5): number {
  let t = Number.POSITIVE_INFINITY;
  for (let r = 0; r < runs; r++) {
    const s = performance.now();
    fn();
    t = Math.min(t, performance.now() - s);
  }
  return t / 1000;
}

for (const [name, data] of [
  ['continuous (bucketed sketch)', continuous],
  ['500 distinct integers (exact sketch)', integers],
] as const) {
  const tb = best(() => baseline(data));
  const tp = best(() => build(data));
  const rate = N / tp / 1e6;
  console.log(
    `profile addColumns, ${name}: ${rate.toFixed(1)}M values/s (target >= 20M) | baseline sum/min/max loop ${(N / tb / 1e6).toFixed(0)}M values/s | profile takes ${(tp / tb).toFixed(1)}x the baseline`,
  );
}
