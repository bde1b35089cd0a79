import { type ChildProcess, spawn } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Config, type ConfigInput, loadConfig } from './config.js';
import type { Target } from './traffic.js';

/** The example's folder: its package.json, dist/, node_modules/ and environments/. */
export const EXAMPLE_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** What makes one deployment: which environment, where, and what it ships differently. */
export interface DeploySpec {
  /** `staging` or `production`: its committed config (`environments/<env>.json`) is the base. */
  env: string;
  /** The deployment's folder (emptied first). */
  dir: string;
  /** Config fields set on top of the committed config. */
  config?: Partial<ConfigInput>;
  /** The model file the deployment ships. @default the committed config's model */
  model?: string;
  /**
   * Dependencies installed from another folder than the example's own node_modules (name →
   * package folder): what a deployment built without the lockfile resolves.
   */
  packages?: Record<string, string>;
}

/** A deployment on disk, ready to start. */
export interface Deployment {
  env: string;
  dir: string;
  configFile: string;
  config: Config;
}

/**
 * Writes a deployment the way a release is laid out on a host: the built app (dist/ and
 * package.json) with its runtime dependencies in its own node_modules, the model file, the
 * config. Captures, logs and the env snapshot go to `<dir>/data`.
 */
export function deploy(spec: DeploySpec): Deployment {
  const dist = join(EXAMPLE_DIR, 'dist');
  if (!existsSync(join(dist, 'main.js'))) throw new Error(`${dist} is not built: run \`pnpm build\` first`);
  rmSync(spec.dir, { recursive: true, force: true });
  const app = join(spec.dir, 'app');
  mkdirSync(join(app, 'node_modules'), { recursive: true });
  cpSync(dist, join(app, 'dist'), { recursive: true });
  const manifest = JSON.parse(readFileSync(join(EXAMPLE_DIR, 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
  };
  writeFileSync(join(app, 'package.json'), JSON.stringify(manifest, null, 2));
  for (const name of Object.keys(manifest.dependencies)) {
    const from = spec.packages?.[name] ?? join(EXAMPLE_DIR, 'node_modules', name);
    const link = join(app, 'node_modules', name);
    mkdirSync(dirname(link), { recursive: true });
    symlinkSync(realpathSync(from), link, 'dir');
  }

  const base = JSON.parse(readFileSync(join(EXAMPLE_DIR, 'environments', `${spec.env}.json`), 'utf8'));
  const baseModel = resolve(EXAMPLE_DIR, 'environments', base.modelPath);
  mkdirSync(join(spec.dir, 'models'), { recursive: true });
  cpSync(spec.model ?? baseModel, join(spec.dir, 'models', 'classifier.onnx'));
  const configFile = join(spec.dir, 'config.json');
  const config: ConfigInput = {
    ...base,
    ...spec.config,
    modelPath: 'models/classifier.onnx',
    dataDir: 'data',
  };
  writeFileSync(configFile, JSON.stringify(config, null, 2));
  return { env: spec.env, dir: spec.dir, configFile, config: loadConfig(configFile) };
}

/** A process that ended without being asked to. */
export interface Crash {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The end of its stderr (an out-of-memory crash says so there). */
  stderr: string;
}

/** A deployment running as a supervised process. */
export interface Running extends Target {
  deployment: Deployment;
  /** The processes that died and were restarted, in order. */
  crashes: Crash[];
  /** The environment snapshot the service wrote at its (last) start. */
  snapshotFile: string;
  /** SIGTERM (the service flushes its captures and logs), SIGKILL after `timeoutMs`. */
  stop(timeoutMs?: number): Promise<void>;
}

function launch(
  d: Deployment,
  port: number,
): { child: ChildProcess; url: Promise<string>; stderr: () => string } {
  const args = [
    ...(d.config.memoryLimitMb ? [`--max-old-space-size=${d.config.memoryLimitMb}`] : []),
    join(d.dir, 'app', 'dist', 'main.js'),
    '--config',
    d.configFile,
    '--port',
    String(port),
  ];
  const child = spawn(process.execPath, args, { cwd: d.dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (b: Buffer) => {
    err = (err + b.toString()).slice(-4000);
  });
  const url = new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${d.env} did not start within 60 s: ${err}`)), 60_000);
    const onData = (b: Buffer) => {
      out += b.toString();
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (!line) return;
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      resolve((JSON.parse(line) as { url: string }).url);
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${d.env} exited (${signal ?? code}) before it listened: ${err}`));
    });
  });
  return { child, url, stderr: () => err };
}

/**
 * Starts a deployment as its own process (with the heap limit its config names) and supervises
 * it: a process that dies is restarted on the same port, as an orchestrator would, and the crash
 * is recorded.
 */
export async function start(d: Deployment): Promise<Running> {
  let current = launch(d, d.config.port);
  let url = await current.url;
  const port = Number(new URL(url).port);
  const crashes: Crash[] = [];
  let stopping = false;
  let restarted: Promise<unknown> = Promise.resolve();
  const watch = (p: typeof current) => {
    p.child.once('exit', (code, signal) => {
      if (stopping) return;
      crashes.push({ code, signal, stderr: p.stderr() });
      current = launch(d, port);
      restarted = current.url.then((u) => {
        url = u;
        watch(current);
      });
      // A restart that fails is reported by ready() (it times out with the crash's stderr).
      restarted.catch(() => {});
    });
  };
  watch(current);
  // A client that lost its connection may see it before the exit does: it asks the service itself.
  const ready = async () => {
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      try {
        if ((await fetch(`${url}/healthz`)).ok) return;
      } catch {
        // not listening (yet)
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`${d.env} did not come back within 60 s: ${crashes.at(-1)?.stderr ?? ''}`);
  };
  return {
    deployment: d,
    crashes,
    snapshotFile: join(d.config.dataDir, 'env-snapshot.json'),
    url: () => url,
    ready,
    async stop(timeoutMs = 15_000) {
      stopping = true;
      await restarted.catch(() => {});
      const { child } = current;
      if (child.exitCode !== null || child.signalCode !== null) return;
      await new Promise<void>((resolve) => {
        const kill = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
        child.once('exit', () => {
          clearTimeout(kill);
          resolve();
        });
        child.kill('SIGTERM');
      });
    },
  };
}
