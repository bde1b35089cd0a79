/** What went wrong, as a stable string a caller can branch on. */
export type LayersErrorCode =
  | 'NOT_ONNX'
  | 'EXTERNAL_DATA'
  | 'BAD_FEED'
  | 'UNSUPPORTED_OP'
  | 'RUNTIME_ERROR'
  | 'BAD_REPORT'
  | 'BAD_OPTIONS'
  | 'BAD_PIPELINE'
  | 'INCOMPATIBLE_REPORTS';

/**
 * The one error class of `@prodprobe/layers`: bad models, bad feeds, runtime failures and malformed
 * reports all throw it, with a `code` to branch on and the underlying error as `cause`.
 */
export class LayersError extends Error {
  override readonly name = 'LayersError';
  constructor(
    readonly code: LayersErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
