/**
 * Deterministic sampling on the request id, so every service that logs the same request keeps or
 * drops it alike. The spec, to reproduce in any language:
 *
 * 1. h = FNV-1a 32-bit over the UTF-8 bytes of the request id
 *    (offset basis 0x811C9DC5, prime 0x01000193, arithmetic mod 2^32);
 * 2. finalise with the murmur3 `fmix32` avalanche (FNV alone leaves the high bits poorly mixed for
 *    ids that differ only in their last characters):
 *    h ^= h >>> 16; h *= 0x85EBCA6B; h ^= h >>> 13; h *= 0xC2B2AE35; h ^= h >>> 16 (mod 2^32);
 * 3. u = h / 2^32, uniform in [0, 1);
 * 4. keep the request when u < sampleRate.
 */

/**
 * The sampling position of a request id: FNV-1a 32 over its UTF-8 bytes, finalised with fmix32,
 * divided by 2^32. Uniform in [0, 1); keep the request when the result is below the sample rate.
 */
export function sampleUnit(requestId: string): number {
  let h = 0x811c9dc5;
  const n = requestId.length;
  for (let i = 0; i < n; i++) {
    let c = requestId.charCodeAt(i);
    if (c < 0x80) {
      h = Math.imul(h ^ c, 0x01000193);
      continue;
    }
    // Hash the UTF-8 bytes without materialising them, so ids hash the same in every language.
    if (c < 0x800) {
      h = Math.imul(h ^ (0xc0 | (c >> 6)), 0x01000193);
    } else {
      if (c >= 0xd800 && c < 0xdc00 && i + 1 < n) {
        const d = requestId.charCodeAt(i + 1);
        if (d >= 0xdc00 && d < 0xe000) {
          i++;
          c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          h = Math.imul(h ^ (0xf0 | (c >> 18)), 0x01000193);
          h = Math.imul(h ^ (0x80 | ((c >> 12) & 0x3f)), 0x01000193);
          h = Math.imul(h ^ (0x80 | ((c >> 6) & 0x3f)), 0x01000193);
          h = Math.imul(h ^ (0x80 | (c & 0x3f)), 0x01000193);
          continue;
        }
      }
      // A lone surrogate is encoded as U+FFFD, as TextEncoder does.
      if (c >= 0xd800 && c < 0xe000) c = 0xfffd;
      h = Math.imul(h ^ (0xe0 | (c >> 12)), 0x01000193);
      h = Math.imul(h ^ (0x80 | ((c >> 6) & 0x3f)), 0x01000193);
    }
    h = Math.imul(h ^ (0x80 | (c & 0x3f)), 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 4294967296;
}

/** Whether a success with this request id is kept at `sampleRate` (see `sampleUnit` for the spec). */
export function isSampled(requestId: string, sampleRate: number): boolean {
  return sampleUnit(requestId) < sampleRate;
}
