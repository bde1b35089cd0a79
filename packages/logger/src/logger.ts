import { readdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { getHeapStatistics } from 'node:v8';
import { createSanitizer, formatIssues } from '@prodprobe/sanitize';
import { z } from 'zod';
import { LoggerError } from './errors.js';
import { createLineEncoder, type LineSanitizer, type LineSettings } from './line-encoder.js';
import { type Batch, completeLines, LineQueue } from './line-queue.js';
import { sampleUnit } from './sampling.js';
import { LOG_SCHEMA_VERSION } from './schema.js';
import { type OpenSegment, openFileSegment, PartialWriteError, SegmentSink } from './segment.js';
import { type SerializeThread, startSerializeThread } from './serialize-thread.js';
import type { EncodeItem, EncodeReply } from './serialize-worker.js';

/** What `log()` takes: one call of the model. */
export interface PredictionInput {
  /** The request id sampling is decided on; the same id is kept or dropped in every service. */
  requestId: string;
  /** The raw model input; sanitized before it is stored, hashed raw. */
  input: unknown;
  /** The model output (successes); sanitized before it is stored. */
  output?: unknown;
  /** Set when the call failed: an `Error` or anything thrown. Errors are always logged. */
  error?: unknown;
  latencyMs?: number;
  /**
   * Milliseconds each pipeline stage took, by stage name (`trace.stages` of a traced
   * `pipeline.run` of `@prodprobe/layers`): the logs then say which stage a slow request spent its time in.
   */
  stages?: Readonly<Record<string, number>>;
  /**
   * Data sources the stages read (`trace.sources`): name, the stage, and optionally the version and
   * `asOf` of the data served, whether a cache answered, how long the read took. Stored as given.
   */
  sources?: readonly SourceReadInput[];
  /** The stage that threw (`trace.failedStage`). */
  failedStage?: string;
  /** Extra context stored as given (not sanitized: keep PII out of it). */
  metadata?: Record<string, unknown>;
}

/** One data source read, as `sources` of `log()` takes it (what `ctx.source` of a pipeline stage records). */
export interface SourceReadInput {
  name: string;
  stage?: string;
  version?: string;
  asOf?: string;
  hit?: boolean;
  ms?: number;
}

/** What `log()` says about one entry. The objects are shared constants: `log()` allocates none. */
export interface LogResult {
  /** True when the entry is queued for disk. */
  readonly accepted: boolean;
  readonly reason: 'kept' | 'sampled-out' | 'dropped' | 'closed';
  /**
   * True when the queue is at its bound: await `logger.drained()` before logging more. Errors
   * are accepted even then (never dropped); the bound holds for producers that wait.
   */
  readonly backpressure: boolean;
}

/** Most kept successes waiting to be serialized (deferSerialization) before log() serializes them. */
const MAX_DEFERRED = 512;
/** Deferred successes serialized per turn of the event loop by the timer. */
const DEFER_CHUNK = 16;
/** Deferred successes handed to the serialization worker at once (serializeInWorker). */
const WORKER_BATCH = 64;
/** How long batches wait for a worker that has not answered once yet (loading its modules). */
const WORKER_START_GRACE_MS = 2000;

const KEPT: LogResult = Object.freeze({ accepted: true, reason: 'kept', backpressure: false });
const KEPT_FULL: LogResult = Object.freeze({ accepted: true, reason: 'kept', backpressure: true });
const SAMPLED_OUT: LogResult = Object.freeze({ accepted: false, reason: 'sampled-out', backpressure: false });
const DROPPED: LogResult = Object.freeze({ accepted: false, reason: 'dropped', backpressure: true });
const CLOSED: LogResult = Object.freeze({ accepted: false, reason: 'closed', backpressure: false });

/** Counters of a logger since it was created (a snapshot). */
export interface LoggerStats {
  /** `log()` calls. */
  logged: number;
  /** Entries accepted into the queue (errors and kept successes). */
  kept: number;
  /** Successes not kept by sampling or a keep rule. */
  sampledOut: number;
  /** Successes dropped because the queue was full (recorded by gap markers). */
  dropped: number;
  /** Errors accepted (all of them). */
  errors: number;
  /** Entries written to disk. */
  written: number;
  /** Gap markers written. */
  gapMarkers: number;
  /** Entries waiting in the queue. */
  queued: number;
  /** Entries in the write in progress. */
  inFlight: number;
  /** Highest `queued + inFlight` seen: stays at or below `maxQueue` unless errors arrived with no success left to evict. */
  maxBuffered: number;
  /** Errors accepted while the buffer was at its bound with no success left to evict. */
  errorsOverBound: number;
  /** Batches written. */
  flushes: number;
  bytesWritten: number;
  segmentsOpened: number;
  /** Writes that failed (the errors of the batch are retried, its successes dropped). */
  writeFailures: number;
  /** `log()` calls after `close()`. */
  rejectedAfterClose: number;
  /** Entries whose line the worker wrote (`serializeInWorker`); the other kept ones were serialized on the calling thread. */
  serializedInWorker: number;
}

/** The prediction logger returned by `createPredictionLogger`. */
export interface PredictionLogger {
  /**
   * Logs one call. Sampled-out successes return at once; kept entries are serialised and queued
   * (kept successes at the next write with `deferSerialization`).
   */
  log(entry: PredictionInput): LogResult;
  /**
   * Writes everything queued so far (and anything queued while it waits), and a gap marker for
   * the successes dropped so far.
   */
  flush(): Promise<void>;
  /**
   * Resolves `true` when the buffer is below its bound again (immediately when it is), or `false`
   * when `timeoutMs` passes first (a stalled disk must not hang the caller).
   * @throws LoggerError `INVALID_OPTIONS` for a timeout that is not a number >= 0.
   */
  drained(timeoutMs?: number): Promise<boolean>;
  /** Flushes, closes the segment, and turns later `log()` calls into no-ops counted as `rejectedAfterClose`. */
  close(): Promise<void>;
  stats(): LoggerStats;
  /** Path of the segment being written, if one is open. */
  readonly currentSegment: string | undefined;
}

/** Options of `createPredictionLogger`. */
export interface PredictionLoggerOptions {
  /** Root folder of the segments (created when missing). */
  dir: string;
  /** Share of successes kept, in [0, 1]; decided on the request id (see `sampleUnit`). */
  sampleRate: number;
  modelVersion: string;
  /**
   * Applied to inputs and outputs before they are stored. A sanitizer from `createSanitizer` whose
   * policy is top-level field rules (`sanitizer.flat`) is applied in the same walk that writes the
   * JSON and the stats, without the sanitized copy.
   * @default createSanitizer() (the default policy)
   */
  sanitizer?: LineSanitizer;
  /** Fingerprint of the environment (e.g. from `@prodprobe/env-snapshot`), stored on every entry. */
  envFingerprint?: string;
  /** Keep every success slower than this, whatever the sample says. @default undefined (rule off) */
  keepLatencyAboveMs?: number;
  /** Keep every success whose output holds NaN or ±Infinity. @default true */
  keepNonFiniteOutput?: boolean;
  /** Store the sanitized input on each entry (the stats and hash are always stored). @default true */
  includeInput?: boolean;
  /** Most numeric/string/array paths listed in `inputStats`. @default 256 */
  maxStatsFields?: number;
  /** Longest error message kept, in characters. @default 4096 */
  maxErrorMessageLength?: number;
  /**
   * Serialize kept successes in a batch just before they are written (within half of
   * `flushIntervalMs`) instead of inside `log()`. In a busy service one warm pass over many
   * entries costs less than a cold one per request, and the work leaves the request's latency.
   * The price: `log()` keeps references to `input`, `output` and `metadata` until then, so set it
   * only when nothing mutates them after logging. Errors are always serialized at once.
   * @default false
   */
  deferSerialization?: boolean;
  /**
   * Serialize kept successes on a worker thread (implies `deferSerialization`): the event loop
   * only hands each one over (a structured clone, in batches of 64), and sanitizing, hashing
   * and encoding run on another core. Errors are still serialized at once on the
   * calling thread, so on disk a success can follow an error logged after it (each line has its
   * timestamp). The sanitizer must come from `createSanitizer`: the worker builds its own from
   * `sanitizer.policy`. An input structured clone refuses (a function, a class with private state)
   * is serialized on the calling thread instead. `flush()` waits for the worker at most
   * `flushIntervalMs`, then serializes here what it has not sent back; a worker that dies hands
   * its work back the same way, so nothing accepted is lost. A worker that cannot keep up (a busy
   * machine) has what it has held for half a flush interval serialized here by the timer, so no
   * entry waits longer than one interval for its write. The worker starts with the logger; until
   * it first answers (at most 2 s), batches wait for it.
   * @default false
   */
  serializeInWorker?: boolean;
  /**
   * The most an entry waits before it is on disk, so at most this much is lost on a hard crash
   * (SIGKILL). The logger writes every half interval, leaving the rest for the write itself.
   * @default 100
   */
  flushIntervalMs?: number;
  /** Bound on entries buffered (queued plus being written). @default 10000 */
  maxQueue?: number;
  /** Bound on bytes buffered (UTF-8 size of the queued lines). @default 33554432 (32 MiB) */
  maxQueueBytes?: number;
  /** A segment larger than this is closed and the next batch starts a new one. @default 67108864 (64 MiB) */
  segmentMaxBytes?: number;
  /** A segment older than this is closed (segments also rotate when the UTC hour changes). @default 900000 (15 min) */
  segmentMaxAgeMs?: number;
  /** Stored on each entry and used in segment names. @default os.hostname() */
  host?: string;
  /** Stored on each entry and used in segment names. @default process.pid */
  pid?: number;
  /** How often process memory and resources are re-read for the `memory` and `resources` fields. @default 50 */
  memorySampleIntervalMs?: number;
  /** Reads process memory for the `memory` field. @default process.memoryUsage */
  memoryUsage?: () => { rss: number; heapUsed: number };
  /**
   * Reads the process's open resources for the `resources` field: active handles and requests
   * (sockets, servers, timers: `process.getActiveResourcesInfo()`) and open file descriptors
   * (`/proc/self/fd`, where it exists). @default those two
   */
  resourceUsage?: () => { handles: number; fds?: number };
  /** Opens a segment for writing; replace it to write elsewhere. @default openFileSegment */
  openSegment?: OpenSegment;
  /** Called with background write failures (`flush()` rejects with them instead). */
  onError?: (error: LoggerError) => void;
  /** The clock, in ms since the epoch. @default Date.now */
  now?: () => number;
}

const positiveInt = z.number().int().positive();
const OptionsSchema = z.object({
  dir: z.string().min(1, 'expected a non-empty folder path'),
  sampleRate: z.number().min(0).max(1),
  modelVersion: z.string().min(1, 'expected a non-empty model version'),
  sanitizer: z.custom<LineSanitizer>(
    (v) => typeof (v as { sanitize?: unknown } | null)?.sanitize === 'function',
    'expected an object with a sanitize(value) function',
  ),
  envFingerprint: z.string(),
  keepLatencyAboveMs: z.number().nonnegative(),
  keepNonFiniteOutput: z.boolean(),
  includeInput: z.boolean(),
  maxStatsFields: positiveInt,
  maxErrorMessageLength: positiveInt,
  deferSerialization: z.boolean(),
  serializeInWorker: z.boolean(),
  flushIntervalMs: positiveInt,
  maxQueue: positiveInt,
  maxQueueBytes: positiveInt,
  segmentMaxBytes: positiveInt,
  segmentMaxAgeMs: positiveInt,
  host: z.string().min(1),
  pid: z.number().int(),
  memorySampleIntervalMs: z.number().int().nonnegative(),
  memoryUsage: z.custom<() => { rss: number; heapUsed: number }>(
    (v) => typeof v === 'function',
    'expected a function',
  ),
  resourceUsage: z.custom<() => { handles: number; fds?: number }>(
    (v) => typeof v === 'function',
    'expected a function',
  ),
  openSegment: z.custom<OpenSegment>((v) => typeof v === 'function', 'expected a function'),
  onError: z.custom<(error: LoggerError) => void>((v) => typeof v === 'function', 'expected a function'),
  now: z.custom<() => number>((v) => typeof v === 'function', 'expected a function'),
});

/** Whether /proc/self/fd can be read here (Linux); checked once. */
let fdsReadable: boolean | undefined;

/** Active handles and requests, and open file descriptors where /proc tells them. */
function processResources(): { handles: number; fds?: number } {
  const handles = process.getActiveResourcesInfo().length;
  if (fdsReadable === false) return { handles };
  try {
    const fds = readdirSync('/proc/self/fd').length;
    fdsReadable = true;
    return { handles, fds };
  } catch {
    fdsReadable = false;
    return { handles };
  }
}

/** True when `value` holds NaN or ±Infinity (numbers, arrays, typed arrays, plain objects). */
function hasNonFinite(value: unknown, depth: number): boolean {
  if (typeof value === 'number') return value - value !== 0;
  if (value === null || typeof value !== 'object' || depth > 16) return false;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (hasNonFinite(value[i], depth + 1)) return true;
    return false;
  }
  if (value instanceof Float64Array || value instanceof Float32Array) {
    for (let i = 0; i < value.length; i++) if ((value[i] as number) - (value[i] as number) !== 0) return true;
    return false;
  }
  if (ArrayBuffer.isView(value)) return false;
  for (const key in value) {
    if (hasNonFinite((value as Record<string, unknown>)[key], depth + 1)) return true;
  }
  return false;
}

/**
 * Creates a prediction logger writing JSONL segments under `options.dir`.
 *
 * Errors are always logged; successes are kept when their request id samples in (see
 * `sampleUnit`), or a keep rule matches (latency, non-finite output). Writes are batched every
 * `flushIntervalMs` on the libuv thread pool; the buffer is bounded by `maxQueue` entries. The
 * logger never touches process signals: call `installExitHandlers(logger)` to flush on SIGTERM.
 * @throws LoggerError `INVALID_OPTIONS` naming the bad option.
 */
export function createPredictionLogger(options: PredictionLoggerOptions): PredictionLogger {
  const parsed = OptionsSchema.partial({
    sanitizer: true,
    envFingerprint: true,
    keepLatencyAboveMs: true,
    keepNonFiniteOutput: true,
    includeInput: true,
    maxStatsFields: true,
    maxErrorMessageLength: true,
    deferSerialization: true,
    serializeInWorker: true,
    flushIntervalMs: true,
    maxQueue: true,
    maxQueueBytes: true,
    segmentMaxBytes: true,
    segmentMaxAgeMs: true,
    host: true,
    pid: true,
    memorySampleIntervalMs: true,
    memoryUsage: true,
    resourceUsage: true,
    openSegment: true,
    onError: true,
    now: true,
  }).safeParse(options);
  if (!parsed.success) {
    throw new LoggerError('INVALID_OPTIONS', formatIssues('invalid logger options', parsed.error.issues));
  }
  const o = parsed.data;
  const sampleRate = o.sampleRate;
  const sanitizer = o.sanitizer ?? createSanitizer();
  const inWorker = o.serializeInWorker ?? false;
  if (inWorker && sanitizer.policy === undefined) {
    throw new LoggerError(
      'INVALID_OPTIONS',
      'invalid logger options: serializeInWorker: the sanitizer must come from createSanitizer (the worker builds its own from sanitizer.policy)',
    );
  }
  const keepLatencyAboveMs = o.keepLatencyAboveMs;
  const keepNonFiniteOutput = o.keepNonFiniteOutput ?? true;
  const deferSerialization = inWorker || (o.deferSerialization ?? false);
  const flushIntervalMs = o.flushIntervalMs ?? 100;
  const maxQueue = o.maxQueue ?? 10_000;
  const maxQueueBytes = o.maxQueueBytes ?? 32 * 1024 * 1024;
  const writeEagerBytes = 256 * 1024;
  const host = o.host ?? hostname();
  const pid = o.pid ?? process.pid;
  const memoryInterval = o.memorySampleIntervalMs ?? 50;
  const now = o.now ?? Date.now;
  const memoryUsage = o.memoryUsage ?? process.memoryUsage;
  const resourceUsage = o.resourceUsage ?? processResources;
  // The heap ceiling (--max-old-space-size, or V8's default for the machine): how close the heap runs to it.
  const heapLimit = getHeapStatistics().heap_size_limit;
  const onError = o.onError;
  // Write every half interval: the other half is left for the write itself and timer lag, so an
  // entry is on disk within one interval of being logged (what a hard crash can lose).
  const tickMs = Math.max(1, Math.floor(flushIntervalMs / 2));
  const sampleWeight = sampleRate > 0 ? 1 / sampleRate : 1;
  const sink = new SegmentSink({
    dir: o.dir,
    host,
    pid,
    maxBytes: o.segmentMaxBytes ?? 64 * 1024 * 1024,
    maxAgeMs: o.segmentMaxAgeMs ?? 15 * 60 * 1000,
    openSegment: o.openSegment ?? openFileSegment,
  });

  const lineSettings: LineSettings = {
    modelVersion: o.modelVersion,
    host,
    pid,
    envFingerprint: o.envFingerprint,
    includeInput: o.includeInput ?? true,
    maxStatsFields: o.maxStatsFields ?? 256,
    maxErrorMessageLength: o.maxErrorMessageLength ?? 4096,
  };
  const encoder = createLineEncoder(lineSettings, sanitizer);
  const keptByError = encoder.keptJson('error', 1);
  const keptByLatency = encoder.keptJson('latency', 1);
  const keptByNonFinite = encoder.keptJson('non-finite-output', 1);
  const keptBySample = encoder.keptJson('sample', sampleWeight);

  // The queue: lines in order, as UTF-8 bytes; successes can be evicted to make room for errors.
  const queue = new LineQueue();
  let inFlight = 0;
  // Sequence numbers: `pushed` counts lines entered, `settled` lines written or evicted.
  let pushed = 0;
  let settled = 0;
  let droppedSinceMarker = 0;
  // Drops recorded by gap markers on disk: with `droppedSinceMarker` and a marker being written, `st.dropped`.
  let dropsMarked = 0;
  let firstDroppedAt = 0;
  let lastDroppedAt = 0;

  let memoryJson = ',"memory":{"rss":0,"heapUsed":0}';
  let memoryAt = Number.NEGATIVE_INFINITY;

  let timer: NodeJS.Timeout | undefined;
  let immediate = false;
  let chunking = false;
  let writing: Promise<void> | undefined;
  let closed = false;
  let closing: Promise<void> | undefined;
  let drainWaiters: (() => void)[] = [];

  const st = {
    logged: 0,
    kept: 0,
    sampledOut: 0,
    dropped: 0,
    errors: 0,
    written: 0,
    gapMarkers: 0,
    maxBuffered: 0,
    errorsOverBound: 0,
    flushes: 0,
    writeFailures: 0,
    rejectedAfterClose: 0,
    serializedInWorker: 0,
  };

  // Kept successes waiting to be serialized (deferSerialization), in log() order. Bounded by
  // MAX_DEFERRED, so at most that many inputs are held by reference.
  let deferred: EncodeItem[] = [];
  // serializeInWorker: the batches at the worker, oldest first. Their items stay referenced here
  // until their lines come back, so flush() or a dead worker can serialize them here instead.
  let thread: SerializeThread | undefined;
  let threadFailed = false;
  let nextBatchId = 0;
  const atWorker = new Map<number, { items: EncodeItem[]; sentAt: number }>();
  let atWorkerCount = 0;
  // When the worker first sent lines back: until then it is starting (loading its modules).
  let workerAnsweredAt: number | undefined;
  let idleWaiters: (() => void)[] = [];
  const buffered = () => queue.count + inFlight + deferred.length + atWorkerCount;
  const isFull = () => buffered() >= maxQueue || queue.bytes >= maxQueueBytes;

  function recordDrop(t: number): void {
    st.dropped++;
    if (droppedSinceMarker === 0) firstDroppedAt = t;
    lastDroppedAt = t;
    droppedSinceMarker++;
  }

  function evictOneSuccess(t: number): boolean {
    if (!queue.evictOldestSuccess()) return false;
    st.kept--;
    recordDrop(t);
    return true;
  }

  function push(line: string | Uint8Array, error: boolean): void {
    if (typeof line === 'string') queue.push(line, error);
    else queue.pushBytes(line, error);
    pushed++;
    noteBuffered();
    startTimer();
    // Half full, or enough bytes for a good write: write now rather than at the next tick, so a
    // burst does not reach the bound and lines do not live long enough to reach the old generation.
    if (writing === undefined) writeSoonIfLarge();
  }

  function noteBuffered(): void {
    const size = buffered();
    if (size > st.maxBuffered) st.maxBuffered = size;
  }

  function startTimer(): void {
    if (timer === undefined) {
      timer = setTimeout(onTimer, tickMs);
      timer.unref();
    }
  }

  /** Starts a write at the next turn of the event loop when the queue is half full or large. */
  function writeSoonIfLarge(): void {
    if (buffered() * 2 >= maxQueue || queue.bytes >= writeEagerBytes) soon();
  }

  /** Runs the timer's work at the next turn of the event loop. */
  function soon(): void {
    if (!immediate) {
      immediate = true;
      setImmediate(onTimer).unref();
    }
  }

  function onTimer(): void {
    immediate = false;
    if (timer !== undefined) {
      clearTimeout(timer);
      timer = undefined;
    }
    // A chunk chain in progress writes when it is done.
    if (chunking) return;
    if (atWorkerCount > 0) {
      takeBackOverdue(now());
      if (atWorkerCount > 0) startTimer();
    }
    if (deferred.length > 0 && dispatchDeferred()) {
      writeInBackground();
      return;
    }
    if (deferred.length > DEFER_CHUNK) {
      chunking = true;
      serializeChunk();
      return;
    }
    serializeDeferred();
    writeInBackground();
  }

  /**
   * Serializes the deferred successes a chunk per turn of the event loop, then writes: a request
   * that arrives meanwhile waits for one chunk (~0.1 ms), not for the whole batch.
   */
  function serializeChunk(): void {
    serializeDeferred(DEFER_CHUNK);
    if (deferred.length > 0) {
      setImmediate(serializeChunk).unref();
      return;
    }
    chunking = false;
    writeInBackground();
  }

  function writeInBackground(): void {
    writeBatch().catch((error: unknown) => {
      if (onError !== undefined) onError(error as LoggerError);
    });
  }

  /** Writes what is queued now as one batch; single-flight (a second call chains after the first). */
  function writeBatch(): Promise<void> {
    if (writing !== undefined) return writing.then(writeBatch, writeBatch);
    if (queue.pushedCount === 0 && droppedSinceMarker === 0) return Promise.resolve();
    const t = now();
    const batch: Batch = queue.take();
    const batchCount = batch.lineCount;
    inFlight = batch.kept;
    const gap = droppedSinceMarker;
    const gapFirst = firstDroppedAt;
    const gapLast = lastDroppedAt;
    droppedSinceMarker = 0;
    let data: Buffer = batch.data;
    if (gap > 0) {
      const marker =
        `{"schemaVersion":${LOG_SCHEMA_VERSION},"kind":"gap","timestamp":"${new Date(t).toISOString()}"` +
        `,"host":${JSON.stringify(host)},"pid":${pid},"dropped":${gap}` +
        `,"firstDroppedAt":"${new Date(gapFirst).toISOString()}","lastDroppedAt":"${new Date(gapLast).toISOString()}"}\n`;
      data = Buffer.concat([Buffer.from(marker, 'utf8'), data]);
    }
    const entries = batch.kept;
    writing = sink.write(data, t).then(
      () => {
        queue.release(batch);
        st.written += entries;
        if (gap > 0) {
          st.gapMarkers++;
          dropsMarked += gap;
        }
        st.flushes++;
        inFlight = 0;
        settled += batchCount;
        writing = undefined;
        // A burst queued while the disk was busy: write it now rather than at the next tick.
        writeSoonIfLarge();
        afterWrite();
      },
      (failure: unknown) => {
        st.writeFailures++;
        inFlight = 0;
        writing = undefined;
        // A short write (a disk that filled up mid-batch) left the batch's first lines on disk:
        // those are written, not retried (an error twice on disk) nor counted as dropped.
        const partial = failure instanceof PartialWriteError ? failure : undefined;
        const cause = partial === undefined ? failure : partial.cause;
        const markerBytes = data.byteLength - batch.data.byteLength;
        const reached = Math.max(0, (partial?.bytesWritten ?? 0) - markerBytes);
        // As for lines (completeLines), a marker cut just before its newline is on disk: readers take it.
        const markerOnDisk = gap > 0 && (partial?.bytesWritten ?? 0) >= markerBytes - 1;
        const linesOnDisk = completeLines(batch.data, reached);
        // The other errors go back to the front of the queue (never lost); the other successes are dropped.
        const retried = queue.requeueErrors(batch, reached);
        const errorsOnDisk = batch.errorRanges.length / 2 - retried;
        queue.release(batch);
        st.written += linesOnDisk;
        for (let i = linesOnDisk - errorsOnDisk; i < batch.successes; i++) {
          st.kept--;
          recordDrop(t);
        }
        // Retried lines stay unsettled: a later batch settles them.
        settled += batchCount - retried;
        if (markerOnDisk) {
          st.gapMarkers++;
          dropsMarked += gap;
        } else if (gap > 0) {
          droppedSinceMarker += gap;
          firstDroppedAt = Math.min(firstDroppedAt || gapFirst, gapFirst);
        }
        afterWrite();
        throw new LoggerError('WRITE_FAILED', `could not write to ${sink.currentPath ?? o.dir}`, { cause });
      },
    );
    return writing;
  }

  function afterWrite(): void {
    if (!isFull() && drainWaiters.length > 0) {
      const waiters = drainWaiters;
      drainWaiters = [];
      for (const resolve of waiters) resolve();
    }
    if (queue.count > 0 || deferred.length > 0 || atWorkerCount > 0 || droppedSinceMarker > 0) startTimer();
  }

  /** The worker, started on first use; undefined when it is off, failed, or the logger is closed. */
  function serializeThread(): SerializeThread | undefined {
    if (!inWorker || threadFailed || closed) return undefined;
    if (thread === undefined) {
      try {
        thread = startSerializeThread(lineSettings, sanitizer.policy!, onWorkerReply, onWorkerExit);
      } catch (cause) {
        onWorkerExit(cause instanceof Error ? cause : new Error(String(cause)));
        return undefined;
      }
    }
    return thread;
  }

  /** Hands every deferred success to the worker; false when they stay here to be serialized. */
  function dispatchDeferred(): boolean {
    const worker = serializeThread();
    if (worker === undefined) return false;
    const id = nextBatchId++;
    const items = deferred;
    if (!worker.send({ id, items })) return false;
    deferred = [];
    atWorker.set(id, { items, sentAt: now() });
    atWorkerCount += items.length;
    // The timer takes back what the worker has not returned within half a flush interval.
    startTimer();
    return true;
  }

  function onWorkerReply(reply: EncodeReply): void {
    workerAnsweredAt ??= now();
    const items = atWorker.get(reply.id)?.items;
    // Already serialized here (by flush(), the timer, or after the worker failed): nothing to add.
    if (items === undefined) return;
    atWorker.delete(reply.id);
    atWorkerCount -= items.length;
    if (atWorkerCount === 0) wakeIdleWaiters();
    const data = Buffer.from(reply.data);
    const failed = new Map(reply.failures.map((f) => [f.index, f.message]));
    let start = 0;
    for (let i = 0; i < items.length; i++) {
      const end = reply.ends[i] as number;
      const message = failed.get(i);
      if (message === undefined) {
        push(data.subarray(start, end), false);
        st.serializedInWorker++;
      } else dropUnserializable(items[i] as EncodeItem, new Error(message));
      start = end;
    }
    writeInBackground();
  }

  function onWorkerExit(cause: Error | undefined): void {
    threadFailed = true;
    thread = undefined;
    onError?.(
      new LoggerError('WORKER_FAILED', 'the serialization worker stopped: serializing on this thread', {
        cause,
      }),
    );
    takeBackFromWorker();
    startTimer();
  }

  /** Serializes here, in order, the batches still at the worker (their late lines are ignored). */
  function takeBackFromWorker(): void {
    if (atWorkerCount === 0) return;
    const batches = [...atWorker.values()];
    atWorker.clear();
    atWorkerCount = 0;
    for (const { items } of batches) serializeItems(items);
    wakeIdleWaiters();
  }

  /**
   * Serializes here the batches the worker has held for `tickMs` or more (a worker that cannot
   * keep up, on a busy machine), oldest first, so no entry waits longer than one flush interval
   * for its write. A worker that has not answered once yet is starting: its batches wait for it
   * up to WORKER_START_GRACE_MS, and the time they waited for it to start does not count.
   */
  function takeBackOverdue(t: number): void {
    let took = false;
    for (const [id, batch] of atWorker) {
      const held =
        workerAnsweredAt === undefined
          ? t - batch.sentAt - WORKER_START_GRACE_MS
          : t - Math.max(batch.sentAt, workerAnsweredAt);
      if (held < tickMs) break;
      atWorker.delete(id);
      atWorkerCount -= batch.items.length;
      serializeItems(batch.items);
      took = true;
    }
    if (took && atWorkerCount === 0) wakeIdleWaiters();
  }

  /** Resolves once the worker holds nothing, or after `timeoutMs`. */
  function workerIdle(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const timeout = setTimeout(done, timeoutMs);
      function done(): void {
        clearTimeout(timeout);
        idleWaiters = idleWaiters.filter((w) => w !== done);
        resolve();
      }
      idleWaiters.push(done);
    });
  }

  function wakeIdleWaiters(): void {
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const wake of waiters) wake();
  }

  /** An entry that cannot be serialized is dropped and reported, never thrown into a timer. */
  function dropUnserializable(item: EncodeItem, cause: unknown): void {
    st.kept--;
    recordDrop(item.t);
    onError?.(
      new LoggerError('INVALID_ENTRY', `requestId ${item.entry.requestId}: could not serialize the entry`, {
        cause,
      }),
    );
  }

  function serializeItems(items: readonly EncodeItem[]): void {
    for (const item of items) {
      let line: string;
      try {
        line = encoder.line(item.entry, item.t, item.keptJson, item.memory, false);
      } catch (cause) {
        // Away from the caller's stack (a timer): dropped and reported, not thrown.
        dropUnserializable(item, cause);
        continue;
      }
      push(line, false);
    }
  }

  /** Serializes the oldest `limit` deferred successes (all by default) into the queue, in log() order. */
  function serializeDeferred(limit = deferred.length): void {
    if (deferred.length === 0) return;
    let batch = deferred;
    if (limit < deferred.length) batch = deferred.splice(0, limit);
    else deferred = [];
    serializeItems(batch);
  }

  function log(entry: PredictionInput): LogResult {
    st.logged++;
    if (closed) {
      st.rejectedAfterClose++;
      return CLOSED;
    }
    const requestId = entry.requestId;
    if (typeof requestId !== 'string') {
      throw new LoggerError('INVALID_ENTRY', `requestId: expected a string, got ${typeof requestId}`);
    }
    const failed = entry.error !== undefined;
    // `,"samplingWeight":…,"keptBy":…` and the fixed tail, per reason.
    let keptBy: string;
    if (failed) {
      keptBy = keptByError;
    } else {
      const latency = entry.latencyMs;
      // Keep rules first: an entry every request of its kind produces stands for itself (weight 1).
      if (keepLatencyAboveMs !== undefined && latency !== undefined && latency > keepLatencyAboveMs) {
        keptBy = keptByLatency;
      } else if (keepNonFiniteOutput && hasNonFinite(entry.output, 0)) {
        keptBy = keptByNonFinite;
      } else if (sampleRate >= 1 || (sampleRate > 0 && sampleUnit(requestId) < sampleRate)) {
        keptBy = keptBySample;
      } else {
        st.sampledOut++;
        return SAMPLED_OUT;
      }
    }
    const t = now();
    if (isFull()) {
      // Successes are dropped first, and before any work is spent on them.
      if (!failed) {
        recordDrop(t);
        return DROPPED;
      }
    }
    if (t - memoryAt >= memoryInterval) {
      const m = memoryUsage();
      const r = resourceUsage();
      memoryJson =
        `,"memory":{"rss":${Math.round(m.rss)},"heapUsed":${Math.round(m.heapUsed)},"heapLimit":${heapLimit}}` +
        `,"resources":{"handles":${Math.round(r.handles)}${r.fds === undefined ? '' : `,"fds":${Math.round(r.fds)}`}}`;
      memoryAt = t;
    }
    if (deferSerialization && !failed) {
      deferred.push({ entry, t, keptJson: keptBy, memory: memoryJson });
      st.kept++;
      noteBuffered();
      if (deferred.length >= MAX_DEFERRED) {
        if (!dispatchDeferred()) serializeDeferred();
      } else {
        startTimer();
        // To the worker in batches of WORKER_BATCH, so a hand-over pauses the event loop for one
        // batch's clone rather than for a whole interval's worth of entries.
        if (inWorker && deferred.length >= WORKER_BATCH && !threadFailed) soon();
        else writeSoonIfLarge();
      }
      return KEPT;
    }
    // Lines stay in log() order: successes waiting to be serialized go into the queue first
    // (with the worker on, they are serialized there, and the error goes ahead of them).
    if (!inWorker || threadFailed) serializeDeferred();
    const line = encoder.line(entry, t, keptBy, memoryJson, failed);
    st.kept++;
    if (failed) st.errors++;
    if (!isFull()) {
      push(line, failed);
      return KEPT;
    }
    // Full and an error: make room by evicting the oldest queued success; else go over the bound.
    if (!evictOneSuccess(t)) st.errorsOverBound++;
    push(line, true);
    return KEPT_FULL;
  }

  async function flush(): Promise<void> {
    // With the worker on, it serializes what is waiting; what it has not sent back within one
    // flush interval (a slow or stuck worker) is serialized here, so flush() never hangs on it.
    if (deferred.length > 0) dispatchDeferred();
    if (atWorkerCount > 0) await workerIdle(flushIntervalMs);
    takeBackFromWorker();
    serializeDeferred();
    const target = pushed;
    const dropTarget = st.dropped;
    // Each batch settles what was queued when it started; loop until our entries are settled,
    // and the successes dropped so far are on disk as a gap marker (a drop that no entry
    // follows, e.g. just before close(), would otherwise never be recorded).
    // A batch takes everything queued, so the first batch started after this call covers it.
    while (settled < target || dropsMarked < dropTarget) await writeBatch();
  }

  // Started now, so its modules are loaded before the first hand-over.
  if (inWorker) serializeThread();

  return {
    log,
    flush,
    drained(timeoutMs?: number): Promise<boolean> {
      if (timeoutMs !== undefined && !(timeoutMs >= 0 && Number.isFinite(timeoutMs))) {
        throw new LoggerError(
          'INVALID_OPTIONS',
          `drained: timeoutMs: expected a number >= 0, got ${String(timeoutMs)}`,
        );
      }
      if (!isFull()) return Promise.resolve(true);
      return new Promise((resolve) => {
        let deadline: NodeJS.Timeout | undefined;
        const waiter = () => {
          clearTimeout(deadline);
          resolve(true);
        };
        drainWaiters.push(waiter);
        if (timeoutMs !== undefined) {
          deadline = setTimeout(() => {
            drainWaiters = drainWaiters.filter((w) => w !== waiter);
            resolve(false);
          }, timeoutMs);
        }
      });
    },
    close(): Promise<void> {
      if (closing !== undefined) return closing;
      closed = true;
      closing = (async () => {
        await flush();
        if (timer !== undefined) clearTimeout(timer);
        timer = undefined;
        const worker = thread;
        thread = undefined;
        await worker?.terminate();
        await sink.rotate();
        const waiters = drainWaiters;
        drainWaiters = [];
        for (const resolve of waiters) resolve();
      })();
      return closing;
    },
    stats(): LoggerStats {
      return {
        ...st,
        queued: queue.count + deferred.length + atWorkerCount,
        inFlight,
        bytesWritten: sink.bytesWritten,
        segmentsOpened: sink.opened,
      };
    },
    get currentSegment() {
      return sink.currentPath;
    },
  };
}
