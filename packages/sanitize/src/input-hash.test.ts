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
