import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { inputHash } from './index.js';

describe('inputHash', () => {
  it('is the hex sha256 of the canonical lossless encoding', () => {
    expect(inputHash({ b: 1, a: Number.NaN })).toBe(
      createHash('sha256').update('{"a":{"$pp":"NaN"},"b":1}').digest('hex'),
    );
    expect(inputHash({ b: [2], a: 'x' })).toBe(
      createHash('sha256').update('{"a":"x","b":[2]}').digest('hex'),
    );
    // keys sort in code-unit order, integer-like keys included
    expect(inputHash({ 10: 1, 9: 2, '': 3 })).toBe(
      createHash('sha256').update('{"":3,"10":1,"9":2}').digest('hex'),
    );
    expect(inputHash({ 10: 1, 9: Number.NaN })).toBe(
      createHash('sha256').update('{"10":1,"9":{"$pp":"NaN"}}').digest('hex'),
    );
  });

  it('ignores key order, at every depth, and Map/Set insertion order', () => {
    expect(inputHash({ a: 1, b: { c: 2, d: [1, { e: 1, f: 2 }] } })).toBe(
      inputHash({ b: { d: [1, { f: 2, e: 1 }], c: 2 }, a: 1 }),
    );
    expect(
      inputHash(
        new Map([
          ['x', 1],
          ['y', 2],
        ]),
      ),
    ).toBe(
      inputHash(
        new Map([
          ['y', 2],
          ['x', 1],
        ]),
      ),
    );
    expect(inputHash(new Set([1, 2]))).toBe(inputHash(new Set([2, 1])));
  });

  it('tells apart values JSON would confuse', () => {
    const distinct = [
      null,
      Number.NaN,
      undefined,
      0,
      -0,
      Number.POSITIVE_INFINITY,
      1,
      1n,
      '1',
      true,
      [1],
      [undefined],
      [],
      {},
      { a: undefined },
      { a: null },
      { $pp: 'NaN' },
      new Date(0),
      '1970-01-01T00:00:00.000Z',
      new Float32Array([1]),
      new Float64Array([1]),
    ];
    const hashes = new Set(distinct.map((v) => inputHash(v)));
    expect(hashes.size).toBe(distinct.length);
    expect([...hashes].every((h) => /^[0-9a-f]{64}$/.test(h))).toBe(true);
  });

  it('arrays keep their order', () => {
    expect(inputHash([1, 2])).not.toBe(inputHash([2, 1]));
  });

  it('property: a deep copy with shuffled keys hashes the same', () => {
    const shuffle = (value: unknown, seed: number): unknown => {
      if (Array.isArray(value)) return value.map((v) => shuffle(v, seed));
      if (typeof value === 'object' && value !== null) {
        const keys = Object.keys(value);
        const order = seed % 2 === 0 ? keys.reverse() : keys;
        const out: Record<string, unknown> = {};
        for (const k of order) {
          Object.defineProperty(out, k, {
            value: shuffle((value as Record<string, unknown>)[k], seed + 1),
            enumerable: true,
            writable: true,
            configurable: true,
          });
        }
        return out;
      }
      return value;
    };
    fc.assert(
      fc.property(fc.jsonValue(), fc.nat(), (value, seed) => {
        expect(inputHash(shuffle(value, seed))).toBe(inputHash(value));
      }),
      { numRuns: 300, seed: 5 },
    );
  });

  it('never throws on cycles', () => {
    const a: Record<string, unknown> = { x: 1 };
    a.self = a;
    expect(inputHash(a)).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('canonical encoding', () => {
  it('the plain-JSON fast path writes exactly what the tagged canonical path writes', async () => {
    const { canonicalEncode, canonicalStringify, toCanonicalStorable } = await import('./codec.js');
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(canonicalEncode(value)).toBe(canonicalStringify(toCanonicalStorable(value)));
      }),
      { numRuns: 500, seed: 6 },
    );
    const withProto = JSON.parse('{"__proto__":{"a":1},"x":{"y":2}}');
    expect(canonicalEncode(withProto)).toBe('{"__proto__":{"a":1},"x":{"y":2}}');
    expect(canonicalEncode({ b: { d: 1, c: 2 }, a: [{ z: 1, y: 2 }] })).toBe(
      '{"a":[{"y":2,"z":1}],"b":{"c":2,"d":1}}',
    );
    expect(canonicalEncode({ toString: 1, x: {} })).toBe('{"toString":1,"x":{}}');
  });
});

describe('direct canonical writer', () => {
  // Random values of every kind the codec knows (NaN, -0, undefined, BigInt, holes, Dates,
  // typed arrays, Maps, Sets, null prototypes, `$pp` and `__proto__` keys, odd strings).
  const anything = fc.anything({
    withBigInt: true,
    withBoxedValues: false,
    withDate: true,
    withMap: true,
    withSet: true,
    withNullPrototype: true,
    withObjectString: true,
    withSparseArray: true,
    withTypedArray: true,
    withUnicodeString: true,
    key: fc.oneof(
      fc.string(),
      fc.constantFrom('$pp', '__proto__', '0', '10', '9', 'a.b', 'toString', '', '\u2028', '\ud800'),
    ),
    maxDepth: 4,
  });

  it('property: inputHash equals sha256 of the tagged canonical definition, on any value', async () => {
    const { canonicalStringify, toCanonicalStorable } = await import('./codec.js');
    fc.assert(
      fc.property(anything, (value) => {
        const reference = canonicalStringify(toCanonicalStorable(value));
        expect(inputHash(value)).toBe(createHash('sha256').update(reference, 'utf8').digest('hex'));
      }),
      { numRuns: 2000, seed: 7 },
    );
  });

  it('property: where the direct writer answers, it writes exactly the tagged canonical text', async () => {
    const { canonicalStringify, toCanonicalStorable, DEFAULT_CODEC_LIMITS } = await import('./codec.js');
    const { writeCanonical } = await import('./canonical-writer.js');
    let answered = 0;
    fc.assert(
      fc.property(anything, (value) => {
        const direct = writeCanonical(value, DEFAULT_CODEC_LIMITS);
        if (direct !== undefined) {
          answered++;
          expect(direct).toBe(canonicalStringify(toCanonicalStorable(value)));
        }
      }),
      { numRuns: 2000, seed: 8 },
    );
    // The direct path is the one plain requests take: it must actually answer most values.
    expect(answered).toBeGreaterThan(600);
  });

  it('writes the special numbers, undefined, BigInt and holes as the tagged path does, and leaves the rest to it', async () => {
    const { writeCanonical } = await import('./canonical-writer.js');
    const { DEFAULT_CODEC_LIMITS, canonicalEncode } = await import('./codec.js');
    // biome-ignore lint/suspicious/noSparseArray: a hole is the point
    const value = { z: [1, , undefined], b: 1n, n: Number.NaN, i: -Infinity, m: -0, u: undefined };
    expect(writeCanonical(value, DEFAULT_CODEC_LIMITS)).toBe(
      '{"b":{"$pp":"bigint","v":"1"},"i":{"$pp":"-Infinity"},"m":{"$pp":"-0"},"n":{"$pp":"NaN"},"u":{"$pp":"undefined"},"z":[1,{"$pp":"hole"},{"$pp":"undefined"}]}',
    );
    for (const other of [new Date(0), new Map(), { $pp: 1 }, [new Uint8Array(1)], () => 1]) {
      expect(writeCanonical(other, DEFAULT_CODEC_LIMITS)).toBeUndefined();
    }
    // limits send the value to the tagged path, which writes the truncation marker
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    expect(writeCanonical(cyclic, DEFAULT_CODEC_LIMITS)).toBeUndefined();
    expect(canonicalEncode(cyclic)).toBe('{"a":1,"self":{"$pp":"cycle"}}');
    expect(canonicalEncode('abcdef', { limits: { maxStringLength: 3 } })).toBe(
      '{"$pp":"truncated","length":6,"reason":"string","v":"abc"}',
    );
  });

  it('objects of one shape reuse a sorted order, and a new shape is never served an old order', async () => {
    const { canonicalEncode } = await import('./codec.js');
    expect(canonicalEncode({ b: 1, a: 2 })).toBe('{"a":2,"b":1}');
    expect(canonicalEncode({ b: 1, a: 2, c: 3 })).toBe('{"a":2,"b":1,"c":3}');
    expect(canonicalEncode({ b: 1, c: 2 })).toBe('{"b":1,"c":2}');
    expect(canonicalEncode({ b: { y: 1, x: 2 }, a: [{ y: 3, x: 4 }] })).toBe(
      '{"a":[{"x":4,"y":3}],"b":{"x":2,"y":1}}',
    );
    // more shapes than the cache holds
    for (let i = 0; i < 40; i++) {
      const obj = { [`k${i}`]: i, a: 0 };
      expect(canonicalEncode(obj)).toBe(`{"a":0,"k${i}":${i}}`);
    }
  });
});
