import { redactPii } from './detectors.js';

// A key made of letters, digits and `_ $ . : / -`, at most 64 of them: how field names look.
const NAME_LIKE = /^[\p{L}\p{N}_$.:/-]{1,64}$/u;
// Six digits in a row: a card, phone, account or national id number used as a key.
const DIGIT_RUN = /\d{6}/;
const SEPARATORS = /[_.:/-]/;
const plainKeys = new Map<string, boolean>();

/**
 * Whether an object key reads as a field name, so the default policy keeps it. Keys that are data
 * (an email, a phone number, a card number, an IP address, a person's name with a space, a token)
 * are not plain: they could carry PII, and the default policy writes them as `keyPlaceholder(i)`.
 * Not plain: anything but letters, digits and `_ $ . : / -`; longer than 64; six digits in a row;
 * a segment of 16 or more characters with a digit in it (API keys, JWTs); anything a PII detector
 * finds. One word that is a name (`mariagonzalez`) cannot be told from a field name and is kept.
 */
export function isPlainKey(key: string): boolean {
  let plain = plainKeys.get(key);
  if (plain === undefined) {
    plain =
      NAME_LIKE.test(key) &&
      !DIGIT_RUN.test(key) &&
      !key.split(SEPARATORS).some((part) => part.length >= 16 && /\d/.test(part)) &&
      redactPii(key) === key;
    // Bounded: a stream of distinct keys (ids as keys) does not grow it past 4,096 entries.
    if (plainKeys.size >= 4096) plainKeys.clear();
    plainKeys.set(key, plain);
  }
  return plain;
}

/** What the default policy writes for the `index`-th key of an object (from 0) when it is not plain. */
export function keyPlaceholder(index: number): string {
  return `<key #${index}>`;
}
