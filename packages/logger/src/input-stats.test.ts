import { decode, encode } from '@prodprobe/sanitize';
import { describe, expect, it } from 'vitest';
import { computeInputStats, inputStatsJson } from './input-stats.js';

describe('computeInputStats', () => {
  it('lists numeric values, string lengths and array sizes by path, and counts null/NaN/Inf everywhere', () => {
    const raw = {
      amount: 12.5,
      score: Number.NaN,
      limit: Number.POSITIVE_INFINITY,
      name: 'Alice',
      missing: null,
      user: { age: 41, email: 'a@b.co', note: undefined },
      tags: ['x', null, Number.NaN],
      embedding: new Float32Array([1, Number.NaN, Number.NEGATIVE_INFINITY]),
      'odd.key': 3,
      flag: true,
    };
    const stats = computeInputStats(raw, raw);
    expect(stats.numeric).toEqual({
      amount: 12.5,
      score: Number.NaN,
      limit: Number.POSITIVE_INFINITY,
      'user.age': 41,
      '["odd.key"]': 3,
    });
    expect(stats.stringLengths).toEqual({ name: 5, 'user.email': 6 });
    expect(stats.arraySizes).toEqual({ tags: 3, embedding: 3 });
    // null: missing, user.note (undefined), tags[1]; NaN: score, tags[2], embedding[1]; Inf: limit, embedding[2].
    expect(stats.nullCount).toBe(3);
    expect(stats.nanCount).toBe(3);
    expect(stats.infCount).toBe(2);
    // Leaves outside arrays: amount score limit name missing age email note odd.key flag.
    expect(stats.fieldCount).toBe(10);
    expect(stats.truncated).toBe(false);
  });

  it('takes numeric values from the sanitized input, so a policy that rounds or hides numbers wins', () => {
    const stats = computeInputStats({ amount: 12.5, ssn: 123456789 }, { amount: 13, ssn: '<redacted>' });
    expect(stats.numeric).toEqual({ amount: 13 });
  });

  it('describes a scalar input at path $ and keeps __proto__ as data', () => {
    expect(computeInputStats(Number.NaN, Number.NaN).numeric).toEqual({ $: Number.NaN });
    const raw = JSON.parse('{"__proto__": 5}');
    const stats = computeInputStats(raw, raw);
    expect(Object.keys(stats.numeric)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(stats.numeric)).toBe(Object.prototype);
  });

  it('stops listing paths past maxFields and says so', () => {
    const raw = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`f${i}`, i]));
    const stats = computeInputStats(raw, raw, 10);
    expect(Object.keys(stats.numeric)).toHaveLength(10);
    expect(stats.fieldCount).toBe(50);
    expect(stats.truncated).toBe(true);
  });

  it('serialises like the lossless codec: decode(inputStatsJson(s)) equals s', () => {
    const raw = JSON.parse('{"__proto__": 1, "a\\"b": -0, "x": 2.5, "s": "abc", "arr": [1]}');
    raw.nan = Number.NaN;
    raw.inf = Number.NEGATIVE_INFINITY;
    const stats = computeInputStats(raw, raw);
    const text = inputStatsJson(stats);
    expect(decode(text)).toEqual(stats);
    expect(decode(text)).toEqual(decode(encode(stats)));
    expect(Object.is((decode(text) as typeof stats).numeric['["a\\"b"]'], -0)).toBe(true);
  });
});
