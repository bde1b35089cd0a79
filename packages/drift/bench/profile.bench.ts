/**
 * Profile build throughput through addColumns (target: >= 20M numeric values/s/core), against a
 * baseline measured in the same run: one raw Float64Array pass computing sum, min and max of the
 * same values. Three sizes, so a cost that grows faster than the values shows.
 */
import { type BenchOptions, type BenchRow, count, row, runMain } from '../../../bench/rows.js';
import { createProfileBuilder } from '../src/profile.js';

const BATCH = 100_000;

function data(n: number): { continuous: Float64Array; integers: Float64Array } {
  let seed = 12345;
  const rand = () => {
    seed = (seed * 16807) % 2147483647;
    return seed / 2147483647;
  };
  return {
    continuous: Float64Array.from({ length: n }, () => (rand() - 0.3) * 1000 * Math.exp(rand() * 3)),
    integers: Float64Array.from({ length: n }, () => Math.floor(rand() * 500)),
  };
}

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

function best(fn: () => unknown, runs: number): number {
  let t = Number.POSITIVE_INFINITY;
  for (let r = 0; r < runs; r++) {
    const s = performance.now();
    fn();
    t = Math.min(t, performance.now() - s);
  }
  return t / 1000;
}

/** Profile build of continuous and low-cardinality values at three sizes. */
export async function bench({ quick }: BenchOptions): Promise<BenchRow[]> {
  const sizes = quick ? [100_000] : [100_000, 1_000_000, 10_000_000];
  const rows: BenchRow[] = [];
  for (const n of sizes) {
    const { continuous, integers } = data(n);
    // Best of 5 (the smallest size of 25 runs, so it lasts long enough to time).
    const runs = quick ? 1 : n < 1_000_000 ? 25 : 5;
    for (const [name, values] of [
      ['continuous (bucketed sketch)', continuous],
      ['500 distinct integers (exact sketch)', integers],
    ] as const) {
      const tb = best(() => baseline(values), runs);
      const tp = best(() => build(values), runs);
      const rate = n / tp / 1e6;
      const baseRate = n / tb / 1e6;
      console.log(
        `profile addColumns, ${name}, ${count(n)} values: ${rate.toFixed(1)}M values/s (target >= 20M) | baseline sum/min/max loop ${baseRate.toFixed(0)}M values/s | profile takes ${(tp / tb).toFixed(1)}x the baseline`,
      );
      rows.push(
        row({
          measure: `drift: profile build, ${name}`,
          size: `${count(n)} values`,
          unit: 'M values/s',
          baselineName: 'one raw Float64Array pass',
          baseline: baseRate,
          prodprobe: rate,
          target: '≥ 20M values/s per core',
          ok: rate >= 20,
          note: `addColumns in batches of ${count(BATCH)}, one core, best of ${runs}; the baseline only sums and compares`,
        }),
      );
    }
  }
  return rows;
}

await runMain(import.meta.url, bench);
