/**
 * Two-sample KS test on raw values (statistic and `ks_2samp(method='auto')` p-value, from unsorted
 * arrays: `ksTwoSampleValues`) at 10k, 100k and 1M values per side, against scipy.stats.ks_2samp
 * run on the same samples from this bench (python3 with scipy). Target: faster than scipy, the same
 * statistic (1e-9) and p (1e-6). The log also gives the path that sorts both samples whole
 * (`ksTwoSample(sampleFrom(a), sampleFrom(b))`), for scale.
 * Without python3 + scipy the last figures recorded here (ks-scipy.json) stand in, said so in the rows.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BenchOptions, type BenchRow, count, median, row, runMain } from '../../../bench/rows.js';
import { ksTwoSample, ksTwoSampleValues } from '../src/stats/ks-test.js';
import { sampleFrom } from '../src/stats/sample.js';

const here = dirname(fileURLToPath(import.meta.url));
const recordedFile = join(here, 'ks-scipy.json');

interface ScipyFigure {
  statistic: number;
  pvalue: number;
  seconds: number;
  scipy: string;
  numpy: string;
}
interface Recorded {
  date: string;
  machine: string;
  sizes: Record<string, ScipyFigure>;
}

/** The same seeded normal samples every run (b shifted by 0.002 sd), so recorded figures stay comparable. */
function samples(n: number): [Float64Array, Float64Array] {
  let seed = 99;
  const rand = () => {
    seed = (seed * 16807) % 2147483647;
    return seed / 2147483647;
  };
  const gauss = () => Math.sqrt(-2 * Math.log(rand())) * Math.cos(2 * Math.PI * rand());
  const a = Float64Array.from({ length: n }, gauss);
  const b = Float64Array.from({ length: n }, () => gauss() + 0.002);
  return [a, b];
}

function scipyOn(a: Float64Array, b: Float64Array, runs: number): ScipyFigure | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'ks-bench-'));
  try {
    writeFileSync(join(dir, 'a.f64'), new Uint8Array(a.buffer));
    writeFileSync(join(dir, 'b.f64'), new Uint8Array(b.buffer));
    const r = spawnSync(
      'python3',
      [join(here, 'ks_scipy.py'), join(dir, 'a.f64'), join(dir, 'b.f64'), String(runs)],
      { encoding: 'utf8' },
    );
    if (r.status !== 0) {
      console.log(`scipy not run: ${r.error?.message ?? r.stderr.trim().split('\n').pop()}`);
      return undefined;
    }
    return JSON.parse(r.stdout) as ScipyFigure;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function readRecorded(): Recorded | undefined {
  try {
    return JSON.parse(readFileSync(recordedFile, 'utf8')) as Recorded;
  } catch {
    return undefined;
  }
}

/** KS at three sizes against scipy on the same samples. */
export async function bench({ quick }: BenchOptions): Promise<BenchRow[]> {
  const sizes = quick ? [10_000] : [10_000, 100_000, 1_000_000];
  const recorded = readRecorded();
  const fresh: Record<string, ScipyFigure> = {};
  const rows: BenchRow[] = [];
  // Small samples: where bucketing stops paying (ksTwoSampleValues sorts below 1,024 values in all).
  for (const n of quick ? [] : [500, 1000, 5000]) {
    const [a, b] = samples(n);
    const bucketed: number[] = [];
    const sorted: number[] = [];
    for (let r = 0; r < 200; r++) {
      let t = performance.now();
      ksTwoSampleValues(a, b);
      bucketed.push(performance.now() - t);
      t = performance.now();
      ksTwoSample(sampleFrom(a), sampleFrom(b));
      sorted.push(performance.now() - t);
    }
    console.log(
      `KS ${count(n)} vs ${count(n)}: ksTwoSampleValues ${(median(bucketed) * 1000).toFixed(0)} µs, sorting both whole ${(median(sorted) * 1000).toFixed(0)} µs (medians of 200)`,
    );
  }
  for (const n of sizes) {
    const [a, b] = samples(n);
    const runs = quick ? 1 : n >= 1_000_000 ? 5 : 15;
    let result = ksTwoSampleValues(a, b);
    const times: number[] = [];
    const sortedTimes: number[] = [];
    for (let r = 0; r < runs; r++) {
      let t = performance.now();
      result = ksTwoSampleValues(a, b);
      times.push((performance.now() - t) / 1000);
      t = performance.now();
      const sorted = ksTwoSample(sampleFrom(a), sampleFrom(b));
      sortedTimes.push(performance.now() - t);
      if (sorted.statistic !== result.statistic || sorted.pValue !== result.pValue)
        throw new Error(`KS ${n}: the bucketed and the sorted test disagree`);
    }
    const ours = median(times);
    const sortedMs = median(sortedTimes);
    // Where the sorted path's time goes: copying + sorting both samples (sampleFrom, a radix sort),
    // against the built-in sort of the same values.
    const sortTimes: number[] = [];
    const builtinTimes: number[] = [];
    for (let r = 0; r < runs; r++) {
      let t = performance.now();
      sampleFrom(a);
      sampleFrom(b);
      sortTimes.push(performance.now() - t);
      const ca = Float64Array.from(a);
      const cb = Float64Array.from(b);
      t = performance.now();
      ca.sort();
      cb.sort();
      builtinTimes.push(performance.now() - t);
    }
    const sortMs = median(sortTimes);
    const builtinMs = median(builtinTimes);
    let scipy = scipyOn(a, b, runs);
    let source = 'run in this bench';
    if (scipy) fresh[String(n)] = scipy;
    else if (recorded?.sizes[String(n)]) {
      scipy = recorded.sizes[String(n)]!;
      source = `last recorded figure (${recorded.date}, ${recorded.machine})`;
    }
    const dStat = scipy ? Math.abs(result.statistic - scipy.statistic) : Number.NaN;
    const dP = scipy ? Math.abs(result.pValue - scipy.pvalue) : Number.NaN;
    console.log(
      `KS ${count(n)} vs ${count(n)} (${result.method} p): ours ${(ours * 1000).toFixed(1)} ms, D=${result.statistic} p=${result.pValue}` +
        (scipy
          ? ` | scipy ${scipy.scipy} (${source}) ${(scipy.seconds * 1000).toFixed(1)} ms, D=${scipy.statistic} p=${scipy.pvalue} | |ΔD|=${dStat.toExponential(1)} |Δp|=${dP.toExponential(1)}`
          : ' | scipy: not available and no recorded figure'),
    );
    console.log(
      `  the same test sorting both samples whole (ksTwoSample(sampleFrom(a), sampleFrom(b))): ${sortedMs.toFixed(1)} ms, of which copying + sorting ${sortMs.toFixed(1)} ms (${((sortMs * 1e6) / (2 * n)).toFixed(0)} ns/value; the built-in sort of the same: ${builtinMs.toFixed(1)} ms, ${((builtinMs * 1e6) / (2 * n)).toFixed(0)} ns/value)`,
    );
    rows.push(
      row({
        measure: 'drift: KS two-sample on raw values (statistic + p)',
        size: `${count(n)} vs ${count(n)}`,
        unit: 'ms',
        baselineName: scipy ? 'scipy.stats.ks_2samp' : null,
        baseline: scipy ? scipy.seconds * 1000 : null,
        prodprobe: ours * 1000,
        target: 'faster than scipy, |ΔD| ≤ 1e-9, |Δp| ≤ 1e-6',
        ok: scipy ? ours < scipy.seconds && dStat <= 1e-9 && dP <= 1e-6 : false,
        note: scipy
          ? `ksTwoSampleValues, unsorted Float64Arrays in; ${result.method} p; D=${result.statistic.toPrecision(6)}, p=${result.pValue.toPrecision(6)}; |ΔD|=${dStat.toExponential(1)}, |Δp|=${dP.toExponential(1)}; scipy ${scipy.scipy}: ${source}; medians of ${runs}; sorting both samples whole instead: ${sortedMs.toFixed(1)} ms`
          : 'no python3 with scipy here and no recorded figure',
      }),
    );
  }
  // Full runs keep the figures for machines without scipy (quick runs are too short to time).
  if (!quick && Object.keys(fresh).length === sizes.length) {
    const machine = `${cpus().length} cores, ${cpus()[0]?.model.trim() ?? 'unknown cpu'}, node ${process.version}`;
    const out: Recorded = { date: new Date().toISOString().slice(0, 10), machine, sizes: fresh };
    writeFileSync(recordedFile, `${JSON.stringify(out, null, 2)}\n`);
  }
  return rows;
}

await runMain(import.meta.url, bench);
