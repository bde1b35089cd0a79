// Load test: what capture + prediction logging (10% sampling) cost the demo service, against the
// same service with instrumentation off, measured in the same run with autocannon on loopback.
//
// On a shared 2-vCPU machine the speed of one process drifts by 10-20% from second to second, so
// long back-to-back runs compare two different machines. Here both servers run side by side and
// the client alternates between them in short slices (ABBA order), so each pair of neighbouring
// slices sees the same machine. A process also keeps its own luck for its whole life (memory
// layout, hash seeds: the A/A control shows pairs of identical servers 5% apart), so many fresh
// pairs of processes are started, and a pair is the unit of the statistics: the cost is the median
// over pairs of each pair's median slice ratio, with a distribution-free 95% interval.
// Run: pnpm --filter @prodprobe/cli bench   (after pnpm build)
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateTransactions } from '@prodprobe/fraud-model';
import autocannon from 'autocannon';
import { type BenchOptions, type BenchRow, median, row, runMain } from '../../../bench/rows.js';
import { type DemoServer, startDemoServer } from '../src/demo/servers.js';

// The report (bench/report.ts) sets a shorter configuration through these variables.
let pairs = Number(process.env.LOAD_PAIRS ?? 12);
let slicesPerPair = Number(process.env.LOAD_SLICES ?? 4);
let sliceSeconds = Number(process.env.LOAD_SLICE_SECONDS ?? 1);
let warmupSeconds = Number(process.env.LOAD_WARMUP_SECONDS ?? 2.5);
// LOAD_AA=1 runs the control: two uninstrumented servers, to see the noise floor of the setup.
const control = process.env.LOAD_AA === '1';
// LOAD_SAMPLE_RATE: the share of successes the instrumented server logs (the target is for 10%).
const sampleRate = process.env.LOAD_SAMPLE_RATE ?? '0.1';
// LOAD_BASELINE / LOAD_CANDIDATE: other `prodprobe serve` flags for the two sides, to compare two
// instrumented setups in one run, e.g. LOAD_BASELINE='--log-sample-rate 0.1'
// LOAD_CANDIDATE='--log-sample-rate 0.1 --log-serialize-in-worker'.
const baselineArgs = process.env.LOAD_BASELINE?.split(' ').filter(Boolean) ?? ['--no-instrumentation'];
const candidateArgs =
  process.env.LOAD_CANDIDATE?.split(' ').filter(Boolean) ??
  (control ? ['--no-instrumentation'] : ['--log-sample-rate', sampleRate]);
const custom = process.env.LOAD_BASELINE !== undefined || process.env.LOAD_CANDIDATE !== undefined;
const bodies = generateTransactions(64, { seed: 5 }).map((r) => JSON.stringify(r.transaction));

interface Slice {
  rps: number;
  /** Latency percentiles in ms, from every 2xx response's own timing (autocannon's histogram keeps whole ms). */
  p99: number;
  p50: number;
  /** Server CPU time (all its threads) per request, in µs, from /proc/<pid>/stat. */
  cpuUs: number;
  bad: number;
}

/** utime + stime of a process in µs (Linux; clock ticks of 10 ms). */
function cpuMicros(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

let next = 0;
async function load(server: DemoServer, seconds: number): Promise<Slice> {
  const cpuBefore = cpuMicros(server.process.pid!);
  const latencies: number[] = [];
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: `${server.url}/predict`,
        connections: 16,
        duration: seconds,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        requests: [{ setupRequest: (req) => ({ ...req, body: bodies[next++ % bodies.length] }) }],
      },
      (error, result) => (error ? reject(error) : resolve(result)),
    );
    instance.on('response', (_client, status, _bytes, ms) => {
      if (status >= 200 && status < 300) latencies.push(ms);
    });
  });
  latencies.sort((a, b) => a - b);
  const at = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0;
  const total = result.requests.total;
  return {
    rps: total / seconds,
    p99: at(0.99),
    p50: at(0.5),
    cpuUs: (cpuMicros(server.process.pid!) - cpuBefore) / Math.max(1, total),
    bad: result.errors + result.non2xx,
  };
}

/**
 * A 95% confidence interval for the median, distribution-free: the order statistics k and n-k+1,
 * with k the largest such that P(Binomial(n, 1/2) < k) <= 2.5%.
 */
function medianInterval(xs: number[]): [number, number] {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  let k = 0;
  let cumulative = 0;
  let term = 0.5 ** n; // P(X = 0)
  while (k < n && cumulative + term <= 0.025) {
    cumulative += term;
    term = (term * (n - k)) / (k + 1); // P(X = k+1)
    k++;
  }
  return k === 0 ? [s[0]!, s[n - 1]!] : [s[k - 1]!, s[n - k]!];
}

const pct = (ratio: number) => `${((ratio - 1) * 100).toFixed(1)}%`;

/** The demo service with instrumentation on vs off under the same loopback load, ABBA pairs. */
export async function bench({ quick }: BenchOptions): Promise<BenchRow[]> {
  if (quick) [pairs, slicesPerPair, sliceSeconds, warmupSeconds] = [1, 1, 0.5, 0.5];
  const work = mkdtempSync(join(tmpdir(), 'prodprobe-load-'));
  try {
    const plain: Slice[] = [];
    const instrumented: Slice[] = [];
    // Per server pair: the median over its slices of each paired ratio.
    const pairRps: number[] = [];
    const pairP99: number[] = [];
    const pairCpu: number[] = [];
    for (let p = 0; p < pairs; p++) {
      const [a, b] = await Promise.all([
        startDemoServer('staging', join(work, `plain-${p}`), 'x'.repeat(32), process.cwd(), baselineArgs),
        startDemoServer(
          'staging',
          join(work, `instrumented-${p}`),
          'x'.repeat(32),
          process.cwd(),
          candidateArgs,
        ),
      ]);
      try {
        // Warm-up (JIT, log segments, the drift profile): the figures are discarded.
        await load(a, warmupSeconds);
        await load(b, warmupSeconds);
        const ys: Slice[] = [];
        const zs: Slice[] = [];
        for (let s = 0; s < slicesPerPair; s++) {
          // ABBA: neither side always goes first, so a trend within a pair cancels.
          const first = (s + p) % 2 === 0;
          const x = first ? await load(a, sliceSeconds) : undefined;
          ys.push(await load(b, sliceSeconds));
          zs.push(x ?? (await load(a, sliceSeconds)));
        }
        plain.push(...zs);
        instrumented.push(...ys);
        const ratio = (f: (x: Slice) => number) => median(ys.map((y, i) => f(y) / f(zs[i]!)));
        pairRps.push(ratio((x) => x.rps));
        pairP99.push(ratio((x) => x.p99));
        pairCpu.push(ratio((x) => x.cpuUs));
      } finally {
        await Promise.all([a.stop(), b.stop()]);
      }
      process.stderr.write(`pair ${p + 1}/${pairs} done\n`);
    }

    const [rpsLo, rpsHi] = medianInterval(pairRps);
    const [p99Lo, p99Hi] = medianInterval(pairP99);
    const bad = [...plain, ...instrumented].reduce((n, x) => n + x.bad, 0);
    const side = (xs: Slice[]) =>
      `${median(xs.map((x) => x.rps)).toFixed(0)} req/s, p50 ${median(xs.map((x) => x.p50)).toFixed(2)} ms, p99 ${median(xs.map((x) => x.p99)).toFixed(2)} ms, server CPU ${median(xs.map((x) => x.cpuUs)).toFixed(1)} µs/request`;

    const setup = custom
      ? `serve ${baselineArgs.join(' ')} against serve ${candidateArgs.join(' ')}`
      : `${Number(sampleRate) * 100}% log sampling`;
    console.log(
      `load test${control ? ' (A/A control: both servers uninstrumented)' : ''}: ${pairs} fresh server pairs x ${slicesPerPair} slices of ${sliceSeconds} s each side (${warmupSeconds} s warm-up), 16 connections, POST /predict, staging config, ${setup}`,
    );
    console.log(
      `  ${custom ? 'baseline:           ' : 'instrumentation off:'} ${side(plain)} (median slice)`,
    );
    console.log(
      `  ${custom ? 'candidate:          ' : control ? 'second plain server:' : 'capture + logging:  '} ${side(instrumented)} (median slice)`,
    );
    const rps = median(pairRps);
    const p99 = median(pairP99);
    console.log(
      `  throughput cost: ${((1 - rps) * 100).toFixed(1)}% (95% CI ${((1 - rpsHi) * 100).toFixed(1)}% to ${((1 - rpsLo) * 100).toFixed(1)}%; target <= 10%); ratio ${rps.toFixed(3)}`,
    );
    console.log(
      `  p99 latency cost: ${pct(p99)} (95% CI ${pct(p99Lo)} to ${pct(p99Hi)}; target <= 10%); ratio ${p99.toFixed(3)}`,
    );
    console.log(`  server CPU cost per request: ${pct(median(pairCpu))}`);
    console.log(
      `  (median over server pairs of each pair's median ratio over ${slicesPerPair} neighbouring slices)`,
    );
    console.log(`  throughput ratio per server pair: ${pairRps.map((x) => x.toFixed(3)).join(' ')}`);
    console.log(`  p99 ratio per server pair:        ${pairP99.map((x) => x.toFixed(3)).join(' ')}`);
    console.log(`  errors or non-2xx responses: ${bad}`);
    if (bad > 0) throw new Error(`${bad} errors or non-2xx responses under load`);
    const config = `${pairs} fresh server pairs × ${slicesPerPair} ABBA slices of ${sliceSeconds} s, 16 connections, ${setup}; median over pairs of each pair's median ratio`;
    const plainRps = median(plain.map((x) => x.rps));
    const instrumentedRps = median(instrumented.map((x) => x.rps));
    return [
      row({
        measure: 'demo server: throughput, instrumentation on vs off (loopback load)',
        size: null,
        unit: 'req/s',
        baselineName: 'instrumentation off',
        baseline: plainRps,
        prodprobe: instrumentedRps,
        ratio: rps,
        target: '≤ 10% lower (ratio ≥ 0.90)',
        ok: rps >= 0.9,
        note: `95% CI of the ratio ${rpsLo.toFixed(3)}–${rpsHi.toFixed(3)}; per pair ${pairRps.map((x) => x.toFixed(2)).join(' ')}; server CPU (all its threads) ${median(plain.map((x) => x.cpuUs)).toFixed(0)} → ${median(instrumented.map((x) => x.cpuUs)).toFixed(0)} µs/request (${pct(median(pairCpu))} more), on the 2 cores the load generator also runs on; ${config}`,
      }),
      row({
        measure: 'demo server: p99 latency, instrumentation on vs off (loopback load)',
        size: null,
        unit: 'ms',
        baselineName: 'instrumentation off',
        baseline: median(plain.map((x) => x.p99)),
        prodprobe: median(instrumented.map((x) => x.p99)),
        ratio: p99,
        target: '≤ 10% higher (ratio ≤ 1.10)',
        ok: p99 <= 1.1,
        note: `95% CI of the ratio ${p99Lo.toFixed(3)}–${p99Hi.toFixed(3)}; per pair ${pairP99.map((x) => x.toFixed(2)).join(' ')}; ${config}`,
      }),
    ];
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await runMain(import.meta.url, bench);
