// What the instrumentation adds to one prediction, without HTTP: the service's own request path
// (`createPredictor`: pipeline, withCapture, prediction logger) with instrumentation off, with
// logging at 0% sampling (the path 90% of requests take: capture check, sampling decision) and at
// the service's 10%. All three run in one process, in interleaved blocks of 4,000 predictions in
// random order, so each block is compared with its neighbours on the same machine moment; a few
// fresh processes average out per-process luck. 16 predictions are in flight, as under load.
// CPU is counted twice: on the event loop's thread (what a busy server's throughput pays) and on
// all threads. A fourth side logs at the same rate with serialization on the logger's worker
// thread (logSerializeInWorker).
// Run: pnpm --filter @prodprobe/server bench
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BenchOptions, type BenchRow, row as benchRow, runMain } from '../../../bench/rows.js';

let processes = Number(process.env.PATH_PROCESSES ?? 3);
let blocks = Number(process.env.PATH_BLOCKS ?? 20);
const blockSize = 4000;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

type Side = 'off' | 'sampledOut' | 'sampled' | 'worker';
type Cost = { loop: number; all: number };

/** CPU time of the calling thread in µs (Linux: the scheduler's own ns count, not 10 ms ticks). */
const threadCpuMicros = () =>
  Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]) / 1000;

if (process.argv[2] === '--child') {
  const { generateTransactions } = await import('@prodprobe/fraud-model');
  const { createObservability } = await import('../src/observability.js');
  const { createPredictor } = await import('../src/app.js');
  const { loadFraudModel } = await import('../src/model.js');
  const { loadServerConfig } = await import('../src/config.js');
  const work = process.argv[3]!;
  const build = async (side: Side) => {
    const config = loadServerConfig('staging', {
      dataDir: join(work, side),
      instrumentation: side !== 'off',
      ...(side === 'sampledOut' ? { logSampleRate: 0 } : {}),
      ...(side === 'worker' ? { logSerializeInWorker: true } : {}),
    });
    const model = await loadFraudModel(config.modelPath, config.preprocessPath);
    const observability = config.instrumentation ? await createObservability(config, model) : undefined;
    return {
      predictor: createPredictor(config, model, observability),
      observability,
      model,
      sampleRate: config.logSampleRate,
    };
  };
  const sides = {
    off: await build('off'),
    sampledOut: await build('sampledOut'),
    sampled: await build('sampled'),
    worker: await build('worker'),
  };
  const bodies = generateTransactions(64, { seed: 5 }).map((r) => JSON.stringify(r.transaction));
  let n = 0;
  // 16 chains of predictions, each on a freshly parsed body (as a server sees them).
  const run = (side: Side, count: number) =>
    Promise.all(
      Array.from({ length: 16 }, async () => {
        for (let i = 0; i < count / 16; i++) {
          const k = n++;
          await sides[side].predictor.predictOne(
            JSON.parse(bodies[k % bodies.length]!),
            `req-${k}-${process.pid}`,
          );
        }
      }),
    );
  const names = Object.keys(sides) as Side[];
  for (const side of names) await run(side, 10 * blockSize); // warm-up
  const cpu: Record<Side, number[]> = { off: [], sampledOut: [], sampled: [], worker: [] };
  const loop: Record<Side, number[]> = { off: [], sampledOut: [], sampled: [], worker: [] };
  for (let b = 0; b < blocks; b++) {
    // A different order every block (Fisher-Yates): no side always follows another.
    const order = [...names];
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    for (const side of order) {
      const before = process.cpuUsage();
      const loopBefore = threadCpuMicros();
      await run(side, blockSize);
      // The block pays for its own background work (drift profiling, serialization on the
      // worker, the write), which would otherwise land in whichever block runs when a timer fires.
      await sides[side].predictor.flush();
      await sides[side].observability?.flush();
      const used = process.cpuUsage(before);
      loop[side].push((threadCpuMicros() - loopBefore) / blockSize);
      cpu[side].push((used.user + used.system) / blockSize);
    }
  }
  for (const s of Object.values(sides)) {
    await s.predictor.flush();
    await s.observability?.close();
    await s.model.session.release();
  }
  // Per block: the added µs against the uninstrumented block of the same round.
  const added = (side: Side): Cost => ({
    loop: median(loop[side].map((x, i) => x - loop.off[i]!)),
    all: median(cpu[side].map((x, i) => x - cpu.off[i]!)),
  });
  process.stdout.write(
    JSON.stringify({
      off: { loop: median(loop.off), all: median(cpu.off) },
      sampledOut: added('sampledOut'),
      sampled: added('sampled'),
      worker: added('worker'),
      sampleRate: sides.sampled.sampleRate,
    }),
  );
}

/** What capture + logging add to one prediction on the service's request path, in child processes. */
export async function bench({ quick }: BenchOptions): Promise<BenchRow[]> {
  if (quick) [processes, blocks] = [1, 1];
  const work = mkdtempSync(join(tmpdir(), 'prodprobe-path-'));
  const self = fileURLToPath(import.meta.url);
  try {
    const results: { off: Cost; sampledOut: Cost; sampled: Cost; worker: Cost; sampleRate: number }[] = [];
    for (let p = 0; p < processes; p++) {
      const out = execFileSync(
        process.execPath,
        ['--import', 'tsx', self, '--child', join(work, String(p))],
        { encoding: 'utf8' },
      );
      results.push(JSON.parse(out));
      process.stderr.write(`process ${p + 1}/${processes} done\n`);
    }
    const of = (pick: (r: (typeof results)[number]) => number) => median(results.map(pick));
    const rate = results[0]!.sampleRate;
    const off = { loop: of((r) => r.off.loop), all: of((r) => r.off.all) };
    const row = (label: string, side: 'sampledOut' | 'sampled' | 'worker') => {
      const loopAdded = of((r) => r[side].loop);
      const allAdded = of((r) => r[side].all);
      return `  ${label.padEnd(42)}${loopAdded.toFixed(2)} µs (ratio ${((off.loop + loopAdded) / off.loop).toFixed(3)}) | ${allAdded.toFixed(2)} µs (ratio ${((off.all + allAdded) / off.all).toFixed(3)})`;
    };
    const kept = (side: 'sampled' | 'worker', pick: (c: Cost) => number) =>
      ((of((r) => pick(r[side])) - of((r) => pick(r.sampledOut))) / rate).toFixed(1);
    console.log(
      `request path (no HTTP): ${processes} processes x ${blocks} interleaved blocks of ${blockSize} predictions per side, 16 in flight`,
    );
    console.log(`  ${'CPU per prediction:'.padEnd(42)}event loop thread | all threads`);
    console.log(`  ${'instrumentation off:'.padEnd(42)}${off.loop.toFixed(2)} µs | ${off.all.toFixed(2)} µs`);
    console.log(row('added, capture + logging at 0% sampling:', 'sampledOut'));
    console.log(row(`added, capture + logging at ${rate * 100}%:`, 'sampled'));
    console.log(row(`  at ${rate * 100}%, serialized on the worker:`, 'worker'));
    for (const side of ['sampled', 'worker'] as const) {
      console.log(
        `  one kept entry${side === 'worker' ? ', worker' : ''}: ${kept(side, (c) => c.loop)} µs on the event loop, ${kept(side, (c) => c.all)} µs on all threads (serialization, hash, drift profile, write)`,
      );
    }
    console.log(
      `  per process, added at ${rate * 100}% on the event loop: ${results.map((r) => r.sampled.loop.toFixed(2)).join(' ')} µs (median of paired blocks)`,
    );
    const added = (label: string, side: 'sampledOut' | 'sampled') =>
      benchRow({
        measure: `demo server: event-loop CPU per prediction, instrumentation ${label} (no HTTP)`,
        size: null,
        unit: 'µs',
        baselineName: 'instrumentation off',
        baseline: off.loop,
        prodprobe: off.loop + of((r) => r[side].loop),
        target: '— (context for the load rows)',
        ok: null,
        note: `createPredictor's request path, ${processes} processes × ${blocks} interleaved blocks of ${blockSize}, 16 in flight; a kept entry costs ${kept('sampled', (c) => c.loop)} µs on the event loop`,
      });
    return [added('at 0% log sampling', 'sampledOut'), added(`at ${rate * 100}% log sampling`, 'sampled')];
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[2] !== '--child') await runMain(import.meta.url, bench);
