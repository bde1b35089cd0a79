import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { SanitizePolicyInput } from '@prodprobe/sanitize';
import type { LineSettings } from './line-encoder.js';
import type { EncodeReply, EncodeRequest } from './serialize-worker.js';

/** The main thread's handle on the serialization worker. */
export interface SerializeThread {
  /** Posts a batch; false when it cannot be copied to the worker (a value structured clone refuses). */
  send(request: EncodeRequest): boolean;
  terminate(): Promise<void>;
}

/**
 * The worker: the built `serialize-worker.js` beside this file, or in a source checkout (this
 * package's tests) the `.ts`, loaded through tsx with the test tsconfig that maps
 * `@prodprobe/sanitize` to its source, so no build is needed.
 */
function spawnWorker(workerData: unknown): Worker {
  const built = new URL('./serialize-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(built))) return new Worker(built, { workerData });
  // The `import` target of `tsx/esm/api` (require.resolve would give its CommonJS build).
  const tsxManifest = createRequire(import.meta.url).resolve('tsx/package.json');
  const tsxApi = new URL('./dist/esm/api/index.mjs', pathToFileURL(tsxManifest)).href;
  const source = new URL('./serialize-worker.ts', import.meta.url).href;
  const tsconfig = fileURLToPath(new URL('../test/fixtures/tsconfig.json', import.meta.url));
  const code = `import(${JSON.stringify(tsxApi)}).then(({ register }) => { register({ tsconfig: ${JSON.stringify(
    existsSync(tsconfig) ? tsconfig : false,
  )} }); return import(${JSON.stringify(source)}); });`;
  return new Worker(code, { eval: true, workerData });
}

/**
 * Starts the worker. It does not keep the process alive; `onExit` is called if it stops on its own
 * (an uncaught error, or it could not start), with the error when there is one.
 */
export function startSerializeThread(
  settings: LineSettings,
  policy: SanitizePolicyInput,
  onReply: (reply: EncodeReply) => void,
  onExit: (error: Error | undefined) => void,
): SerializeThread {
  const worker = spawnWorker({ settings, policy });
  worker.unref();
  let stopping = false;
  let failure: Error | undefined;
  worker.on('message', onReply);
  worker.on('error', (error) => {
    failure = error;
  });
  worker.on('exit', (code) => {
    if (stopping) return;
    onExit(failure ?? new Error(`the serialization worker exited with code ${code}`));
  });
  return {
    send(request) {
      try {
        worker.postMessage(request);
        return true;
      } catch {
        return false;
      }
    },
    async terminate() {
      stopping = true;
      await worker.terminate();
    },
  };
}
