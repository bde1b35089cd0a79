/**
 * Benchmarks of @prodprobe/logger, each against a baseline measured in the same run:
 * 1. a sampled-out `log()` (target < 300 ns), next to pino's disabled-level call;
 * 2. full-entry throughput (sanitize, hash, stats, lossless encoding, enqueue, write) vs pino
 *    logging the same fields to the same kind of file (pino.destination, async); target ratio ≥ 1.0;
 * 3. p99 event-loop delay while logging 5,000 full entries a second (target < 10 ms), next to the
 *    same timer loop with no logging.
 * Run: pnpm --filter @prodprobe/logger bench (`-- --quick` for one short round)
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { createSanitizer, encode, inputHash } from '@prodprobe/sanitize';
import pino from 'pino';
import { type BenchOptions, type BenchRow, count, row, runMain } from '../../../bench/rows.js';
import { createPredictionLogger, type PredictionInput, sampleUnit } from '../src/index.js';
import { computeInputStats } from '../src/input-stats.js';
import { inputStatsJsonOf, sanitizedJsonWithStats } from '../src/stats-json.js';

// BENCH_DIR=/dev/shm takes the disk out of the comparison (both loggers then write to tmpfs).
const root = mkdtempSync(join(process.env.BENCH_DIR ?? tmpdir(), 'pp-logger-bench-'));
process.on('exit', () => rmSync(root, { recursive: true, force: true }));
let dirCount = 0;
const freshDir = () => join(root, `d${dirCount++}`);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

/** A payments-style request: 12 fields, a few strings with PII, a small array. */
function makeEntry(i: number): PredictionInput {
  return {
    requestId: randomUUID(),
    input: {
      order_total: 10 + (i % 997) * 1.37,
      currency: 'EUR',
      pay_channel: i % 7 === 0 ? 'buy_now_pay_later' : 'card',
      merchant_id: `m-${i % 113}`,
      customer_email: `user${i}@example.com`,
      card_last4: String(1000 + (i % 9000)),
      country: 'DE',
      account_age_days: i % 3650,
      txn_count_24h: i % 17,
      device_score: (i % 100) / 100,
      is_new_device: i % 5 === 0,
      recent_amounts: [12.5, 40, 7.99],
    },
    output: { score: (i % 1000) / 1000, label: i % 10 === 0 ? 'fraud' : 'ok' },
    latencyMs: 2 + (i % 40) / 10,
    metadata: { region: 'eu-west-1' },
  };
}

const POOL = Array.from({ length: 4096 }, (_, i) => makeEntry(i));

// 1. Sampled-out log() ------------------------------------------------------------------------
function benchSampledOut(iterations: number, rounds: number): { ours: number; pinoDisabled: number } {
  const logger = createPredictionLogger({
    dir: freshDir(),
    sampleRate: 0.001,
    modelVersion: 'v1',
    keepLatencyAboveMs: 1000,
  });
  // Only ids that sample out (a power-of-two pool): every call below is the hot path.
  const out = POOL.filter((e) => sampleUnit(e.requestId) >= 0.001).slice(0, 2048);
  const p = pino(
    { level: 'info' },
    pino.destination({ dest: join(freshDir() + '.pino'), sync: false, mkdir: true }),
  );
  const oursRuns: number[] = [];
  const pinoRuns: number[] = [];
  for (let round = 0; round < rounds; round++) {
    let t = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) logger.log(out[i & (out.length - 1)] ?? (out[0] as PredictionInput));
    oursRuns.push(Number(process.hrtime.bigint() - t) / iterations);
    t = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) p.debug(POOL[i & 4095] as object);
    pinoRuns.push(Number(process.hrtime.bigint() - t) / iterations);
  }
  return { ours: median(oursRuns), pinoDisabled: median(pinoRuns) };
}

// 2. Full-entry throughput --------------------------------------------------------------------
const BATCH = 500; // yield to the event loop like a server between requests

async function oursFull(N: number): Promise<number> {
  const logger = createPredictionLogger({
    dir: freshDir(),
    sampleRate: 1,
    modelVersion: 'v1',
    envFingerprint: 'env-1',
    maxQueue: N,
  });
  const t = process.hrtime.bigint();
  for (let i = 0; i < N; i++) {
    logger.log(POOL[i & 4095] as PredictionInput);
    if (i % BATCH === BATCH - 1) await yieldToLoop();
  }
  await logger.close();
  const secs = Number(process.hrtime.bigint() - t) / 1e9;
  const s = logger.stats();
  if (s.written !== N) throw new Error(`ours wrote ${s.written} of ${N} (dropped ${s.dropped})`);
  return N / secs;
}

async function pinoFull(N: number): Promise<number> {
  const dest = pino.destination({
    dest: join(freshDir() + '.jsonl'),
    sync: false,
    mkdir: true,
    minLength: 4096,
  });
  const p = pino({ base: { host: 'bench', pid: process.pid } }, dest);
  const memory = process.memoryUsage();
  const t = process.hrtime.bigint();
  for (let i = 0; i < N; i++) {
    const e = POOL[i & 4095] as PredictionInput;
    // The same fields our entry holds (pino gets them precomputed: no hash, stats or sanitizing).
    p.info({
      requestId: e.requestId,
      modelVersion: 'v1',
      input: e.input,
      ok: true,
      output: e.output,
      latencyMs: e.latencyMs,
      samplingWeight: 1,
      memory: { rss: memory.rss, heapUsed: memory.heapUsed },
      envFingerprint: 'env-1',
      metadata: e.metadata,
    });
    if (i % BATCH === BATCH - 1) await yieldToLoop();
  }
  await new Promise<void>((resolve, reject) => {
    dest.flush((err) => (err ? reject(err) : resolve()));
  });
  await new Promise<void>((resolve) => {
    dest.once('close', () => resolve());
    dest.end();
  });
  return N / (Number(process.hrtime.bigint() - t) / 1e9);
}

/** Where a full entry's time goes (per entry, µs), measured on the same pool. */
function breakdown(): Record<string, number> {
  const sanitizer = createSanitizer();
  const defaultFlat = sanitizer.flat!;
  // Rules on named top-level fields (what the demo service keeps): a flat policy.
  const ruled = createSanitizer({
    rules: {
      currency: 'keep',
      pay_channel: 'keep',
      country: 'keep',
      order_total: { type: 'round', decimals: 0 },
    },
  });
  const ruledFlat = ruled.flat!;
  const reps = 20_000;
  const time = (fn: (e: PredictionInput) => unknown) => {
    const t = process.hrtime.bigint();
    for (let i = 0; i < reps; i++) fn(POOL[i & 4095] as PredictionInput);
    return Number(process.hrtime.bigint() - t) / reps / 1000;
  };
  return {
    'sanitize(input)': time((e) => sanitizer.sanitize(e.input)),
    'inputHash(input)': time((e) => inputHash(e.input)),
    computeInputStats: time((e) => computeInputStats(e.input, e.input)),
    'inputStatsJsonOf(input)': time((e) => inputStatsJsonOf(e.input, e.input)),
    'encode(input)': time((e) => encode(e.input)),
    'JSON.stringify(input)': time((e) => JSON.stringify(e.input)),
    // What log() runs with the default policy instead of sanitize + stats + encode.
    'one walk (default policy)': time((e) => sanitizedJsonWithStats(e.input, defaultFlat)),
    // Field rules: the generic path log() took before sanitizer.flat, and the one walk it takes now.
    'field rules, generic': time((e) => {
      const clean = ruled.sanitize(e.input);
      return inputStatsJsonOf(e.input, clean) + encode(clean);
    }),
    'field rules, one walk': time((e) => sanitizedJsonWithStats(e.input, ruledFlat)),
  };
}

// 3. Event-loop delay at 5,000 entries/s ------------------------------------------------------
async function loopDelay(
  withLogger: boolean,
  ms: number,
): Promise<{ p99ms: number; maxms: number; logged: number }> {
  const logger = withLogger
    ? createPredictionLogger({ dir: freshDir(), sampleRate: 1, modelVersion: 'v1' })
    : undefined;
  const h = monitorEventLoopDelay({ resolution: 1 });
  let logged = 0;
  h.enable();
  await new Promise<void>((resolve) => {
    const started = Date.now();
    const timer = setInterval(() => {
      // 10 entries every 2 ms = 5,000 entries/s.
      for (let i = 0; i < 10; i++) {
        if (logger) logger.log(POOL[logged & 4095] as PredictionInput);
        logged++;
      }
      if (Date.now() - started >= ms) {
        clearInterval(timer);
        resolve();
      }
    }, 2);
  });
  h.disable();
  await logger?.close();
  if (logger && logger.stats().written !== logged)
    throw new Error(`wrote ${logger.stats().written} of ${logged}`);
  return { p99ms: h.percentile(99) / 1e6, maxms: h.max / 1e6, logged };
}

/** Sampled-out log(), full entries vs pino at three sizes, and event-loop delay under logging. */
export async function bench({ quick }: BenchOptions): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const rounds = quick ? 1 : 5;
  const so = benchSampledOut(quick ? 20_000 : 2_000_000, rounds);
  console.log('1. sampled-out log()');
  console.log(`   ours:                         ${so.ours.toFixed(1)} ns/op  (target < 300 ns)`);
  console.log(
    `   baseline pino disabled level: ${so.pinoDisabled.toFixed(1)} ns/op  ratio ours/pino time = ${(so.ours / so.pinoDisabled).toFixed(2)}`,
  );
  rows.push(
    row({
      measure: 'logger: a sampled-out log() call',
      size: null,
      unit: 'ns/call',
      baselineName: null,
      baseline: null,
      prodprobe: so.ours,
      target: '< 300 ns',
      ok: so.ours < 300,
      note: `median of ${rounds} runs; for scale, pino's disabled-level call: ${so.pinoDisabled.toFixed(1)} ns (it does no sampling decision)`,
    }),
  );

  // One discarded run of each first: the smallest size lasts a fraction of a second, so without it
  // that row measures the JIT compiling the logger (a service logs for hours, warm).
  if (!quick) {
    await pinoFull(10_000);
    await oursFull(10_000);
  }
  for (const n of quick ? [2000] : [10_000, 50_000, 200_000]) {
    const oursRuns: number[] = [];
    const pinoRuns: number[] = [];
    for (let round = 0; round < rounds; round++) {
      pinoRuns.push(await pinoFull(n));
      oursRuns.push(await oursFull(n));
    }
    const ours = median(oursRuns);
    const p = median(pinoRuns);
    console.log(`2. full entries to disk (${n} entries, median of ${rounds} alternating runs)`);
    console.log(
      `   ours: ${Math.round(ours).toLocaleString('en')} entries/s (${(1e6 / ours).toFixed(2)} µs/entry)`,
    );
    console.log(
      `   pino: ${Math.round(p).toLocaleString('en')} entries/s (${(1e6 / p).toFixed(2)} µs/entry)`,
    );
    console.log(`   ratio ours/pino throughput = ${(ours / p).toFixed(2)}  (target >= 1.0)`);
    rows.push(
      row({
        measure: 'logger: full entry to a file',
        size: `${count(n)} entries`,
        unit: 'entries/s',
        baselineName: 'pino, same fields',
        baseline: p,
        prodprobe: ours,
        target: "≥ 1.0× pino's entries/s",
        ok: ours >= p,
        note: `ours sanitizes, hashes, computes input stats, encodes losslessly and writes; pino gets the fields precomputed (pino.destination, async). Median of ${rounds} alternating runs after one warm-up run of each`,
      }),
    );
  }
  if (!quick) {
    console.log('   where a full entry goes (µs):');
    for (const [k, v] of Object.entries(breakdown())) console.log(`     ${k.padEnd(26)} ${v.toFixed(2)}`);
  }

  const ms = quick ? 300 : 3000;
  const base = await loopDelay(false, ms);
  const withLog = await loopDelay(true, ms);
  console.log(
    `3. event-loop delay at 5,000 entries/s for ${ms / 1000} s (monitorEventLoopDelay, 1 ms resolution)`,
  );
  console.log(`   baseline (timer only): p99 ${base.p99ms.toFixed(2)} ms, max ${base.maxms.toFixed(2)} ms`);
  console.log(
    `   with logger:           p99 ${withLog.p99ms.toFixed(2)} ms, max ${withLog.maxms.toFixed(2)} ms (${withLog.logged} entries, target p99 < 10 ms)`,
  );
  rows.push(
    row({
      measure: 'logger: p99 event-loop delay while logging 5,000 full entries/s',
      size: null,
      unit: 'ms',
      baselineName: 'the same timer loop, no logging',
      baseline: base.p99ms,
      prodprobe: withLog.p99ms,
      target: '< 10 ms',
      ok: withLog.p99ms < 10,
      note: `${ms / 1000} s, max ${withLog.maxms.toFixed(1)} ms (baseline max ${base.maxms.toFixed(1)} ms)`,
    }),
  );
  return rows;
}

await runMain(import.meta.url, bench);
