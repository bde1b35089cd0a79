import { performance } from 'node:perf_hooks';
import { decode, encode, inputHash } from '@prodprobe/sanitize';
import { defaultIsFailure, failureReason, type IsFailure } from './bad-output.js';
import { CaptureError } from './errors.js';
import type { CapturedError, CaptureRecord } from './record.js';
import { unsealInput } from './seal.js';

/** A predict function as returned by `loadModel`: takes the captured input, returns an output (or a promise of one). */
export type ReplayPredict = (input: unknown) => unknown;

/** Loads the model of one version and returns its predict function. */
export type LoadModel = (modelVersion: string) => ReplayPredict | Promise<ReplayPredict>;

/** Options of `replay`. */
export interface ReplayOptions {
  /** Loads the model version the record names (or `modelVersion` when given). */
  loadModel: LoadModel;
  /** The 32-byte key the raw input was sealed with: replay then uses the exact raw input. */
  key?: Uint8Array;
  /** The failure check; use the one the capture used. @default defaultIsFailure */
  isFailure?: IsFailure;
  /** Replay on this model version instead of the one the record names (e.g. to check a fix). */
  modelVersion?: string;
  /**
   * A predict call that has not settled after this long counts as a failure (a hang), named
   * `ReplayTimeout`. It cannot stop a synchronous loop, only stop waiting for a promise.
   * @default 30000
   */
  timeoutMs?: number;
}

/** Which input a replay ran on. */
export type InputUsed = 'sealed-raw' | 'sanitized';

/**
 * What a reproduction says about the cause: a failure that reproduces locally is in the model or
 * the input; one that does not reproduce comes from the environment it ran in.
 */
export type ReplayVerdict = 'model-or-input' | 'environment';

/** The outcome of replaying one record. */
export interface ReplayResult {
  recordId: string;
  /** The model version that was loaded. */
  modelVersion: string;
  /** Whether the replay ran on the exact raw input (unsealed) or on the sanitized one. */
  inputUsed: InputUsed;
  /** Whether the replay failed again (threw, or the output failed the check). */
  reproduced: boolean;
  /** Whether it failed the same way (same error name, or again a bad output). */
  sameFailure: boolean;
  /** The output, when predict returned one. */
  result?: unknown;
  /** The error, when predict threw. */
  error?: CapturedError;
  /** Why the output counts as a failure, when it does. */
  failureReason?: string;
  verdict: ReplayVerdict;
  /** One sentence on what the verdict means and what to do next. */
  explanation: string;
  /** A caveat, e.g. that only the sanitized input was available. */
  note?: string;
  durationMs: number;
}

interface PreparedInput {
  /** Lossless encoding, decoded afresh for every run so a model that mutates its input cannot leak into the next run. */
  text: string;
  inputUsed: InputUsed;
  note?: string;
}

function prepareInput(record: CaptureRecord, key: Uint8Array | undefined): PreparedInput {
  if (key !== undefined && record.sealedInput !== undefined) {
    const raw = unsealInput(record.sealedInput, key);
    if (inputHash(raw) !== record.inputHash) {
      throw new CaptureError(
        'INPUT_HASH_MISMATCH',
        `capture record ${record.id}: the unsealed input does not hash to the record's inputHash`,
      );
    }
    return { text: encode(raw), inputUsed: 'sealed-raw' };
  }
  const why =
    record.sealedInput === undefined
      ? 'the record has no sealed raw input (it was captured without an encryption key)'
      : 'the record has a sealed raw input but no key was given';
  return {
    text: encode(record.input),
    inputUsed: 'sanitized',
    note: `Only the sanitized input was replayed because ${why}; sanitizing can remove what triggered the failure, so a miss is not conclusive.`,
  };
}

async function load(loadModel: LoadModel, version: string): Promise<ReplayPredict> {
  let predict: unknown;
  try {
    predict = await loadModel(version);
  } catch (cause) {
    const why = cause instanceof Error ? cause.message : String(cause);
    throw new CaptureError('LOAD_MODEL_FAILED', `loadModel(${JSON.stringify(version)}) failed: ${why}`, {
      cause,
    });
  }
  if (typeof predict !== 'function') {
    throw new CaptureError(
      'LOAD_MODEL_FAILED',
      `loadModel(${JSON.stringify(version)}): expected a predict function, got ${typeof predict}`,
    );
  }
  return predict as ReplayPredict;
}

function toCapturedError(error: unknown): CapturedError {
  if (error instanceof Error) {
    return typeof error.stack === 'string'
      ? { name: error.name, message: error.message, stack: error.stack }
      : { name: error.name, message: error.message };
  }
  return { name: 'NonError', message: `thrown value: ${String(error)}` };
}

/** What a replay whose predict call never settled reports as its error. */
class ReplayTimeout extends Error {
  override readonly name = 'ReplayTimeout';
}

/** `predict(input)`, or a `ReplayTimeout` rejection once `timeoutMs` has passed without a result. */
function callWithin(predict: ReplayPredict, input: unknown, timeoutMs: number): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new ReplayTimeout(`predict did not settle within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  const call = new Promise<unknown>((resolve) => resolve(predict(input)));
  return Promise.race([call, timeout]).finally(() => clearTimeout(timer));
}

function timeoutOf(options: ReplayOptions, where: string): number {
  const timeoutMs = options.timeoutMs ?? 30_000;
  if (!(Number.isFinite(timeoutMs) && timeoutMs > 0)) {
    throw new CaptureError(
      'INVALID_OPTIONS',
      `${where}: timeoutMs: expected a positive number of milliseconds, got ${String(timeoutMs)}`,
    );
  }
  return timeoutMs;
}

async function runOnce(
  record: CaptureRecord,
  predict: ReplayPredict,
  prepared: PreparedInput,
  version: string,
  isFailure: IsFailure,
  timeoutMs: number,
): Promise<ReplayResult> {
  const input = decode(prepared.text);
  const started = performance.now();
  let result: unknown;
  let error: CapturedError | undefined;
  let timedOut = false;
  try {
    result = await callWithin(predict, input, timeoutMs);
  } catch (thrown) {
    error = toCapturedError(thrown);
    timedOut = thrown instanceof ReplayTimeout;
  }
  const durationMs = performance.now() - started;
  let reason: string | undefined;
  if (error === undefined) {
    try {
      reason = failureReason(isFailure(result));
    } catch (thrown) {
      error = toCapturedError(thrown);
      reason = `isFailure threw: ${error.message}`;
    }
  }
  const reproduced = error !== undefined || reason !== undefined;
  const original = record.failure;
  const sameFailure =
    reproduced &&
    (original.kind === 'error'
      ? error !== undefined && error.name === original.error.name
      : error === undefined && reason !== undefined);
  const inputWord = prepared.inputUsed === 'sealed-raw' ? 'the exact raw input' : 'the sanitized input';
  const out: ReplayResult = {
    recordId: record.id,
    modelVersion: version,
    inputUsed: prepared.inputUsed,
    reproduced,
    sameFailure,
    verdict: reproduced ? 'model-or-input' : 'environment',
    explanation: reproduced
      ? `The failure reproduces locally on model ${version} with ${inputWord}: the cause is in the model or the input, not the environment; isolate the failing layer next.`
      : `The failure does not reproduce locally on model ${version} with ${inputWord}: the model and input behave here, so look for what differs in the environment it failed in.`,
    durationMs,
  };
  if (error === undefined) out.result = result;
  else out.error = error;
  if (reason !== undefined) out.failureReason = reason;
  if (!reproduced && prepared.note !== undefined) out.note = prepared.note;
  if (timedOut) {
    out.note = `predict did not settle within ${timeoutMs} ms, which counts as a failure (a hang); raise timeoutMs if the model is only slow.`;
  }
  return out;
}

/**
 * Replays one captured failure: loads the model version the record names, runs it on the sealed
 * raw input when `key` is given (else on the sanitized input, and says so), and gives the verdict
 * of the method: reproduced → a model or input problem; not reproduced → an environment problem,
 * with a note when only the sanitized input was available.
 * A predict call that does not settle within `timeoutMs` counts as a failure named `ReplayTimeout`.
 * @throws CaptureError `LOAD_MODEL_FAILED`, `UNSEAL_FAILED` (wrong key), `INPUT_HASH_MISMATCH`,
 * `INVALID_OPTIONS` (a bad timeoutMs).
 */
export async function replay(record: CaptureRecord, options: ReplayOptions): Promise<ReplayResult> {
  const timeoutMs = timeoutOf(options, 'replay');
  const version = options.modelVersion ?? record.modelVersion;
  const prepared = prepareInput(record, options.key);
  const predict = await load(options.loadModel, version);
  return runOnce(record, predict, prepared, version, options.isFailure ?? defaultIsFailure, timeoutMs);
}

/** Options of `replayMany`. */
export interface ReplayManyOptions extends ReplayOptions {
  /** Replays in flight at once in the concurrent pass. @default 8 */
  concurrency?: number;
  /** How many times the concurrent pass runs; more rounds give a race more chances to show. @default 1 */
  rounds?: number;
}

/** A record whose outcome under concurrency differed from its sequential outcome. */
export interface ReplayDifference {
  recordId: string;
  /** Outcome when replayed alone (`result` or `error`). */
  sequential: Pick<ReplayResult, 'reproduced' | 'result' | 'error'>;
  /** The first differing outcome when replayed alongside the others. */
  concurrent: Pick<ReplayResult, 'reproduced' | 'result' | 'error'>;
  /** Which concurrent round (0-based) differed first. */
  round: number;
}

/** The outcome of `replayMany`. */
export interface ReplayManyResult {
  /** One result per record, in order, from the sequential pass. */
  results: ReplayResult[];
  /** Records whose output changed when replayed concurrently: a race or shared state between calls. */
  differences: ReplayDifference[];
  /** Records whose output already differed between two sequential runs (nondeterministic; not compared). */
  unstable: string[];
  /** Whether any record differed under concurrency. */
  raceSuspected: boolean;
}

function outcomeKey(r: ReplayResult): string {
  return r.error !== undefined ? `error:${r.error.name}:${r.error.message}` : `result:${encode(r.result)}`;
}

function outcome(r: ReplayResult): Pick<ReplayResult, 'reproduced' | 'result' | 'error'> {
  return r.error !== undefined
    ? { reproduced: r.reproduced, error: r.error }
    : { reproduced: r.reproduced, result: r.result };
}

/**
 * Replays records twice one at a time, then all together with `concurrency` in flight, on one
 * loaded model per version (as a server shares one model between requests), and reports every
 * record whose output changed under concurrency: a race or shared state between calls. Records
 * whose two sequential runs already disagree are listed as `unstable` and not blamed on concurrency.
 * @throws CaptureError as `replay` does, and `INVALID_OPTIONS` for a bad concurrency or rounds.
 */
export async function replayMany(
  records: readonly CaptureRecord[],
  options: ReplayManyOptions,
): Promise<ReplayManyResult> {
  const concurrency = options.concurrency ?? 8;
  const rounds = options.rounds ?? 1;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new CaptureError(
      'INVALID_OPTIONS',
      `replayMany: concurrency: expected a positive integer, got ${concurrency}`,
    );
  }
  if (!Number.isInteger(rounds) || rounds < 1) {
    throw new CaptureError(
      'INVALID_OPTIONS',
      `replayMany: rounds: expected a positive integer, got ${rounds}`,
    );
  }
  const timeoutMs = timeoutOf(options, 'replayMany');
  const isFailure = options.isFailure ?? defaultIsFailure;
  const models = new Map<string, Promise<ReplayPredict>>();
  const jobs = records.map((record) => {
    const version = options.modelVersion ?? record.modelVersion;
    let model = models.get(version);
    if (model === undefined) {
      model = load(options.loadModel, version);
      models.set(version, model);
    }
    return { record, version, model, prepared: prepareInput(record, options.key) };
  });
  const run = async (job: (typeof jobs)[number]) =>
    runOnce(job.record, await job.model, job.prepared, job.version, isFailure, timeoutMs);

  const results: ReplayResult[] = [];
  const second: ReplayResult[] = [];
  for (const job of jobs) results.push(await run(job));
  for (const job of jobs) second.push(await run(job));
  const baseline = results.map(outcomeKey);
  const unstable = new Set<number>();
  second.forEach((r, i) => {
    if (outcomeKey(r) !== baseline[i]) unstable.add(i);
  });

  const differences: ReplayDifference[] = [];
  const differed = new Set<number>();
  for (let round = 0; round < rounds; round++) {
    const concurrent = new Array<ReplayResult>(jobs.length);
    let next = 0;
    const worker = async () => {
      while (next < jobs.length) {
        const i = next++;
        concurrent[i] = await run(jobs[i]!);
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, jobs.length) }, worker));
    concurrent.forEach((r, i) => {
      if (unstable.has(i) || differed.has(i) || outcomeKey(r) === baseline[i]) return;
      differed.add(i);
      differences.push({
        recordId: r.recordId,
        sequential: outcome(results[i]!),
        concurrent: outcome(r),
        round,
      });
    });
  }
  const order = new Map(records.map((r, i) => [r.id, i]));
  differences.sort((a, b) => (order.get(a.recordId) ?? 0) - (order.get(b.recordId) ?? 0));
  return {
    results,
    differences,
    unstable: [...unstable].map((i) => jobs[i]!.record.id),
    raceSuspected: differences.length > 0,
  };
}
