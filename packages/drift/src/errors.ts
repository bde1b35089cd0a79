/** Why a drift operation failed. */
export type DriftErrorCode =
  | 'INVALID_PROFILE'
  | 'INVALID_INPUT'
  | 'INVALID_OPTIONS'
  | 'EMPTY_SAMPLE'
  | 'SCHEMA_MISMATCH';

/**
 * The one error class `@prodprobe/drift` throws. `code` says what went wrong; the message names the
 * field path and what was expected.
 */
export class DriftError extends Error {
  override readonly name = 'DriftError';
  /** Machine-readable reason. */
  readonly code: DriftErrorCode;
  constructor(code: DriftErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
