import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { type BlobStore, startBlobStore } from './blob-store.js';
import type { ConfigInput } from './config.js';
import { type Crash, type Deployment, deploy, EXAMPLE_DIR, start } from './deploy.js';
import { type ConfigPatch, type FaultName, faults, mixIn, type Planted } from './faults.js';
import { sendTraffic, type TrafficReport, textLines } from './traffic.js';

/** What one environment did during a scenario. */
export interface SideResult {
  deployment: Deployment;
  traffic: TrafficReport;
  crashes: Crash[];
  /** Its env snapshot, copied out of the deployment. */
  envFile: string;
  captures: string;
  logs: string;
}

/** A staging/production run with some faults planted, and where it left its evidence. */
export interface ScenarioResult {
  dir: string;
  faults: FaultName[];
  staging: SideResult;
  production: SideResult;
  /**
   * Stops the blob stores. They outlive the services: a captured request names its image by key,
   * and replaying it (diagnose) fetches the image again.
   */
  close(): Promise<void>;
}

/** Options of {@link runScenario}. */
export interface ScenarioOptions {
  /** Where the deployments, planted files and snapshots go (emptied first). */
  dir: string;
  faults: FaultName[];
  /** Lines staging gets, one at a time. @default 150 */
  stagingRequests?: number;
  /** Lines production gets (a fault may ask for more). @default 500 */
  productionRequests?: number;
  /** Production's requests in flight (a fault may ask for more). @default 4 */
  concurrency?: number;
  /** More config for production, on top of the faults' (e.g. `{ logTrace: false }`). */
  production?: ConfigPatch;
  log?: (line: string) => void;
}

function merge(...patches: (ConfigPatch | undefined)[]): ConfigPatch {
  const out: ConfigPatch = {};
  for (const p of patches) {
    if (!p) continue;
    const { blobStore, tensorCache, ...rest } = p;
    Object.assign(out, rest);
    if (blobStore) out.blobStore = { ...out.blobStore, ...blobStore };
    if (tensorCache) out.tensorCache = { ...out.tensorCache, ...tensorCache };
  }
  return out;
}

function withStore(patch: ConfigPatch, store: BlobStore | undefined): Partial<ConfigInput> {
  const { blobStore, ...rest } = patch;
  return store ? { ...rest, blobStore: { ...blobStore, url: store.url } } : rest;
}

/**
 * Deploys staging and production (production with the faults planted), starts each as its own
 * supervised process, sends staging's traffic one request at a time and production's
 * concurrently, then stops both (they flush their captures and logs) and copies their env snapshots.
 */
export async function runScenario(options: ScenarioOptions): Promise<ScenarioResult> {
  const log = options.log ?? (() => {});
  const dir = resolve(options.dir);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const chosen = options.faults.map((name) => faults[name]);
  const planted: Planted[] = [];
  for (const f of chosen) planted.push((await f.plant?.(join(dir, 'planted'))) ?? {});
  const both = merge(...chosen.map((f) => f.both));
  const production = merge(
    both,
    ...chosen.map((f) => f.production),
    ...planted.map((p) => p.config),
    options.production,
  );
  const traffic = chosen.map((f) => f.traffic ?? {});
  const viaBlobs = traffic.some((t) => t.viaBlobs);

  const stores: BlobStore[] = [];
  const blobStore = async (opts: Parameters<typeof startBlobStore>[0]) => {
    if (!viaBlobs) return undefined;
    const s = await startBlobStore(opts);
    stores.push(s);
    return s;
  };
  // Two replicas of one object store, one per environment (production's may have a slow tier):
  // every image the traffic uploads goes to both, so staging's replica can serve a replay of
  // production's captures.
  const stagingStore = await blobStore({});
  const productionStore = await blobStore(Object.assign({}, ...traffic.map((t) => t.blobStore)));
  const upload = viaBlobs
    ? {
        put: (key: string, png: Uint8Array) => {
          for (const s of stores) s.put(key, png);
        },
      }
    : undefined;
  const closeStores = () => Promise.all(stores.map((s) => s.close())).then(() => {});
  const model = planted.find((p) => p.model)?.model;
  const stagingDeployment = deploy({
    env: 'staging',
    dir: join(dir, 'staging'),
    config: withStore(both, stagingStore),
  });
  const productionDeployment = deploy({
    env: 'production',
    dir: join(dir, 'production'),
    config: withStore(production, productionStore),
    ...(model ? { model } : {}),
    packages: Object.assign({}, ...planted.map((p) => p.packages)),
  });
  log(`deployed staging and production under ${dir}`);
  const [staging, prod] = await Promise.all([start(stagingDeployment), start(productionDeployment)]);
  try {
    log(`staging listens on ${staging.url()}, production on ${prod.url()}`);
    const stagingLines = textLines(11, options.stagingRequests ?? 150, { prefix: 'staging' });
    const stagingTraffic = await sendTraffic(staging, stagingLines, {
      concurrency: 1,
      blobStore: upload,
    });
    log(`staging: ${describeTraffic(stagingTraffic)}`);

    let lines = textLines(
      23,
      Math.max(options.productionRequests ?? 500, ...traffic.map((t) => t.requests ?? 0)),
      {
        prefix: 'prod',
        blankShare: Math.max(0, ...traffic.map((t) => t.blankShare ?? 0)),
      },
    );
    for (const p of planted) if (p.recurring) lines = mixIn(lines, p.recurring.lines, p.recurring.share, 5);
    const concurrency = Math.max(options.concurrency ?? 4, ...traffic.map((t) => t.concurrency ?? 0));
    const productionTraffic = await sendTraffic(prod, lines, { concurrency, blobStore: upload });
    log(
      `production: ${describeTraffic(productionTraffic)}, ${concurrency} at a time${prod.crashes.length ? `; restarted ${prod.crashes.length}×` : ''}`,
    );
    await Promise.all([staging.stop(), prod.stop()]);
    const side = (running: typeof staging, t: TrafficReport): SideResult => {
      const d = running.deployment;
      const envFile = join(dir, `${d.env}-env.json`);
      copyFileSync(running.snapshotFile, envFile);
      const data = d.config.dataDir;
      return {
        deployment: d,
        traffic: t,
        crashes: running.crashes,
        envFile,
        captures: join(data, 'captures'),
        logs: join(data, 'logs'),
      };
    };
    return {
      dir,
      faults: options.faults,
      staging: side(staging, stagingTraffic),
      production: side(prod, productionTraffic),
      close: closeStores,
    };
  } catch (error) {
    await Promise.all([staging.stop(), prod.stop()]);
    await closeStores();
    throw error;
  }
}

/** One line about a traffic run: answers, failures, accuracy, p50/p99 latency. */
export function describeTraffic(t: TrafficReport): string {
  const sorted = [...t.latenciesMs].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  const accuracy = t.ok > 0 ? `${((100 * t.correct) / t.ok).toFixed(1)}% of the answers right` : 'no answers';
  return `${t.sent} requests, ${t.ok} answered, ${t.failed} failed, ${t.unreachable} unreachable; ${accuracy}; p50 ${at(0.5).toFixed(1)} ms, p99 ${at(0.99).toFixed(1)} ms`;
}

/** The built prodprobe CLI (the workspace's @prodprobe/cli). */
export function cliBin(): string {
  const manifest = createRequire(import.meta.url).resolve('@prodprobe/cli/package.json');
  const { bin } = JSON.parse(readFileSync(manifest, 'utf8')) as { bin: { prodprobe: string } };
  return join(dirname(manifest), bin.prodprobe);
}

/** The service module diagnose replays on: the TypeScript source (the CLI loads it through tsx). */
export const SERVICE_MODULE = join(EXAMPLE_DIR, 'src', 'pipeline.ts');

/** Options of {@link runDiagnose}. */
export interface DiagnoseOptions {
  /** Pass the service module (`--pipeline`). @default true */
  pipeline?: boolean;
  /** Which of production's records to give it. @default all three */
  give?: ('captures' | 'logs' | 'env')[];
  /** Logs of another run (e.g. staging's) instead of production's. */
  logs?: string;
  html?: string;
  json?: boolean;
}

/**
 * Runs `prodprobe diagnose` in its own process over what production left (captures, logs, the
 * two env snapshots), replaying on the service module as staging configures it.
 */
export function runDiagnose(
  r: ScenarioResult,
  options: DiagnoseOptions = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const give = options.give ?? ['captures', 'logs', 'env'];
  const args = [
    cliBin(),
    ...(options.json ? ['--json'] : []),
    'diagnose',
    ...(give.includes('captures') ? ['--captures', r.production.captures] : []),
    ...(give.includes('logs') ? ['--logs', options.logs ?? r.production.logs] : []),
    ...(give.includes('env') ? ['--env-a', r.staging.envFile, '--env-b', r.production.envFile] : []),
    ...(options.pipeline === false ? [] : ['--pipeline', SERVICE_MODULE]),
    ...(options.html ? ['--html', options.html] : []),
  ];
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, args, {
      env: { ...process.env, OCR_SERVICE_CONFIG: r.staging.deployment.configFile, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => {
      stdout += b.toString();
    });
    child.stderr.on('data', (b: Buffer) => {
      stderr += b.toString();
    });
    child.on('error', reject);
    child.on('exit', (code) => resolvePromise({ code, stdout, stderr }));
  });
}
