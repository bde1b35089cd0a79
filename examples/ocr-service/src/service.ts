import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createFileCaptureStore, withCapture } from '@prodprobe/capture';
import { type EnvSnapshot, snapshot } from '@prodprobe/env-snapshot';
import { createTrace, type PipelineTrace } from '@prodprobe/layers';
import { createPredictionLogger } from '@prodprobe/logger';
import { createSanitizer } from '@prodprobe/sanitize';
import type { Config } from './config.js';
import {
  createPipeline,
  isFailedPrediction,
  loadSession,
  type Orientation,
  requestSchema,
} from './stages.js';

/** A running OCR service. */
export interface OcrService {
  url: string;
  /** The environment snapshot taken at start (also written to `<dataDir>/env-snapshot.json`). */
  environment: EnvSnapshot;
  /** Stops accepting requests, waits for the ones in flight, writes captures and logs. */
  close(): Promise<void>;
}

/** The app's folder (where its package.json is): what the snapshot resolves packages from. */
const appDir = dirname(dirname(fileURLToPath(import.meta.url)));

/** A failed prediction as the logs record it: the classifier answered, but with no number. */
class PredictionFailed extends Error {
  override readonly name = 'PredictionFailed';
}

/**
 * Starts the service on `config.host:config.port` (127.0.0.1, any free port by default):
 * `POST /classify` runs the pipeline through `withCapture` (failing inputs are captured) and
 * logs every settled call with its trace (stage times, data sources).
 */
export async function startService(config: Config): Promise<OcrService> {
  const session = await loadSession(config);
  const pipeline = createPipeline(config, session);

  // The port is where this process happens to listen, not how the service behaves.
  const { file: _file, port: _port, ...recorded } = config;
  const environment = await snapshot({
    label: config.env,
    entryDir: appDir,
    models: [{ path: config.modelPath, name: 'classifier' }],
    config: recorded,
    env: process.env,
    envAllow: ['NODE_OPTIONS', 'TZ', 'LANG'],
    budgetMs: 5000,
  });
  // The folders exist from the start, so a deployment with no failure yet has an empty capture store.
  mkdirSync(join(config.dataDir, 'captures'), { recursive: true });
  writeFileSync(join(config.dataDir, 'env-snapshot.json'), JSON.stringify(environment, null, 2));

  // Text lines are kept as they are, so a captured failure replays exactly; ids are ours.
  const sanitizer = createSanitizer({
    rules: { png: 'keep', blob: 'keep', id: 'keep' },
    limits: { maxStringLength: 1_000_000 },
  });
  let instrumentationErrors = 0;
  const logger = createPredictionLogger({
    dir: join(config.dataDir, 'logs'),
    sampleRate: config.logSampleRate,
    modelVersion: config.modelVersion,
    sanitizer,
    envFingerprint: environment.fingerprint,
    // Failed predictions are logged as errors (PredictionFailed, below).
    keepNonFiniteOutput: false,
    onError: () => void instrumentationErrors++,
  });
  const predict = withCapture(
    (input: unknown, _requestId: string, trace: PipelineTrace) => pipeline.run(input, trace),
    {
      store: createFileCaptureStore(join(config.dataDir, 'captures'), { maxRecords: 2000 }),
      sanitizer,
      modelVersion: config.modelVersion,
      isFailure: isFailedPrediction,
      requestId: (_input, args) => args[1],
      environment: () => ({ env: config.env, envFingerprint: environment.fingerprint }),
      onSettled: (call) => {
        const [input, requestId, trace] = call.args;
        const error = call.threw ? call.error : call.failure ? new PredictionFailed(call.failure) : undefined;
        logger.log({
          requestId,
          input,
          output: call.output,
          error,
          latencyMs: call.latencyMs,
          ...(config.logTrace ? trace : {}),
        });
      },
      onError: () => void instrumentationErrors++,
    },
  );

  const send = (res: ServerResponse, status: number, body: unknown) =>
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));

  const classify = async (req: IncomingMessage, res: ServerResponse) => {
    const given = req.headers['x-request-id'];
    const requestId = typeof given === 'string' && /^[\w.:-]{1,128}$/.test(given) ? given : randomUUID();
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > 2_000_000) return send(res, 413, { requestId, error: 'PayloadTooLarge' });
      chunks.push(chunk as Buffer);
    }
    let body: unknown;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      return send(res, 400, { requestId, error: 'BadRequest', message: 'the body is not JSON' });
    }
    const parsed = requestSchema.safeParse(body);
    if (!parsed.success) {
      const message = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
      return send(res, 400, { requestId, error: 'ValidationError', message: message.join('; ') });
    }
    try {
      const out: Orientation = await predict(body, requestId, createTrace());
      const failure = isFailedPrediction(out);
      if (failure) return send(res, 500, { requestId, error: 'PredictionFailed', message: failure });
      return send(res, 200, { requestId, modelVersion: config.modelVersion, ...out });
    } catch (error) {
      const e = error instanceof Error ? error : new Error(String(error));
      return send(res, 500, { requestId, error: e.name, message: e.message });
    }
  };

  const server = createServer((req, res) => {
    if (req.method === 'POST' && req.url === '/classify') {
      classify(req, res).catch(() => {
        if (!res.headersSent) send(res, 500, { error: 'InternalError' });
      });
    } else if (req.method === 'GET' && req.url === '/healthz') {
      send(res, 200, {
        status: 'ok',
        env: config.env,
        modelVersion: config.modelVersion,
        instrumentationErrors,
      });
    } else send(res, 404, { error: 'NotFound' });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, resolve);
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://${config.host}:${port}`,
    environment,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      await predict.flush();
      await logger.close();
      await session.release();
    },
  };
}
