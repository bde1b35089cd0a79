// Load test: what capture + prediction logging (10% sampling) cost the demo service, against the
// same service with instrumentation off, measured in the same run with autocannon on loopback.
// Each server runs in its own process, new ones every round; the order alternates so machine
// noise hits both alike.
// Run: pnpm --filter @prodprobe/cli bench   (after pnpm build)
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateTransactions } from '@prodprobe/fraud-model';
import autocannon from 'autocannon';
import { startDemoServer } from '../src/demo/servers.js';

const seconds = Number(process.env.LOAD_SECONDS ?? 5);
const rounds = Number(process.env.LOAD_ROUNDS ?? 7);
const warmupSeconds = Number(process.env.LOAD_WARMUP_SECONDS ?? 2);
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

async function load(server: { url: string; process: { pid?: number } }, duration = seconds): Promise<Run> {
  const url = server.url;
  const cpuBefore = cpuMicros(server.process.pid!);
  let i = 0;
  const latencies: number[] = [];
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: `${url}/predict`,
        connections: 16,
        duration,
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
  const runs = { plain: [] as Run[], instrumented: [] as Run[] };
  // Fresh processes every round: one process can run a few % faster or slower than an identical
  // one for its whole life (memory layout, where the scheduler puts it), so a comparison of two
  // long-lived processes carries that bias whatever the number of rounds.
  for (let r = 0; r < rounds; r++) {
    const [plain, instrumented] = await Promise.all([
      startDemoServer('staging', join(work, `plain-${r}`), 'x'.repeat(32), process.cwd(), [
        '--no-instrumentation',
      ]),
      // LOAD_AA=1 runs the control: two uninstrumented servers, to see the noise floor of the setup.
      startDemoServer(
        'staging',
        join(work, `instrumented-${r}`),
        'x'.repeat(32),
        process.cwd(),
        process.env.LOAD_AA === '1' ? ['--no-instrumentation'] : [],
      ),
    ]);
    try {
      // Each measurement follows its own warm-up (JIT), so both servers come to it the same way.
      const measure = async (server: typeof plain) => {
        await load(server, warmupSeconds);
        return load(server);
      };
      // Alternate which server goes first, so neither always runs on a warmer or cooler machine.
      if (r % 2 === 0) {
        runs.plain.push(await measure(plain));
        runs.instrumented.push(await measure(instrumented));
      } else {
        runs.instrumented.push(await measure(instrumented));
        runs.plain.push(await measure(plain));
      }
    } finally {
      await Promise.all([plain.stop(), instrumented.stop()]);
    }
    process.stderr.write(`round ${r + 1}/${rounds} done\n`);
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
    `load test: ${rounds} rounds x ${seconds} s (fresh servers each round, ${warmupSeconds} s warm-up), 16 connections, POST /predict (staging config, 10% log sampling)`,
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
