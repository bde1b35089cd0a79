/** What went wrong, as a stable string a caller can switch on. */
export type CaptureErrorCode =
  | 'INVALID_OPTIONS'
  | 'INVALID_RECORD'
  | 'INVALID_KEY'
  | 'UNSEAL_FAILED'
  | 'INPUT_HASH_MISMATCH'
  | 'DIR_NOT_FOUND'
  | 'NOT_FOUND'
  | 'CORRUPT_RECORD'
  | 'STORE_IO'
  | 'LOAD_MODEL_FAILED';

/** The one error class `@prodprobe/capture` throws; `code` says which failure it is. */
export class CaptureError extends Error {
  override readonly name = 'CaptureError';
  /** Which failure this is. */
  readonly code: CaptureErrorCode;

  constructor(code: CaptureErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
