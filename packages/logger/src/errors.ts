/** What went wrong, as a stable string a caller can switch on. */
export type LoggerErrorCode =
  | 'INVALID_OPTIONS'
  | 'INVALID_ENTRY'
  | 'WRITE_FAILED'
  | 'WORKER_FAILED'
  | 'NO_SEGMENTS'
  | 'QUERY_FAILED'
  | 'DUCKDB_MISSING';

/** The one error class of `@prodprobe/logger`: a `code` to switch on, a message naming the field, a `cause`. */
export class LoggerError extends Error {
  override readonly name = 'LoggerError';
  constructor(
    readonly code: LoggerErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
