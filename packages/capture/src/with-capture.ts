import { randomBytes, randomUUID } from 'node:crypto';
import { createSanitizer, inputHash, redactErrorText } from '@prodprobe/sanitize';
import { defaultIsFailure, failureReason, type IsFailure } from './bad-output.js';
import { CaptureError } from './errors.js';
import { CAPTURE_SCHEMA_VERSION, type CapturedError, type CaptureRecord, type Failure } from './record.js';
import { sealInput, sealKeyId, toSealKey } from './seal.js';
import type { CaptureStore } from './store.js';

// biome-ignore lint/suspicious/noExplicitAny: a predict function may take and return anything
type AnyFunction = (...args: any[]) => any;

/** Options of `withCapture`. */
export interface WithCaptureOptions<F extends AnyFunction = AnyFunction> {
  /** Where records go (e.g. `createFileCaptureStore(dir)`). */
  store: CaptureStore;
  /** The model version this predict function serves; replay loads the same version. */
  modelVersion: string;
  /**
   * Whether an output is a failure (`true` or a reason string) or fine (`false`/`undefined`).
   * @default defaultIsFailure (null/undefined output or any non-finite number in it)
   */
  isFailure?: IsFailure<Awaited<ReturnType<F>>>;
  /**
   * Removes PII from the input (and a bad output) before it is stored.
   * @default createSanitizer() of @prodprobe/sanitize (default policy)
   */
  sanitizer?: { sanitize(value: unknown): unknown };
  /**
   * Which part of the call's arguments is "the input" that is stored and replayed.
   * @default (args) => args[0]
   */
  selectInput?: (args: Parameters<F>) => unknown;
  /**
   * The request id stored with the record (e.g. read from the input or a header).
   * @default crypto.randomUUID()
   */
  requestId?: (input: unknown, args: Parameters<F>) => string | undefined;
  /**
   * Environment fingerprint merged into `record.environment` (over `node`, `platform`, `arch`),
   * called once per captured failure.
   */
  environment?: () => Record<string, unknown>;
  /** A 32-byte AES-256 key: when given, the raw input is also stored, sealed with AES-256-GCM. Never stored without it. */
  encryptionKey?: Uint8Array;
  /** Called when a record could not be built or stored (the prediction itself is unaffected). */
  onError?: (error: unknown, record: CaptureRecord | undefined) => void;
  /** Records waiting to be written beyond this are dropped and counted. @default 1000 */
  maxPending?: number;
  /**
   * Called once per call when it has settled and been judged, with its outcome and duration:
   * the hook for a prediction logger, so capture and logging share one reaction per call
   * instead of each wrapping the promise. What it throws goes to `onError`, never to the caller.
   */
  onSettled?: (call: SettledCall<F>) => void;
}

/** One settled call, as `onSettled` sees it. */
export interface SettledCall<F extends AnyFunction = AnyFunction> {
  /** The call's arguments (the array `selectInput` and `requestId` also see). */
  args: Parameters<F>;
  /** What predict returned (resolved), or `undefined` when it threw. */
  output: Awaited<ReturnType<F>> | undefined;
  /** Whether predict threw (or its promise rejected); then `error` is what it threw. */
  threw: boolean;
  error: unknown;
  /** Why the output counts as a failure (`isFailure`'s reason), or `undefined` when it is fine or predict threw. */
  failure: string | undefined;
  /** From the call to the settlement, in milliseconds (`performance.now()`). */
  latencyMs: number;
}

/** Counters of one wrapped predict function. */
export interface CaptureStats {
  /** Failing calls seen (throws and bad outputs). */
  failures: number;
  /** Records the store accepted. */
  written: number;
  /** Records lost because building or storing them failed (each also passed to `onError`). */
  failed: number;
  /** Records dropped because `maxPending` writes were already waiting. */
  dropped: number;
  /** Records built and not yet written. */
  pending: number;
}

/** The wrapped function: same signature as `predict`, plus capture counters and `flush`. */
export type CapturedPredict<F extends AnyFunction> = F & {
  /** Counters since wrapping. */
  stats(): CaptureStats;
  /** Resolves once every record captured so far has been written or has failed. Never rejects. */
  flush(): Promise<void>;
};

let idCounter = 0;

/** A new record id: time first (base 36) so ids sort by capture time, then a counter and randomness. */
export function newCaptureId(now: number = Date.now()): string {
  idCounter = (idCounter + 1) % 1_679_616;
  return `${now.toString(36).padStart(9, '0')}-${idCounter.toString(36).padStart(4, '0')}-${randomBytes(4).toString('hex')}`;
}

/**
 * `{ name, message, stack }` of what predict threw, with PII and secrets in the message and stack
 * replaced (`redactErrorText`): messages quote inputs (`no user jane@example.com`) and credentials
 * (`connect postgres://app:pw@db failed`), and the input beside them is sanitized too.
 */
function captureError(error: unknown): CapturedError {
  if (error instanceof Error) {
    const out: CapturedError = { name: error.name, message: redactErrorText(String(error.message)) };
    if (typeof error.stack === 'string') out.stack = redactErrorText(error.stack);
    return out;
  }
  return { name: 'NonError', message: redactErrorText(`thrown value: ${safeString(error)}`) };
}

function safeString(value: unknown): string {
  try {
    return typeof value === 'string' ? value : String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

/** The arguments of a call kept by position (see `track` in withCapture) as an array. */
function argsOf(n: number, a0: unknown, a1: unknown, rest: unknown[] | undefined): unknown[] {
  if (rest !== undefined) return rest;
  return n === 0 ? [] : n === 1 ? [a0] : [a0, a1];
}

/**
 * Wraps a sync or async predict function so every failing call (a throw or a bad output) is
 * captured as a `CaptureRecord`: sanitized input, hash of the raw input, the error or bad-output
 * reason, model version, environment fingerprint, and the raw input sealed with AES-256-GCM when
 * an encryption key is given. The caller sees exactly what `predict` returns or throws: a sync
 * predict stays sync, and the store is written asynchronously off the call path; a failing store
 * is counted in `stats()` and reported to `onError`, never thrown.
 * @throws CaptureError `INVALID_OPTIONS` or `INVALID_KEY` at wrap time for bad options.
 */
export function withCapture<F extends AnyFunction>(
  predict: F,
  options: WithCaptureOptions<F>,
): CapturedPredict<F> {
  if (typeof predict !== 'function') {
    throw new CaptureError(
      'INVALID_OPTIONS',
      `withCapture: predict: expected a function, got ${typeof predict}`,
    );
  }
  const { store, modelVersion } = options;
  if (store === null || typeof store !== 'object' || typeof store.write !== 'function') {
    throw new CaptureError(
      'INVALID_OPTIONS',
      'withCapture: options.store: expected a CaptureStore with a write(record) method',
    );
  }
  if (typeof modelVersion !== 'string' || modelVersion.length === 0) {
    throw new CaptureError(
      'INVALID_OPTIONS',
      'withCapture: options.modelVersion: expected a non-empty string',
    );
  }
  for (const hook of [
    'isFailure',
    'selectInput',
    'requestId',
    'environment',
    'onError',
    'onSettled',
  ] as const) {
    if (options[hook] !== undefined && typeof options[hook] !== 'function') {
      throw new CaptureError('INVALID_OPTIONS', `withCapture: options.${hook}: expected a function`);
    }
  }
  const maxPending = options.maxPending ?? 1000;
  if (!Number.isInteger(maxPending) || maxPending < 1) {
    throw new CaptureError(
      'INVALID_OPTIONS',
      `withCapture: options.maxPending: expected a positive integer, got ${maxPending}`,
    );
  }
  const key = options.encryptionKey === undefined ? undefined : toSealKey(options.encryptionKey);
  const keyId = key === undefined ? undefined : sealKeyId(key);
  const sanitizer = options.sanitizer ?? createSanitizer();
  const isFailure: IsFailure = (options.isFailure as IsFailure | undefined) ?? defaultIsFailure;
  const { selectInput, requestId, environment, onError, onSettled } = options;
  const runtime = { node: process.version, platform: process.platform, arch: process.arch };

  const counters = { failures: 0, written: 0, failed: 0, dropped: 0 };
  let queue: CaptureRecord[] = [];
  let scheduled = false;
  const inflight = new Set<Promise<void>>();
  const idle: (() => void)[] = [];

  const report = (error: unknown, record: CaptureRecord | undefined) => {
    if (onError === undefined) return;
    try {
      onError(error, record);
    } catch {
      // A throwing onError must not reach the caller of predict either.
    }
  };

  /** Tells `onSettled` (when set) how a call ended; what it throws goes to `onError`. */
  const settled = (
    args: Parameters<F>,
    output: unknown,
    threw: boolean,
    error: unknown,
    failure: string | undefined,
    started: number,
  ) => {
    if (onSettled === undefined) return;
    try {
      onSettled({
        args,
        output: output as Awaited<ReturnType<F>> | undefined,
        threw,
        error,
        failure,
        latencyMs: performance.now() - started,
      });
    } catch (hookError) {
      report(hookError, undefined);
    }
  };

  const settleIdle = () => {
    if (queue.length === 0 && inflight.size === 0 && !scheduled) {
      for (const resolve of idle.splice(0)) resolve();
    }
  };

  const drain = () => {
    scheduled = false;
    const batch = queue;
    queue = [];
    for (const record of batch) {
      let write: Promise<void>;
      try {
        write = Promise.resolve(store.write(record));
      } catch (error) {
        write = Promise.reject(error);
      }
      const tracked: Promise<void> = write.then(
        () => {
          counters.written++;
        },
        (error: unknown) => {
          counters.failed++;
          report(error, record);
        },
      );
      inflight.add(tracked);
      void tracked.finally(() => {
        inflight.delete(tracked);
        settleIdle();
      });
    }
    settleIdle();
  };

  const enqueue = (record: CaptureRecord) => {
    if (queue.length + inflight.size >= maxPending) {
      counters.dropped++;
      report(
        new CaptureError('STORE_IO', `capture queue full (${maxPending} records pending): record dropped`),
        record,
      );
      return;
    }
    queue.push(record);
    if (!scheduled) {
      scheduled = true;
      // Writes start on a later turn of the event loop, never inside the failing call.
      setImmediate(drain);
    }
  };

  const requestIdOf = (input: unknown, args: Parameters<F>): string => {
    try {
      const id = requestId?.(input, args);
      if (typeof id === 'string' && id.length > 0) return id;
    } catch {
      // A broken request-id hook still leaves a record that can be found by its own id.
    }
    return randomUUID();
  };

  const capture = (args: Parameters<F>, failure: (sanitize: (v: unknown) => unknown) => Failure) => {
    counters.failures++;
    let record: CaptureRecord | undefined;
    try {
      const input = selectInput ? selectInput(args) : args[0];
      const now = Date.now();
      const sanitize = (v: unknown) => sanitizer.sanitize(v);
      let env: Record<string, unknown> = runtime;
      if (environment) {
        try {
          env = { ...runtime, ...environment() };
        } catch (error) {
          env = {
            ...runtime,
            environmentHookError: safeString(error instanceof Error ? error.message : error),
          };
        }
      }
      record = {
        schemaVersion: CAPTURE_SCHEMA_VERSION,
        id: newCaptureId(now),
        requestId: requestIdOf(input, args),
        timestamp: new Date(now).toISOString(),
        modelVersion,
        input: sanitize(input),
        inputHash: inputHash(input),
        failure: failure(sanitize),
        environment: env,
      };
      if (key !== undefined) record.sealedInput = sealInput(input, key, keyId);
    } catch (error) {
      counters.failed++;
      report(error, undefined);
      return;
    }
    enqueue(record);
  };

  const onThrow = (args: Parameters<F>, error: unknown) => {
    try {
      capture(args, () => ({ kind: 'error', error: captureError(error) }));
    } catch {
      // capture() already contains its own failures; this guards the rethrow of the caller's error.
    }
  };

  /** The failure reason of an output, or `undefined`; a throwing check is counted, never thrown. */
  const judge = (output: unknown): string | undefined => {
    try {
      return failureReason(isFailure(output));
    } catch (error) {
      counters.failed++;
      report(error, undefined);
      return undefined;
    }
  };

  const captureBadOutput = (args: Parameters<F>, output: unknown, reason: string) => {
    capture(args, (sanitize) => ({
      kind: 'bad-output',
      reason: redactErrorText(reason),
      output: sanitize(output),
    }));
  };

  /**
   * Checks a promise's outcome as a reaction registered before the caller's, so the checks run
   * before the caller resumes and the caller gets the promise itself (no extra hop to await). The
   * reaction's own promise never rejects, so it is never an unhandled rejection; a rejection reaches
   * the caller as it was. The first two arguments are kept by position and made an array only when
   * a failure is captured or onSettled is called (copying `arguments` would cost more than the rest
   * of the wrapper).
   */
  const track = (
    promise: Promise<unknown>,
    n: number,
    a0: unknown,
    a1: unknown,
    rest: Parameters<F> | undefined,
    started: number,
  ) => {
    promise.then(
      (value: unknown) => {
        const reason = judge(value);
        if (reason === undefined && onSettled === undefined) return;
        const args = argsOf(n, a0, a1, rest) as Parameters<F>;
        if (reason !== undefined) captureBadOutput(args, value, reason);
        settled(args, value, false, undefined, reason, started);
      },
      (error: unknown) => {
        const args = argsOf(n, a0, a1, rest) as Parameters<F>;
        onThrow(args, error);
        settled(args, undefined, true, error, undefined, started);
      },
    );
  };

  // `arguments` handed straight to `apply` is not materialised by V8, so the success path
  // allocates nothing; the arguments are copied only when a failure has to be captured (or
  // when onSettled, which sees them, is set).
  const wrapped = function (this: unknown): ReturnType<F> {
    const started = onSettled === undefined ? 0 : performance.now();
    let output: ReturnType<F>;
    try {
      // biome-ignore lint/complexity/noArguments: avoids a rest-array allocation on every call
      output = predict.apply(this, arguments as unknown as Parameters<F>);
    } catch (error) {
      // biome-ignore lint/complexity/noArguments: copied only on the failure path
      const args = Array.prototype.slice.call(arguments) as Parameters<F>;
      onThrow(args, error);
      settled(args, undefined, true, error, undefined, started);
      throw error;
    }
    if (output !== null && typeof output === 'object' && typeof output.then === 'function') {
      // A native promise is handed back as it is; another thenable is adopted by a native promise
      // (its then is called once), and the caller gets that.
      const promise: Promise<unknown> =
        (output as unknown) instanceof Promise ? output : Promise.resolve(output as unknown);
      // biome-ignore lint/complexity/noArguments: read by position, never copied on the success path
      const n = arguments.length;
      track(
        promise,
        n,
        // biome-ignore lint/complexity/noArguments: see above
        arguments[0],
        // biome-ignore lint/complexity/noArguments: see above
        n > 1 ? arguments[1] : undefined,
        // biome-ignore lint/complexity/noArguments: more than two arguments are copied
        n > 2 ? (Array.prototype.slice.call(arguments) as Parameters<F>) : undefined,
        started,
      );
      return promise as ReturnType<F>;
    }
    const reason = judge(output);
    if (reason !== undefined || onSettled !== undefined) {
      // biome-ignore lint/complexity/noArguments: copied only on the failure path or for onSettled
      const args = Array.prototype.slice.call(arguments) as Parameters<F>;
      if (reason !== undefined) captureBadOutput(args, output, reason);
      settled(args, output, false, undefined, reason, started);
    }
    return output;
  };

  Object.defineProperty(wrapped, 'name', { value: predict.name, configurable: true });
  Object.defineProperty(wrapped, 'length', { value: predict.length, configurable: true });
  return Object.assign(wrapped as unknown as F, {
    stats: (): CaptureStats => ({ ...counters, pending: queue.length + inflight.size }),
    flush: (): Promise<void> =>
      new Promise<void>((resolve) => {
        idle.push(resolve);
        settleIdle();
      }),
  });
}
