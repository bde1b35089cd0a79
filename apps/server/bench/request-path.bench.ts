// What the instrumentation adds to one prediction, without HTTP: the service's own request path
// (`createPredictor`: pipeline, withCapture, prediction logger) with instrumentation off, with
// logging at 0% sampling (the path 90% of requests take: capture check, sampling decision) and at
// the service's 10%. All three run in one process, in interleaved blocks of 4,000 predictions in
// random order, so each block is compared with its neighbours on the same machine moment; a few
// fresh processes average out per-process luck. 16 predictions are in flight, as under load.
// Run: pnpm --filter @prodprobe/server bench
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const processes = Number(process.env.PATH_PROCESSES ?? 3);
const blocks = Number(process.env.PATH_BLOCKS ?? 20);
const blockSize = 4000;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

type Side = 'off' | 'sampledOut' | 'sampled';

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
  const cpu: Record<Side, number[]> = { off: [], sampledOut: [], sampled: [] };
  for (let b = 0; b < blocks; b++) {
    // A different order every block (Fisher-Yates): no side always follows another.
    const order = [...names];
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    for (const side of order) {
      const before = process.cpuUsage();
      await run(side, blockSize);
      // The block pays for its own background work (deferred serialization, the write), which
      // would otherwise land in whichever block runs when the logger's timer fires.
      await sides[side].predictor.flush();
      await sides[side].observability?.flush();
      const used = process.cpuUsage(before);
      cpu[side].push((used.user + used.system) / blockSize);
    }
  }
  for (const s of Object.values(sides)) {
    await s.predictor.flush();
    await s.observability?.close();
    await s.model.session.release();
  }
  // Per block: the added µs against the uninstrumented block of the same round.
  const added = (side: Side) => median(cpu[side].map((x, i) => x - cpu.off[i]!));
  process.stdout.write(
    JSON.stringify({
      off: median(cpu.off),
      sampledOut: added('sampledOut'),
      sampled: added('sampled'),
      sampleRate: sides.sampled.sampleRate,
    }),
  );
} else {
  const work = mkdtempSync(join(tmpdir(), 'prodprobe-path-'));
  const self = fileURLToPath(import.meta.url);
  try {
    const results: { off: number; sampledOut: number; sampled: number; sampleRate: number }[] = [];
    for (let p = 0; p < processes; p++) {
      const out = execFileSync(
        process.execPath,
        ['--import', 'tsx', self, '--child', join(work, String(p))],
        { encoding: 'utf8' },
      );
      results.push(JSON.parse(out));
      process.stderr.write(`process ${p + 1}/${processes} done\n`);
    }
    const off = median(results.map((r) => r.off));
    const sampledOut = median(results.map((r) => r.sampledOut));
    const sampled = median(results.map((r) => r.sampled));
    const rate = results[0]!.sampleRate;
    console.log(
      `request path (no HTTP): ${processes} processes x ${blocks} interleaved blocks of ${blockSize} predictions per side, 16 in flight`,
    );
    console.log(`  instrumentation off:                    ${off.toFixed(2)} µs CPU per prediction`);
    console.log(
      `  added, capture + logging at 0% sampling: ${sampledOut.toFixed(2)} µs per prediction (ratio ${((off + sampledOut) / off).toFixed(3)})`,
    );
    console.log(
      `  added, capture + logging at ${`${rate * 100}%:`.padEnd(13)}${sampled.toFixed(2)} µs per prediction (ratio ${((off + sampled) / off).toFixed(3)})`,
    );
    console.log(
      `  so one kept entry costs about ${((sampled - sampledOut) / rate).toFixed(1)} µs (serialization, hash, drift profile, write)`,
    );
    console.log(
      `  per process, added at ${rate * 100}%: ${results.map((r) => r.sampled.toFixed(2)).join(' ')} µs (median of paired blocks)`,
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
