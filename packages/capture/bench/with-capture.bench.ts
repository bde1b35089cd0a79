/**
 * Success-path overhead of `withCapture`: ns per call of a predict called directly vs the same
 * predict wrapped, measured in the same run. Target (issue 3): the wrapper adds < 200 ns/call.
 *
 * Method: 1,024 distinct inputs (so nothing is constant-folded), a predict whose output feeds a
 * checksum that is printed (so calls cannot be dropped), one loop function per variant (so call
 * sites stay monomorphic, as in a server), warm-up, then alternating rounds and the median.
 */
import { performance } from 'node:perf_hooks';
import { type BenchOptions, type BenchRow, median, row, runMain } from '../../../bench/rows.js';
import { createMemoryCaptureStore, withCapture } from '../src/index.js';

interface Txn {
  order_total: number;
  age: number;
  hour: number;
  country: string;
}

let N = 1_000_000;
let ROUNDS = 15;
let WARMUP_CALLS = 300_000;

let seed = 42;
const rand = () => {
  seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
  return seed / 2 ** 31;
};
const inputs: Txn[] = Array.from({ length: 1024 }, () => ({
  order_total: rand() * 500,
  age: 18 + Math.floor(rand() * 60),
  hour: Math.floor(rand() * 24),
  country: rand() < 0.5 ? 'DE' : 'FR',
}));

function predict(x: Txn): { score: number; label: string } {
  const z = 0.004 * x.order_total - 0.01 * x.age + (x.hour < 6 ? 0.8 : 0) + (x.country === 'FR' ? 0.1 : 0);
  const score = 1 / (1 + Math.exp(-z));
  return { score, label: score > 0.5 ? 'fraud' : 'ok' };
}
async function predictAsync(x: Txn): Promise<{ score: number; label: string }> {
  return predict(x);
}

const store = createMemoryCaptureStore();
const wrapped = withCapture(predict, { store, modelVersion: 'bench-1' });
const wrappedAsync = withCapture(predictAsync, { store, modelVersion: 'bench-1' });

let sink = 0;

function loopDirect(n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += predict(inputs[i & 1023]!).score;
  return s;
}
function loopWrapped(n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += wrapped(inputs[i & 1023]!).score;
  return s;
}
async function loopDirectAsync(n: number): Promise<number> {
  let s = 0;
  for (let i = 0; i < n; i++) s += (await predictAsync(inputs[i & 1023]!)).score;
  return s;
}
async function loopWrappedAsync(n: number): Promise<number> {
  let s = 0;
  for (let i = 0; i < n; i++) s += (await wrappedAsync(inputs[i & 1023]!)).score;
  return s;
}

async function time(fn: (n: number) => number | Promise<number>, n: number): Promise<number> {
  const t0 = performance.now();
  sink += await fn(n);
  return ((performance.now() - t0) * 1e6) / n;
}

async function compare(
  label: string,
  direct: (n: number) => number | Promise<number>,
  wrap: (n: number) => number | Promise<number>,
  n: number,
): Promise<{ direct: number; wrapped: number; overhead: number }> {
  await time(direct, WARMUP_CALLS);
  await time(wrap, WARMUP_CALLS);
  const d: number[] = [];
  const w: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    d.push(await time(direct, n));
    w.push(await time(wrap, n));
  }
  const md = median(d);
  const mw = median(w);
  const diff = mw - md;
  const perRound = d.map((x, i) => (w[i] ?? 0) - x);
  process.stdout.write(
    `${label}\n` +
      `  direct predict      ${md.toFixed(1).padStart(8)} ns/call (median of ${ROUNDS} x ${n.toLocaleString('en')} calls)\n` +
      `  withCapture(predict) ${mw.toFixed(1).padStart(7)} ns/call\n` +
      `  overhead            ${diff.toFixed(1).padStart(8)} ns/call  (ratio ${(mw / md).toFixed(2)}x; ` +
      `per-round overhead min ${Math.min(...perRound).toFixed(1)} / max ${Math.max(...perRound).toFixed(1)} ns)\n`,
  );
  return { direct: md, wrapped: mw, overhead: diff };
}

/** withCapture's success path against the bare call, sync and async. */
export async function bench({ quick }: BenchOptions): Promise<BenchRow[]> {
  if (quick) {
    N = 40_000;
    ROUNDS = 1;
    WARMUP_CALLS = 10_000;
  }
  const sync = await compare('sync predict, success path', loopDirect, loopWrapped, N);
  const async_ = await compare('async predict, success path', loopDirectAsync, loopWrappedAsync, N / 4);
  if (wrapped.stats().failures !== 0 || wrappedAsync.stats().failures !== 0)
    throw new Error('bench predict failed');
  process.stdout.write(
    `target: < 200 ns/call overhead -> sync ${sync.overhead < 200 ? 'met' : 'NOT met'} (${sync.overhead.toFixed(1)} ns), ` +
      `async ${async_.overhead < 200 ? 'met' : 'NOT met'} (${async_.overhead.toFixed(1)} ns)\n` +
      `(checksum ${sink.toFixed(3)})\n`,
  );
  const r = (kind: string, x: typeof sync, calls: number) =>
    row({
      measure: `capture: withCapture success path, ${kind} predict`,
      size: null,
      unit: 'ns/call',
      baselineName: 'the bare call',
      baseline: x.direct,
      prodprobe: x.wrapped,
      target: '< 200 ns overhead',
      ok: x.overhead < 200,
      note: `overhead ${x.overhead.toFixed(1)} ns/call; median of ${ROUNDS} alternating rounds of ${calls.toLocaleString('en')} calls`,
    });
  return [r('sync', sync, N), r('async', async_, N / 4)];
}

await runMain(import.meta.url, bench);
