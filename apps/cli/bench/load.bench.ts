// Load test: what capture + prediction logging (10% sampling) cost the demo service, against the
// same service with instrumentation off, measured in the same run with autocannon on loopback.
// Each server runs in its own process; rounds alternate so machine noise hits both alike.
// Run: pnpm --filter @prodprobe/cli bench   (after pnpm build)
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateTransactions } from '@prodprobe/fraud-model';
import autocannon from 'autocannon';
import { startDemoServer } from '../src/demo/servers.js';

const seconds = Number(process.env.LOAD_SECONDS ?? 6);
const rounds = Number(process.env.LOAD_ROUNDS ?? 5);
const work = mkdtempSync(join(tmpdir(), 'prodprobe-load-'));
const bodies = generateTransactions(64, { seed: 5 }).map((r) => JSON.stringify(r.transaction));

interface Run {
  /** Server CPU time (all its threads) per request, in µs, from /proc/<pid>/stat. */
  cpuUsPerRequest: number;
  rps: number;
  /** Latency percentiles in ms, from every 2xx response's own timing (autocannon's histogram keeps whole ms). */
  p99: number;
  p50: number;
  errors: number;
  non2xx: number;
}

/** utime + stime of a process in µs (Linux; clock ticks of 10 ms). */
function cpuMicros(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

async function load(server: { url: string; process: { pid?: number } }): Promise<Run> {
  const url = server.url;
  const cpuBefore = cpuMicros(server.process.pid!);
  let i = 0;
  const latencies: number[] = [];
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: `${url}/predict`,
        connections: 16,
        duration: seconds,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        requests: [{ setupRequest: (req) => ({ ...req, body: bodies[i++ % bodies.length] }) }],
      },
      (error, result) => (error ? reject(error) : resolve(result)),
    );
    instance.on('response', (_client, status, _bytes, ms) => {
      if (status >= 200 && status < 300) latencies.push(ms);
    });
  });
  latencies.sort((a, b) => a - b);
  const percentile = (p: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0;
  return {
    cpuUsPerRequest: (cpuMicros(server.process.pid!) - cpuBefore) / Math.max(1, result.requests.total),
    rps: result.requests.average,
    p99: percentile(0.99),
    p50: percentile(0.5),
    errors: result.errors,
    non2xx: result.non2xx,
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

try {
  const plain = await startDemoServer('staging', join(work, 'plain'), 'x'.repeat(32), process.cwd(), [
    '--no-instrumentation',
  ]);
  // LOAD_AA=1 runs the control: two uninstrumented servers, to see the noise floor of the setup.
  const instrumented = await startDemoServer(
    'staging',
    join(work, 'instrumented'),
    'x'.repeat(32),
    process.cwd(),
    process.env.LOAD_AA === '1' ? ['--no-instrumentation'] : [],
  );
  const runs = { plain: [] as Run[], instrumented: [] as Run[] };
  try {
    await load(plain); // warm-up, both
    await load(instrumented);
    // Alternate which server goes first, so neither always runs on a warmer or cooler machine.
    for (let r = 0; r < rounds; r++) {
      if (r % 2 === 0) {
        runs.plain.push(await load(plain));
        runs.instrumented.push(await load(instrumented));
      } else {
        runs.instrumented.push(await load(instrumented));
        runs.plain.push(await load(plain));
      }
    }
  } finally {
    await Promise.all([plain.stop(), instrumented.stop()]);
  }
  const summary = (xs: Run[]) => ({
    rps: median(xs.map((x) => x.rps)),
    p99: median(xs.map((x) => x.p99)),
    p50: median(xs.map((x) => x.p50)),
    cpu: median(xs.map((x) => x.cpuUsPerRequest)),
  });
  const p = summary(runs.plain);
  const q = summary(runs.instrumented);
  const bad = [...runs.plain, ...runs.instrumented].reduce((n, x) => n + x.errors + x.non2xx, 0);
  console.log(
    `load test: ${rounds} rounds x ${seconds} s, 16 connections, POST /predict (staging config, 10% log sampling)`,
  );
  console.log(
    `  instrumentation off: ${p.rps.toFixed(0)} req/s, p50 ${p.p50.toFixed(2)} ms, p99 ${p.p99.toFixed(2)} ms, server CPU ${p.cpu.toFixed(1)} µs/request`,
  );
  console.log(
    `  capture + logging:   ${q.rps.toFixed(0)} req/s, p50 ${q.p50.toFixed(2)} ms, p99 ${q.p99.toFixed(2)} ms, server CPU ${q.cpu.toFixed(1)} µs/request`,
  );
  console.log(`  server CPU cost per request: ${((q.cpu / p.cpu - 1) * 100).toFixed(1)}%`);
  console.log(
    `  throughput cost: ${((1 - q.rps / p.rps) * 100).toFixed(1)}% (target <= 10%); ratio ${(q.rps / p.rps).toFixed(3)}`,
  );
  console.log(
    `  p99 latency cost: ${((q.p99 / p.p99 - 1) * 100).toFixed(1)}% (target <= 10%); ratio ${(q.p99 / p.p99).toFixed(3)}`,
  );
  // Each round's pair ran back to back: the spread of their ratios is the noise of this machine.
  const ratios = runs.plain.map((x, r) => runs.instrumented[r]!.rps / x.rps);
  const p99Ratios = runs.plain.map((x, r) => runs.instrumented[r]!.p99 / x.p99);
  const cpuRatios = runs.plain.map((x, r) => runs.instrumented[r]!.cpuUsPerRequest / x.cpuUsPerRequest);
  console.log(
    `  paired (median of per-round ratios): throughput cost ${((1 - median(ratios)) * 100).toFixed(1)}%, p99 cost ${((median(p99Ratios) - 1) * 100).toFixed(1)}%, CPU cost ${((median(cpuRatios) - 1) * 100).toFixed(1)}%`,
  );
  console.log(`  throughput ratio per round: ${ratios.map((x) => x.toFixed(3)).join(' ')}`);
  console.log(`  errors or non-2xx responses: ${bad}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
