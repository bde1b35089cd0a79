import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { MODEL_DIR } from '@prodprobe/fraud-model';
import { type DiagnoseReport, diagnose } from '../diagnose/diagnose.js';
import { renderDiagnoseHtml } from '../diagnose/render-html.js';
import { loadServiceModule } from '../service-module.js';
import { type RegressionRun, SERVICE_MODULE, writeRegressionTest } from './regression.js';
import { type DemoServer, startDemoServer } from './servers.js';
import { type DemoRequest, demoTraffic } from './traffic.js';

/** How one environment answered the demo's traffic, scored against the labels only the demo knows. */
export interface TrafficResult {
  env: string;
  sent: number;
  ok: number;
  rejected: number;
  nullPredictions: number;
  accuracy: number;
  elapsedMs: number;
}

/** Options of {@link runScenario}. */
export interface ScenarioOptions {
  /** Output folder (wiped first): `<out>/<env>/{captures,logs}`, snapshots, diagnose.html/json. */
  out: string;
  /** Requests sent to each environment. @default 1500 */
  requests?: number;
  /** Config of the side that works: a name under apps/server/environments or a file. @default 'staging' */
  staging?: string;
  /** Config of the side that fails. @default 'production' */
  production?: string;
  cwd: string;
  onStep?: (step: string, detail?: string) => void;
  /** Called as each environment's traffic is scored. */
  onTraffic?: (result: TrafficResult) => void;
}

/** What the scenario produced. */
export interface ScenarioResult {
  traffic: TrafficResult[];
  report: DiagnoseReport;
  html: string;
  /** The reproduced failures as a regression test, and its first run (none reproduced: undefined). */
  regression: RegressionRun | undefined;
  servers: { env: string; url: string }[];
}

/** Sends the traffic with bounded concurrency and scores the answers. */
async function sendTraffic(
  server: DemoServer,
  requests: DemoRequest[],
  concurrency = 16,
): Promise<TrafficResult> {
  const started = performance.now();
  let next = 0;
  const counts = { ok: 0, rejected: 0, nulls: 0, correct: 0 };
  const worker = async () => {
    while (next < requests.length) {
      const r = requests[next++]!;
      const res = await fetch(`${server.url}/predict`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-request-id': r.requestId },
        body: JSON.stringify(r.body),
      });
      const body = (await res.json()) as { fraudProbability?: number | null; isFraud?: boolean };
      if (res.status !== 200) counts.rejected++;
      else if (body.fraudProbability === null) counts.nulls++;
      // A null prediction is a wrong answer as far as the business is concerned.
      else if (body.isFraud === r.isFraud) counts.correct++;
      if (res.status === 200) counts.ok++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return {
    env: server.env,
    sent: requests.length,
    ok: counts.ok,
    rejected: counts.rejected,
    nullPredictions: counts.nulls,
    accuracy: counts.correct / requests.length,
    elapsedMs: performance.now() - started,
  };
}

async function fetchSnapshot(server: DemoServer, token: string, file: string) {
  const res = await fetch(`${server.url}/debug/env`, { headers: { authorization: `Bearer ${token}` } });
  if (res.status !== 200) throw new Error(`GET /debug/env on ${server.env} answered ${res.status}`);
  writeFileSync(file, await res.text());
}

/**
 * The demo's story: start staging and production as separate processes (same code, their own
 * configuration), send each its traffic, snapshot both, stop them (logs flushed), then run
 * `diagnose` over what production left behind, and turn the failures it reproduced into a
 * regression test, run once. No process outlives the call.
 */
export async function runScenario(options: ScenarioOptions): Promise<ScenarioResult> {
  const step = options.onStep ?? (() => {});
  const n = options.requests ?? 1500;
  const out = options.out;
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const token = randomBytes(24).toString('hex');
  const envs = [
    { role: 'staging' as const, config: options.staging ?? 'staging', seed: 1000 },
    { role: 'production' as const, config: options.production ?? 'production', seed: 1001 },
  ];
  const servers: DemoServer[] = [];
  const killAll = () => {
    for (const s of servers) s.process.kill('SIGKILL');
  };
  process.once('SIGINT', killAll);
  const traffic: TrafficResult[] = [];
  try {
    step('start');
    for (const e of envs) {
      const server = await startDemoServer(e.config, join(out, e.role), token, options.cwd);
      servers.push({ ...server, env: e.role });
      step('started', `${e.role} ${server.url}`);
    }
    step('traffic');
    for (const [i, e] of envs.entries()) {
      const result = await sendTraffic(servers[i]!, demoTraffic(e.role, n, e.seed));
      traffic.push(result);
      options.onTraffic?.(result);
    }
    step('snapshot');
    await fetchSnapshot(servers[0]!, token, join(out, 'staging-env.json'));
    await fetchSnapshot(servers[1]!, token, join(out, 'production-env.json'));
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
    process.off('SIGINT', killAll);
  }
  step('diagnose');
  const prod = join(out, 'production');
  const report = await diagnose({
    captures: join(prod, 'captures'),
    logs: join(prod, 'logs'),
    reference: join(MODEL_DIR, 'training-profile.json'),
    envA: join(out, 'staging-env.json'),
    envB: join(out, 'production-env.json'),
    service: await loadServiceModule(createRequire(import.meta.url).resolve(SERVICE_MODULE), options.cwd),
  });
  const html = join(out, 'diagnose.html');
  writeFileSync(html, renderDiagnoseHtml(report));
  writeFileSync(join(out, 'diagnose.json'), JSON.stringify(report, null, 2));
  step('regression');
  // The failures that reproduce locally, one per group, become a regression test.
  const reproduced = report.replays.filter((r) => r.reproduced).map((r) => r.recordId);
  const regression = reproduced.length
    ? await writeRegressionTest(reproduced, join(prod, 'captures'), out)
    : undefined;
  return { traffic, report, html, regression, servers: servers.map((s) => ({ env: s.env, url: s.url })) };
}
