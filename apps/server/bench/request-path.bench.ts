// What the instrumentation adds to one prediction, without HTTP: the service's own request path
// (`createPredictor`: pipeline, withCapture, prediction logger at 10% sampling) against the same
// path with instrumentation off. Each side runs in fresh child processes, alternating, and reports
// CPU time per prediction with 16 predictions in flight, as the HTTP server has under load.
// Run: pnpm --filter @prodprobe/server bench
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const rounds = Number(process.env.PATH_ROUNDS ?? 6);
const perRound = Number(process.env.PATH_PREDICTIONS ?? 60_000);

if (process.argv[2] === '--child') {
  const { generateTransactions } = await import('@prodprobe/fraud-model');
  const { createObservability } = await import('../src/observability.js');
  const { createPredictor } = await import('../src/app.js');
  const { loadFraudModel } = await import('../src/model.js');
  const { loadServerConfig } = await import('../src/config.js');
  const instrumented = process.argv[3] === 'instrumented';
  const config = loadServerConfig('staging', { dataDir: process.argv[4]!, instrumentation: instrumented });
  const model = await loadFraudModel(config.modelPath, config.preprocessPath);
  const observability = instrumented ? await createObservability(config, model) : undefined;
  const predictor = createPredictor(config, model, observability);
  const bodies = generateTransactions(64, { seed: 5 }).map((r) => JSON.stringify(r.transaction));
  let n = 0;
  // 16 chains of predictions, each on a freshly parsed body (as a server sees them).
  const run = (count: number) =>
    Promise.all(
      Array.from({ length: 16 }, async () => {
        for (let i = 0; i < count / 16; i++) {
          const k = n++;
          await predictor.predictOne(JSON.parse(bodies[k % bodies.length]!), `req-${k}-${process.pid}`);
        }
      }),
    );
  await run(perRound / 2); // warm-up
  const before = process.cpuUsage();
  await run(perRound);
  const used = process.cpuUsage(before);
  await predictor.flush();
  await observability?.close();
  await model.session.release();
  process.stdout.write(String((used.user + used.system) / perRound));
} else {
  const work = mkdtempSync(join(tmpdir(), 'prodprobe-path-'));
  const self = fileURLToPath(import.meta.url);
  const child = (side: string, r: number) =>
    Number(
      execFileSync(process.execPath, ['--import', 'tsx', self, '--child', side, join(work, `${side}-${r}`)], {
        encoding: 'utf8',
      }),
    );
  try {
    const plain: number[] = [];
    const instrumented: number[] = [];
    for (let r = 0; r < rounds; r++) {
      if (r % 2 === 0) {
        plain.push(child('plain', r));
        instrumented.push(child('instrumented', r));
      } else {
        instrumented.push(child('instrumented', r));
        plain.push(child('plain', r));
      }
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const p = median(plain);
    const q = median(instrumented);
    console.log(
      `request path (no HTTP): ${rounds} fresh processes per side x ${perRound} predictions, 16 in flight`,
    );
    console.log(`  instrumentation off:            ${p.toFixed(2)} µs CPU per prediction`);
    console.log(`  capture + logging (10% sample): ${q.toFixed(2)} µs CPU per prediction`);
    console.log(`  added: ${(q - p).toFixed(2)} µs per prediction; ratio ${(q / p).toFixed(3)}`);
    console.log(
      `  per round: off ${plain.map((x) => x.toFixed(1)).join(' ')} | on ${instrumented.map((x) => x.toFixed(1)).join(' ')}`,
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
