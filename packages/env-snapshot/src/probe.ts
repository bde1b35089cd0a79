import type { ProbeRecord } from './schema.js';

/** What a probe returned, or `undefined` when it failed or timed out (see `record`). */
export interface ProbeOutcome<T> {
  value: T | undefined;
  record: ProbeRecord;
}

const TIMED_OUT: unique symbol = Symbol('timed out');

function errorMessage(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' && !error.message.includes(code)
      ? `${code}: ${error.message}`
      : error.message;
  }
  return String(error);
}

/**
 * Runs one probe with a timeout. It never throws: an exception becomes `failed`, a probe still
 * running at the deadline becomes `timeout` (its signal is aborted so it can stop its work).
 */
export async function runProbe<T>(
  fn: (signal: AbortSignal) => T | Promise<T>,
  timeoutMs: number,
  now: () => number = () => performance.now(),
): Promise<ProbeOutcome<T>> {
  const start = now();
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const elapsed = () => Math.round((now() - start) * 1000) / 1000;
  const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), Math.max(0, timeoutMs));
  });
  try {
    const result = await Promise.race([Promise.resolve().then(() => fn(controller.signal)), timeout]);
    if (result === TIMED_OUT) {
      controller.abort(new Error(`timed out after ${timeoutMs} ms`));
      return {
        value: undefined,
        record: { status: 'timeout', durationMs: elapsed(), error: `timed out after ${timeoutMs} ms` },
      };
    }
    return { value: result as T, record: { status: 'ok', durationMs: elapsed() } };
  } catch (error) {
    return {
      value: undefined,
      record: { status: 'failed', durationMs: elapsed(), error: errorMessage(error) },
    };
  } finally {
    clearTimeout(timer);
  }
}
