import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CaptureError,
  type CaptureRecord,
  type CaptureStore,
  createFileCaptureStore,
  type SettledCall,
} from '@prodprobe/capture';
import { compare, createProfileBuilder, mergeProfiles, type Profile, parseProfile } from '@prodprobe/drift';
import { type EnvSnapshot, snapshot } from '@prodprobe/env-snapshot';
import type { PipelineTrace } from '@prodprobe/layers';
import {
  createPredictionLogger,
  isSampled,
  LoggerError,
  type LoggerStats,
  type PredictionLogger,
} from '@prodprobe/logger';
import { errorSummary } from '@prodprobe/logger/query';
import { createSanitizer, type SanitizePolicyInput, toStorable } from '@prodprobe/sanitize';
import type { ResolvedServerConfig } from './config.js';
import type { FraudModel, Prediction } from './model.js';

/**
 * What the service sanitizes before anything reaches disk: categorical features are kept (drift
 * and replay need them); everything else follows the default policy (strings become length
 * placeholders, numbers are rounded to 2 significant digits, NaN stays NaN).
 */
export const servicePolicy = {
  rules: {
    payment_method: 'keep',
    country: 'keep',
    merchant_category: 'keep',
    // Legacy clients send amounts as strings; the non-numeric ones are the failure, keep them.
    amount: { type: 'keepIf', values: ['NaN', 'Infinity', '-Infinity', 'nan', 'null', ''] },
  },
} satisfies SanitizePolicyInput;

/** The instrumentation of one service: logs, drift of recent inputs, env snapshot, captures. */
export interface Observability {
  /** Environment fingerprint stamped on logs and captures. */
  readonly fingerprint: string;
  /** Where `withCapture` writes failing inputs. */
  readonly captureStore: CaptureStore;
  /** The sanitizer every stored input goes through. */
  readonly sanitizer: { sanitize(value: unknown): unknown };
  /**
   * Logs one settled prediction (with the trace of its pipeline run: stage times, data sources),
   * and profiles its input for /debug/drift when the sampler picks it.
   */
  record(requestId: string, input: unknown, call: SettledCall, trace?: PipelineTrace): void;
  /** Counts an error of the instrumentation itself (a capture not stored, a log entry refused). */
  noteError(error: unknown): void;
  /** The logger's counters and the instrumentation errors seen so far. */
  health(): { logger: LoggerStats; errors: number; lastError: string | null };
  envSnapshot(): Promise<EnvSnapshot>;
  driftReport(): unknown;
  captures(): Promise<unknown>;
  errorSummary(): Promise<unknown>;
  /** Profiles the sampled inputs waiting for /debug/drift and writes the logs queued so far. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

const appDir = dirname(dirname(fileURLToPath(import.meta.url)));

/** A failed prediction as the logs record it: the model answered, but with no number. */
class NonFiniteOutput extends Error {
  override readonly name = 'NonFiniteOutput';
}

export async function createObservability(
  config: ResolvedServerConfig,
  model: FraudModel,
): Promise<Observability> {
  const takeSnapshot = () =>
    snapshot({
      label: config.env,
      env: config.envVars,
      envAllow: Object.keys(config.envVars),
      hashKey: 'prodprobe-demo-env-hash-key',
      entryDir: appDir,
      models: [
        { path: config.modelPath, name: 'model' },
        { path: config.preprocessPath, name: 'preprocess' },
      ],
      modelConfig: model.preprocess,
      config: { ...config, debugToken: config.debugToken ? '<set>' : undefined },
      budgetMs: 5000,
    });
  const first = await takeSnapshot();
  const fingerprint = first.fingerprint;
  const sanitizer = createSanitizer(servicePolicy);
  // Failures of the instrumentation (a log write, a capture not stored) never reach a request:
  // they are counted and shown by /debug/instrumentation.
  let errors = 0;
  let lastError: string | null = null;
  const noteError = (error: unknown) => {
    errors++;
    lastError = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  };
  const logger: PredictionLogger = createPredictionLogger({
    dir: `${config.dataDir}/logs`,
    sampleRate: config.logSampleRate,
    modelVersion: config.modelVersion,
    sanitizer,
    envFingerprint: fingerprint,
    // The model's non-finite outputs arrive as errors (NonFiniteOutput, below), since postprocess
    // turns them into null: the rule's walk over every output would find nothing.
    keepNonFiniteOutput: false,
    // Nothing mutates a request body after its prediction, so kept entries can be serialized in
    // a batch at the next write rather than one at a time inside each request, and with
    // logSerializeInWorker on the logger's worker thread.
    deferSerialization: true,
    serializeInWorker: config.logSerializeInWorker,
    onError: noteError,
  });
  const reference: Profile | undefined = config.trainingProfilePath
    ? parseProfile(JSON.parse(readFileSync(config.trainingProfilePath, 'utf8')))
    : undefined;
  // Recent production inputs, profiled in memory (bounded size whatever the traffic): the current
  // window and the one before, merged on demand (profiles merge exactly), so /debug/drift covers
  // the last one to two windows and a new shift is not diluted by days of older traffic.
  const windowMs = config.driftWindowMinutes * 60_000;
  let windowStart = Date.now();
  let current = createProfileBuilder();
  let previous: Profile | undefined;
  const rotate = (now: number) => {
    const elapsed = Math.floor((now - windowStart) / windowMs);
    if (elapsed < 1) return;
    // After a quiet spell of two windows or more there is no "window before" left.
    previous = elapsed === 1 && current.rowCount > 0 ? current.toJSON() : undefined;
    current = createProfileBuilder();
    windowStart += elapsed * windowMs;
  };
  // Sampled inputs wait here and are profiled in a batch (one warm pass, off the requests' path,
  // like the logger's serialization): within a second, at 256 waiting, or when /debug/drift asks.
  // Bodies are never mutated after their prediction, so holding them until then is safe.
  let waiting: { t: number; input: Record<string, unknown> }[] = [];
  let profileTimer: NodeJS.Timeout | undefined;
  const profileWaiting = () => {
    if (profileTimer !== undefined) clearTimeout(profileTimer);
    profileTimer = undefined;
    const batch = waiting;
    waiting = [];
    for (const { t, input } of batch) {
      rotate(t);
      // In a timer: a row the profile refuses is counted, never thrown (it would end the process).
      try {
        current.add(input);
      } catch (error) {
        noteError(error);
      }
    }
  };
  const captureStore = createFileCaptureStore(`${config.dataDir}/captures`, { maxRecords: 5000 });

  return {
    fingerprint,
    captureStore,
    sanitizer,
    record(requestId, input, call, trace) {
      // withCapture's failure check (the service's isFailedPrediction) decides, so logs and
      // captures count the same failures.
      const error = call.threw
        ? call.error
        : call.failure !== undefined
          ? new NonFiniteOutput(call.failure)
          : undefined;
      const output = call.output as Prediction | undefined;
      const logged = logger.log({ requestId, input, output, error, latencyMs: call.latencyMs, ...trace });
      // Profile the requests the sampler picks, whatever their outcome: a uniform sample, like
      // `uniformSample` of the logs. Every error is logged, so profiling every logged input would
      // show where failures cluster as drift; profiling every request would cost more than the
      // prediction itself.
      if (logged.accepted && isSampled(requestId, config.logSampleRate)) {
        waiting.push({ t: Date.now(), input: input as Record<string, unknown> });
        if (waiting.length >= 256) profileWaiting();
        else if (profileTimer === undefined) {
          profileTimer = setTimeout(profileWaiting, 1000);
          profileTimer.unref();
        }
      }
    },
    noteError,
    health: () => ({ logger: logger.stats(), errors, lastError }),
    envSnapshot: takeSnapshot,
    driftReport() {
      if (!reference) return { error: 'no training profile configured (trainingProfilePath)' };
      profileWaiting();
      const now = Date.now();
      rotate(now);
      const recent = previous ? mergeProfiles(previous, current.toJSON()) : current.toJSON();
      const window = {
        from: new Date(previous ? windowStart - windowMs : windowStart).toISOString(),
        to: new Date(now).toISOString(),
        sampledRequests: recent.rowCount,
      };
      if (recent.rowCount === 0) {
        return {
          error: `no sampled requests since ${window.from}: drift compares the ${config.logSampleRate * 100}% of requests the log sampler picks, over the last one to two windows of ${config.driftWindowMinutes} minutes`,
          window,
        };
      }
      return { window, ...compare(reference, recent) };
    },
    async captures() {
      let records: CaptureRecord[];
      try {
        records = await captureStore.list();
      } catch (error) {
        // No failure captured yet: the store creates its folder with the first record.
        const missing =
          error instanceof CaptureError &&
          error.code === 'DIR_NOT_FOUND' &&
          (error.cause as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
        if (!missing) throw error;
        records = [];
      }
      // Lossless form: a NaN in a captured input must not turn into null on the way out.
      return { count: records.length, records: toStorable(records.slice(-50)) };
    },
    async errorSummary() {
      await logger.flush();
      try {
        return await errorSummary(`${config.dataDir}/logs`);
      } catch (error) {
        // No entry kept yet: the logger writes its first segment with the first one.
        if (error instanceof LoggerError && error.code === 'NO_SEGMENTS')
          return { estimatedRequests: 0, errors: 0, errorRate: 0, groups: [] };
        throw error;
      }
    },
    flush() {
      profileWaiting();
      return logger.flush();
    },
    close: () => {
      if (profileTimer !== undefined) clearTimeout(profileTimer);
      return logger.close();
    },
  };
}
