import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadServerConfig } from '@prodprobe/server';

/** A demo server running as its own process, the way a deployment runs. */
export interface DemoServer {
  env: string;
  url: string;
  process: ChildProcess;
  /** SIGTERM, wait for the graceful shutdown (logs flushed), SIGKILL after `timeoutMs`. */
  stop(timeoutMs?: number): Promise<void>;
}

// The built CLI, from dist/ or from src/ (tests): the servers run as the deployed code would.
const bin = fileURLToPath(new URL('../../dist/bin.js', import.meta.url));

/**
 * Starts `prodprobe serve --env <env>` in a child process with the heap limit its config names,
 * and resolves once it prints its address.
 */
export async function startDemoServer(
  env: string,
  dataDir: string,
  debugToken: string,
  cwd: string,
  extraArgs: string[] = [],
): Promise<DemoServer> {
  if (!existsSync(bin)) throw new Error(`${bin} is missing: run \`pnpm build\` first`);
  const config = loadServerConfig(env, {}, cwd);
  const args = [
    ...(config.memoryLimitMb ? [`--max-old-space-size=${config.memoryLimitMb}`] : []),
    bin,
    '--json',
    'serve',
    '--env',
    env,
    '--port',
    '0',
    '--data-dir',
    dataDir,
    '--debug-token-env',
    'PRODPROBE_DEBUG_TOKEN',
    ...extraArgs,
  ];
  const child = spawn(process.execPath, args, {
    cwd,
    env: { ...process.env, ...config.envVars, PRODPROBE_DEBUG_TOKEN: debugToken, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const url = await new Promise<string>((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(
      () => reject(new Error(`${env} server did not start within 20 s: ${stderr}`)),
      20_000,
    );
    child.stdout!.on('data', (d: Buffer) => {
      stdout += d.toString();
      try {
        const info = JSON.parse(stdout) as { url: string };
        clearTimeout(timer);
        resolve(info.url);
      } catch {
        // not the whole JSON document yet
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${env} server exited with code ${code}: ${stderr}`));
    });
  });
  return {
    env,
    url,
    process: child,
    stop(timeoutMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
      return new Promise<void>((resolve) => {
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
