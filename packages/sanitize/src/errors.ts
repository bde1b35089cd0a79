/** What went wrong, as a stable string a caller can branch on. */
export type SanitizeErrorCode =
  /** The policy failed validation (unknown rule, bad path, missing hash key, bad option). */
  | 'INVALID_POLICY'
  /** Limits or other codec options are invalid. */
  | 'INVALID_OPTIONS'
  /** `decode` was given text that is not JSON. */
  | 'DECODE_FAILED'
  /** A value could not be encoded (e.g. a getter threw while it was read). */
  | 'ENCODE_FAILED';

/**
 * The one error class `@prodprobe/sanitize` throws. `code` says what failed; `message` names the
 * field path and what was expected; `cause` carries the underlying error when there is one.
 */
export class SanitizeError extends Error {
  override readonly name = 'SanitizeError';
  /** Stable machine-readable reason. */
  readonly code: SanitizeErrorCode;

  constructor(code: SanitizeErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
