import { randomUUID, timingSafeEqual } from 'node:crypto';
import { type CaptureStats, withCapture } from '@prodprobe/capture';
import { createTrace, definePipeline, type PipelineTrace } from '@prodprobe/layers';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { ResolvedServerConfig } from './config.js';
import {
  type FraudModel,
  fraudStages,
  isFailedPrediction,
  loadFraudModel,
  type Prediction,
  transactionSchema,
} from './model.js';
import { createObservability, type Observability } from './observability.js';

/** A running service: the Fastify instance plus what graceful shutdown must flush. */
export interface FraudService {
  app: FastifyInstance;
  config: ResolvedServerConfig;
  model: FraudModel;
  observability: Observability | undefined;
  /** Writes the captures and logs of the predictions answered so far (the service keeps running). */
  flush(): Promise<void>;
  /** Stops accepting requests, waits for in-flight ones, flushes captures and logs. */
  close(): Promise<void>;
}

const zodIssues = (
  error: { issues: { path: PropertyKey[]; message: string }[] },
  prefix: (string | number)[] = [],
) =>
  error.issues.map((i) => ({
    path: [...prefix, ...i.path].map(String).join('.') || '(root)',
    message: i.message,
  }));

/**
 * Why the JSON parser refused a body, in words: its syntax error with the position, or the
 * prototype key (valid JSON that would let a body reach `Object.prototype`).
 */
function jsonBodyError(body: string): Error & { statusCode: number; code: string } {
  const text = body.charCodeAt(0) === 0xfeff ? body.slice(1) : body; // the parser skips a BOM too
  try {
    JSON.parse(text);
  } catch (cause) {
    return Object.assign(new Error(`body is not valid JSON (${(cause as Error).message})`), {
      statusCode: 400,
      code: 'FST_ERR_CTP_INVALID_JSON_BODY',
    });
  }
  return Object.assign(
    new Error('body has a "__proto__" key, or a "constructor" key holding "prototype": refused'),
    { statusCode: 400, code: 'ForbiddenKey' },
  );
}

/** One transaction through the service: what `POST /predict` runs for each row. */
export interface Predictor {
  predictOne(input: unknown, requestId: string): Promise<Prediction>;
  /** Capture counters (failures seen, records written, failed, dropped, pending); none without instrumentation. */
  captureStats(): CaptureStats | undefined;
  /** Waits for captures still being written (none without instrumentation). */
  flush(): Promise<void>;
}

/**
 * The model pipeline, and with instrumentation on, `withCapture` around it and the prediction
 * logger after it. The service and the request-path benchmark both build it here.
 */
export function createPredictor(
  config: ResolvedServerConfig,
  model: FraudModel,
  observability: Observability | undefined,
): Predictor {
  const pipeline = definePipeline<unknown, Prediction>(fraudStages(model, config.fraudThreshold));
  if (!observability)
    return {
      predictOne: (input) => pipeline.run(input),
      captureStats: () => undefined,
      flush: async () => {},
    };
  const record = observability.record;
  // Traced: the logs get each stage's time (which stage a slow request spent its time in).
  const traced = (input: unknown, _requestId: string, trace: PipelineTrace): Promise<Prediction> =>
    pipeline.run(input, trace);
  // Capture and logging share withCapture's one reaction per call (onSettled): no promise of
  // our own around it, and the failure check runs once.
  const predict = withCapture(traced, {
    store: observability.captureStore,
    sanitizer: observability.sanitizer,
    modelVersion: config.modelVersion,
    isFailure: isFailedPrediction,
    requestId: (_input, args) => args[1],
    environment: () => ({ env: config.env, envFingerprint: observability.fingerprint }),
    onSettled: (call) => record(call.args[1], call.args[0], call, call.args[2]),
    onError: observability.noteError,
  });
  return {
    predictOne: (input, requestId) => predict(input, requestId, createTrace()),
    captureStats: () => predict.stats(),
    flush: () => predict.flush(),
  };
}

/**
 * Builds the demo fraud service. The model runs as a @prodprobe/layers pipeline; every
 * prediction goes through `withCapture` and the prediction logger unless instrumentation is off.
 */
export async function createFraudService(config: ResolvedServerConfig): Promise<FraudService> {
  const model = await loadFraudModel(config.modelPath, config.preprocessPath);
  const observability = config.instrumentation ? await createObservability(config, model) : undefined;

  const { predictOne, captureStats, flush: flushCaptures } = createPredictor(config, model, observability);

  // The request history: a ring of `maxEntries` slots in staging, unbounded in production's
  // config (the leak). A full ring reuses its oldest slot's buffer: a bounded cache that allocated
  // a fresh buffer per request would churn external memory and force a major GC every few seconds.
  const history: { requestId: string; retained: Buffer }[] = [];
  let oldest = 0;
  const remember = (requestId: string) => {
    const { maxEntries, entryBytes } = config.requestHistory;
    if (maxEntries === 0) return;
    if (maxEntries === null || history.length < maxEntries) {
      // Filled (the id, repeated) so every page is touched: the memory really is resident.
      history.push({ requestId, retained: Buffer.alloc(entryBytes, requestId) });
      return;
    }
    const slot = history[oldest]!;
    slot.requestId = requestId;
    slot.retained.fill(requestId);
    oldest = (oldest + 1) % maxEntries;
  };

  const app = Fastify({
    logger: false,
    bodyLimit: config.bodyLimitBytes,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && /^[\w.:-]{1,128}$/.test(given) ? given : randomUUID();
    },
  });

  // Fastify's JSON parser (which refuses `__proto__` and `constructor.prototype` keys) says "not
  // valid JSON" for both a syntax error and a refused key, with no position. On that error path
  // only, say which it was: the syntax error with its position, or the key.
  const defaultJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    defaultJson(request, body as string, (error, value) => {
      if ((error as { code?: string } | null)?.code !== 'FST_ERR_CTP_INVALID_JSON_BODY') {
        done(error, value);
        return;
      }
      done(jsonBodyError(body as string), undefined);
    });
  });

  // Bad JSON, bodies over the limit, wrong content types: 4xx with a message, never a 5xx.
  app.setErrorHandler((error: Error & { statusCode?: number; code?: string }, request, reply) => {
    const status =
      error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    if (status === 500) request.log.error(error);
    const type = request.headers['content-type'];
    const message =
      error.code !== 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
        ? error.message
        : `${type === undefined ? 'no content-type' : `unsupported content-type ${JSON.stringify(type)}`}: send application/json`;
    void reply.status(status).send({
      requestId: request.id,
      error: status === 500 ? 'InternalError' : (error.code ?? 'BadRequest'),
      message: status === 500 ? 'internal error' : message,
    });
  });

  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
    reply.header('x-model-version', config.modelVersion);
  });

  app.get('/healthz', async () => ({ status: 'ok', env: config.env, modelVersion: config.modelVersion }));

  app.post('/predict', async (request, reply) => {
    const body = request.body;
    const isBatch = typeof body === 'object' && body !== null && !Array.isArray(body) && 'batch' in body;
    const rows: unknown[] = isBatch ? ((body as { batch: unknown }).batch as unknown[]) : [body];
    if (isBatch && (!Array.isArray(rows) || rows.length === 0 || rows.length > config.maxBatch)) {
      return reply.status(400).send({
        requestId: request.id,
        error: 'ValidationError',
        issues: [{ path: 'batch', message: `expected an array of 1 to ${config.maxBatch} transactions` }],
      });
    }
    const issues = rows.flatMap((row, i) => {
      const parsed = transactionSchema.safeParse(row);
      return parsed.success ? [] : zodIssues(parsed.error, isBatch ? ['batch', i] : []);
    });
    if (issues.length > 0) {
      return reply
        .status(400)
        .send({ requestId: request.id, error: 'ValidationError', issues: issues.slice(0, 20) });
    }
    const ids = rows.map((_, i) => (isBatch ? `${request.id}:${i}` : request.id));
    const predictions = await Promise.all(rows.map((row, i) => predictOne(row, ids[i]!)));
    ids.forEach(remember);
    const common = { requestId: request.id, modelVersion: config.modelVersion };
    return isBatch ? { ...common, predictions } : { ...common, ...predictions[0] };
  });

  // Debug endpoints: off without a configured token, 401 without the right bearer token.
  const authorised = (request: FastifyRequest, reply: FastifyReply): boolean => {
    const expected = Buffer.from(`Bearer ${config.debugToken}`);
    const given = Buffer.from(request.headers.authorization ?? '');
    if (given.length === expected.length && timingSafeEqual(given, expected)) return true;
    void reply
      .status(401)
      .send({ error: 'Unauthorized', message: 'debug endpoints need Authorization: Bearer <token>' });
    return false;
  };
  if (config.debugToken && observability) {
    const debug = observability;
    app.get('/debug/env', async (request, reply) =>
      authorised(request, reply) ? debug.envSnapshot() : reply,
    );
    app.get('/debug/drift', async (request, reply) =>
      authorised(request, reply) ? debug.driftReport() : reply,
    );
    app.get('/debug/captures', async (request, reply) =>
      authorised(request, reply) ? debug.captures() : reply,
    );
    app.get('/debug/logs/errors', async (request, reply) =>
      authorised(request, reply) ? debug.errorSummary() : reply,
    );
    app.get('/debug/instrumentation', async (request, reply) =>
      authorised(request, reply) ? { capture: captureStats(), ...debug.health() } : reply,
    );
    app.get('/debug/history', async (request, reply) =>
      authorised(request, reply)
        ? { entries: history.length, retainedBytes: history.length * config.requestHistory.entryBytes }
        : reply,
    );
  }

  return {
    app,
    config,
    model,
    observability,
    async flush() {
      // Captures first: a failed capture is noted while the logs are still being written.
      await flushCaptures();
      await observability?.flush();
    },
    async close() {
      await app.close();
      await flushCaptures();
      await observability?.close();
      await model.session.release();
    },
  };
}
