// Load test: what capture + prediction logging (10% sampling) cost the demo service, against the
// same service with instrumentation off, measured in the same run with autocannon on loopback.
// Each server runs in its own process; rounds alternate so machine noise hits both alike.
// Run: pnpm --filter @prodprobe/cli bench   (after pnpm build)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateTransactions } from '@prodprobe/fraud-model';
import autocannon from 'autocannon';
import { startDemoServer } from '../src/demo/servers.js';

const seconds = Number(process.env.LOAD_SECONDS ?? 8);
const rounds = Number(process.env.LOAD_ROUNDS ?? 3);
const work = mkdtempSync(join(tmpdir(), 'prodprobe-load-'));
const bodies = generateTransactions(64, { seed: 5 }).map((r) => JSON.stringify(r.transaction));

interface Run {
  rps: number;
  p99: number;
  p50: number;
  errors: number;
  non2xx: number;
}

async function load(url: string): Promise<Run> {
  let i = 0;
  const result = await autocannon({
    url: `${url}/predict`,
    connections: 16,
    duration: seconds,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    requests: [{ setupRequest: (req) => ({ ...req, body: bodies[i++ % bodies.length] }) }],
  });
  return {
    rps: result.requests.average,
    p99: result.latency.p99,
    p50: result.latency.p50,
    errors: result.errors,
    non2xx: result.non2xx,
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

try {
  const plain = await startDemoServer('staging', join(work, 'plain'), 'x'.repeat(32), process.cwd(), [
    '--no-instrumentation',
  ]);
  const instrumented = await startDemoServer(
    'staging',
    join(work, 'instrumented'),
    'x'.repeat(32),
    process.cwd(),
  );
  const runs = { plain: [] as Run[], instrumented: [] as Run[] };
  try {
    await load(plain.url); // warm-up, both
    await load(instrumented.url);
    for (let r = 0; r < rounds; r++) {
      runs.plain.push(await load(plain.url));
      runs.instrumented.push(await load(instrumented.url));
    }
  } finally {
    await Promise.all([plain.stop(), instrumented.stop()]);
  }
  const p = { rps: median(runs.plain.map((x) => x.rps)), p99: median(runs.plain.map((x) => x.p99)) };
  const q = {
    rps: median(runs.instrumented.map((x) => x.rps)),
    p99: median(runs.instrumented.map((x) => x.p99)),
  };
  const bad = [...runs.plain, ...runs.instrumented].reduce((n, x) => n + x.errors + x.non2xx, 0);
  console.log(
    `load test: ${rounds} rounds x ${seconds} s, 16 connections, POST /predict (staging config, 10% log sampling)`,
  );
  console.log(`  instrumentation off: ${p.rps.toFixed(0)} req/s, p99 ${p.p99} ms`);
  console.log(`  capture + logging:   ${q.rps.toFixed(0)} req/s, p99 ${q.p99} ms`);
  console.log(
    `  throughput cost: ${((1 - q.rps / p.rps) * 100).toFixed(1)}% (target <= 10%); ratio ${(q.rps / p.rps).toFixed(3)}`,
  );
  console.log(
    `  p99 latency cost: ${((q.p99 / p.p99 - 1) * 100).toFixed(1)}% (target <= 10%); ratio ${(q.p99 / p.p99).toFixed(3)}`,
  );
  console.log(`  errors or non-2xx responses: ${bad}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
