import { hash } from 'node:crypto';
import { type CodecOptions, canonicalEncode } from './codec.js';

/**
 * Hex SHA-256 of a canonical lossless encoding of `value` (object keys sorted, Map and Set
 * entries ordered): equal values hash equal whatever their key order, and values JSON would
 * confuse (NaN and null, undefined and a missing key, 1n and 1, -0 and 0) hash differently.
 */
export function inputHash(value: unknown, options?: CodecOptions): string {
  // One-shot crypto.hash (Node >= 20.12): no Hash object per call.
  return hash('sha256', canonicalEncode(value, options), 'hex');
}
