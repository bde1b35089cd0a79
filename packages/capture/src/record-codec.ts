import { decode, encode } from '@prodprobe/sanitize';
import { CaptureError } from './errors.js';
import { type CaptureRecord, parseCaptureRecord } from './record.js';

/** A record as one line of lossless JSON (NaN, undefined, BigInt, Date survive), validated first. */
export function encodeCaptureRecord(record: CaptureRecord): string {
  return encode(parseCaptureRecord(record));
}

/**
 * Reads a record written by `encodeCaptureRecord` (or a file store).
 * @throws CaptureError `INVALID_RECORD` for text that is not JSON or not a valid record.
 */
export function decodeCaptureRecord(text: string): CaptureRecord {
  let value: unknown;
  try {
    value = decode(text);
  } catch (cause) {
    throw new CaptureError(
      'INVALID_RECORD',
      `invalid capture record: not JSON (${(cause as Error).message})`,
      {
        cause,
      },
    );
  }
  return parseCaptureRecord(value);
}
