import { decode, encode } from '@prodprobe/sanitize';
import { CaptureError } from './errors.js';
import { type CaptureRecord, failureName, parseCaptureRecord } from './record.js';

/** Which records to return from `list`. Every given condition must hold. */
export interface CaptureFilter {
  /** Only records at or after this time (Date or ISO string). */
  since?: Date | string;
  /** Only records before this time (Date or ISO string). */
  until?: Date | string;
  /** Only failures with this error name; bad outputs are named `"BadOutput"`. */
  errorName?: string;
  /** Only records of this model version. */
  modelVersion?: string;
}

/** Where `withCapture` puts records. `write` is called off the hot path and may be slow or fail. */
export interface CaptureStore {
  /** Persists one record. A rejection is counted by `withCapture`, never seen by the caller of predict. */
  write(record: CaptureRecord): Promise<void>;
  /** Records matching `filter`, oldest first. */
  list(filter?: CaptureFilter): Promise<CaptureRecord[]>;
  /** The record with this id, or `undefined` when there is none. */
  get(id: string): Promise<CaptureRecord | undefined>;
}

function toTime(value: Date | string, field: string): number {
  const t = value instanceof Date ? value.getTime() : Date.parse(value);
  if (Number.isNaN(t)) {
    throw new CaptureError(
      'INVALID_OPTIONS',
      `filter.${field}: expected a Date or an ISO 8601 time, got ${String(value)}`,
    );
  }
  return t;
}

/**
 * Turns a filter into a predicate, validating its times once.
 * @throws CaptureError `INVALID_OPTIONS` for an unparseable time.
 */
export function compileFilter(filter: CaptureFilter = {}): (record: CaptureRecord) => boolean {
  const since = filter.since === undefined ? undefined : toTime(filter.since, 'since');
  const until = filter.until === undefined ? undefined : toTime(filter.until, 'until');
  const { errorName, modelVersion } = filter;
  return (record) => {
    if (modelVersion !== undefined && record.modelVersion !== modelVersion) return false;
    if (errorName !== undefined && failureName(record) !== errorName) return false;
    if (since !== undefined || until !== undefined) {
      const t = Date.parse(record.timestamp);
      if (since !== undefined && t < since) return false;
      if (until !== undefined && t >= until) return false;
    }
    return true;
  };
}

/** Oldest first by timestamp, then by id, so listings are stable. */
export function byTime(a: CaptureRecord, b: CaptureRecord): number {
  const d = Date.parse(a.timestamp) - Date.parse(b.timestamp);
  return d !== 0 ? d : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/**
 * An in-memory store (records kept in their encoded form, so a read returns a fresh copy exactly as
 * a file store would). For tests and short-lived processes.
 */
export function createMemoryCaptureStore(): CaptureStore & { readonly size: number } {
  const texts = new Map<string, string>();
  return {
    get size() {
      return texts.size;
    },
    async write(record) {
      const valid = parseCaptureRecord(record);
      texts.set(valid.id, encode(valid));
    },
    async list(filter) {
      const match = compileFilter(filter);
      const out: CaptureRecord[] = [];
      for (const text of texts.values()) {
        const record = parseCaptureRecord(decode(text));
        if (match(record)) out.push(record);
      }
      return out.sort(byTime);
    },
    async get(id) {
      const text = texts.get(id);
      return text === undefined ? undefined : parseCaptureRecord(decode(text));
    },
  };
}
