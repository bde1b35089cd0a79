import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { losslessDiff } from '../test/lossless-equal.js';
import { decode, encode, fromStorable, SanitizeError, toStorable } from './index.js';

const roundTrip = (value: unknown): unknown => decode(encode(value));

function expectLossless(value: unknown): void {
  expect(losslessDiff(value, roundTrip(value))).toBeUndefined();
  expect(losslessDiff(value, fromStorable(JSON.parse(JSON.stringify(toStorable(value)))))).toBeUndefined();
}

describe('encode / decode', () => {
  it('writes plain JSON values exactly as JSON.stringify does', () => {
    const value = { a: 1, b: 'x', c: [true, null, { d: 2.5 }], e: {} };
    expect(encode(value)).toBe(JSON.stringify(value));
  });

  it('tags the values JSON loses, with the documented shapes', () => {
    expect(encode(Number.NaN)).toBe('{"$pp":"NaN"}');
    expect(encode(Number.POSITIVE_INFINITY)).toBe('{"$pp":"Infinity"}');
    expect(encode(Number.NEGATIVE_INFINITY)).toBe('{"$pp":"-Infinity"}');
    expect(encode(-0)).toBe('{"$pp":"-0"}');
    expect(encode(undefined)).toBe('{"$pp":"undefined"}');
    expect(encode(123n)).toBe('{"$pp":"bigint","v":"123"}');
    expect(encode(new Date('2026-01-01T00:00:00.000Z'))).toBe(
      '{"$pp":"date","v":"2026-01-01T00:00:00.000Z"}',
    );
    expect(encode(new Float32Array([1.5, Number.NaN]))).toBe(
      '{"$pp":"Float32Array","v":[1.5,{"$pp":"NaN"}]}',
    );
    expect(encode({ a: undefined })).toBe('{"a":{"$pp":"undefined"}}');
    expect(encode({})).toBe('{}');
  });

  it('round-trips NaN, ±Infinity, -0, undefined vs missing, BigInt, Date and typed arrays', () => {
    expectLossless({
      nan: Number.NaN,
      inf: Number.POSITIVE_INFINITY,
      ninf: Number.NEGATIVE_INFINITY,
      nzero: -0,
      undef: undefined,
      nested: [undefined, Number.NaN, { deep: -0 }],
      big: -12345678901234567890123n,
      date: new Date(1_700_000_000_123),
      invalidDate: new Date(Number.NaN),
      f32: new Float32Array([0.5, Number.NaN, Number.POSITIVE_INFINITY, -0]),
      f64: new Float64Array([1e-300, Number.NEGATIVE_INFINITY]),
      i8: new Int8Array([-128, 127]),
      u8c: new Uint8ClampedArray([0, 255]),
      u32: new Uint32Array([4294967295]),
      b64: new BigInt64Array([-9223372036854775808n, 9223372036854775807n]),
      bu64: new BigUint64Array([18446744073709551615n]),
      map: new Map<unknown, unknown>([
        [1, 'a'],
        ['k', { v: Number.NaN }],
      ]),
      set: new Set([1, 'two', undefined]),
      buffer: new Uint8Array([1, 2, 3]).buffer,
    });
    const decoded = roundTrip({ a: undefined }) as object;
    expect(Object.keys(decoded)).toEqual(['a']);
    expect(Object.keys(roundTrip({}) as object)).toEqual([]);
  });

  it('keeps sparse-array holes apart from undefined', () => {
    // biome-ignore lint/suspicious/noSparseArray: the hole is the point
    const sparse = [1, , undefined, 3];
    const back = roundTrip(sparse) as unknown[];
    expect(1 in back).toBe(false);
    expect(2 in back).toBe(true);
    expectLossless(sparse);
  });

  it('escapes a user object that has the reserved $pp key', () => {
    const value = { $pp: 'NaN', other: 1 };
    expect(encode(value)).toBe('{"$pp":"object","v":{"$pp":"NaN","other":1}}');
    expectLossless(value);
    expectLossless({ $pp: { $pp: 'cycle' } });
    expectLossless([{ $pp: 'hole' }]);
  });

  it('keeps a "__proto__" key as data and never touches the prototype', () => {
    const value = JSON.parse('{"__proto__":{"polluted":true},"a":1}');
    const back = roundTrip(value) as Record<string, unknown>;
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
    expect(Object.keys(back)).toEqual(['__proto__', 'a']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expectLossless(value);
  });

  it('round-trips Errors with name, message, stack and cause', () => {
    const error = new TypeError('bad input', { cause: { field: 'amount' } });
    const back = roundTrip(error) as Error;
    expect(back).toBeInstanceOf(Error);
    expect(back.name).toBe('TypeError');
    expect(back.message).toBe('bad input');
    expect(back.stack).toBe(error.stack);
    expect(back.cause).toEqual({ field: 'amount' });
  });

  it('writes one line even when strings hold newlines and separators', () => {
    const text = encode({ s: 'a\nb\r\u2028\u2029c', n: Number.NaN });
    expect(text).not.toMatch(/[\n\r]/);
    expect(roundTrip({ s: 'a\nb\r\u2028\u2029c' })).toEqual({ s: 'a\nb\r\u2028\u2029c' });
  });

  it('marks cycles without throwing, and does not mistake shared references for cycles', () => {
    const a: Record<string, unknown> = { name: 'a' };
    a.self = a;
    a.list = [a, 1];
    expect(decode(encode(a))).toEqual({ name: 'a', self: { $pp: 'cycle' }, list: [{ $pp: 'cycle' }, 1] });
    const shared = { x: 1 };
    expectLossless({ left: shared, right: shared });
  });

  it('cuts very deep nesting at maxDepth instead of overflowing the stack', () => {
    let deep: Record<string, unknown> = {};
    const root = deep;
    for (let i = 0; i < 200_000; i++) {
      const next = {};
      deep.x = next;
      deep = next;
    }
    const text = encode(root);
    expect(text).toContain('{"$pp":"truncated","reason":"depth"}');
    expect(text.split('"x"').length - 1).toBe(100);
    const shallow = encode(root, { limits: { maxDepth: 3 } });
    expect(shallow).toBe('{"x":{"x":{"x":{"$pp":"truncated","reason":"depth"}}}}');
  });

  it('cuts huge strings and arrays and keeps their true size', () => {
    const text = encode(
      { s: 'x'.repeat(50), a: [1, 2, 3, 4, 5] },
      { limits: { maxStringLength: 10, maxArrayLength: 2 } },
    );
    expect(decode(text)).toEqual({
      s: { $pp: 'truncated', reason: 'string', length: 50, v: 'x'.repeat(10) },
      a: { $pp: 'truncated', reason: 'array', length: 5, v: [1, 2] },
    });
    const typed = decode(encode(new Float64Array(10), { limits: { maxArrayLength: 3 } }));
    expect(typed).toMatchObject({ $pp: 'truncated', reason: 'array', type: 'Float64Array', length: 10 });
    const keys = decode(encode({ a: 1, b: 2, c: 3 }, { limits: { maxKeys: 2 } }));
    expect(keys).toEqual({ $pp: 'truncated', reason: 'keys', keys: 3, v: { a: 1, b: 2 } });
  });

  it('bounds the work on exponentially shared structures (maxNodes)', () => {
    // 2^60 paths through 60 shared objects: walking them all would never finish.
    let node: Record<string, unknown> = { leaf: 1 };
    for (let i = 0; i < 60; i++) node = { l: node, r: node };
    const started = Date.now();
    const text = encode(node, { limits: { maxNodes: 10_000 } });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(text).toContain('"reason":"nodes"');
    expect(encode(node).length).toBeGreaterThan(0);
  });

  it('marks functions and symbols as unsupported', () => {
    expect(decode(encode({ f: () => 1, s: Symbol('x') }))).toEqual({
      f: { $pp: 'unsupported', type: 'function' },
      s: { $pp: 'unsupported', type: 'symbol' },
    });
  });

  it('uses toJSON of class instances, like JSON.stringify', () => {
    const url = new URL('https://example.com/a?b=1');
    expect(roundTrip({ url })).toEqual({ url: 'https://example.com/a?b=1' });
  });

  it('rejects text that is not JSON with DECODE_FAILED, and bad limits with INVALID_OPTIONS', () => {
    expect(() => decode('{"a":')).toThrow(SanitizeError);
    try {
      decode('nope');
    } catch (error) {
      expect((error as SanitizeError).code).toBe('DECODE_FAILED');
    }
    expect(() => encode(1, { limits: { maxDepth: 0 } })).toThrow(
      /limits\.maxDepth: expected a positive integer/,
    );
  });

  it('reports a throwing getter as ENCODE_FAILED', () => {
    const hostile = {
      get boom(): never {
        throw new Error('getter exploded');
      },
    };
    expect(() => encode(hostile)).toThrow(expect.objectContaining({ code: 'ENCODE_FAILED' }));
  });

  it('property: any value round-trips, including NaN, -0, undefined, bigint, dates, typed arrays, holes', () => {
    const anything = fc.anything({
      maxDepth: 4,
      withBigInt: true,
      withDate: true,
      withTypedArray: true,
      withMap: true,
      withSet: true,
      withSparseArray: true,
      // fc.anything alone almost never yields NaN, -0, invalid dates or 64-bit typed arrays.
      values: [
        fc.boolean(),
        fc.integer(),
        fc.double(),
        fc.string(),
        fc.constant(null),
        fc.constant(undefined),
        fc.constantFrom(Number.NaN, -0, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY),
        fc.bigInt(),
        fc.date({ noInvalidDate: false }),
        fc.float32Array(),
        fc.float64Array(),
        fc.bigInt64Array(),
        fc.bigUint64Array(),
      ],
    });
    fc.assert(
      fc.property(anything, (value) => {
        const text = encode(value);
        expect(text).not.toMatch(/\n/);
        const diff = losslessDiff(value, decode(text));
        expect(diff).toBeUndefined();
      }),
      { numRuns: 1_000, seed: 20261126 },
    );
  });

  it('property: toStorable gives a plain JSON tree that survives JSON.stringify/parse unchanged', () => {
    fc.assert(
      fc.property(fc.anything({ withBigInt: true, withDate: true, withTypedArray: true }), (value) => {
        const tree = toStorable(value);
        expect(JSON.parse(JSON.stringify(tree))).toStrictEqual(tree);
      }),
      { numRuns: 500, seed: 7 },
    );
  });

  it('property: special doubles anywhere in a tree round-trip', () => {
    const special = fc.constantFrom(Number.NaN, -0, 0, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY);
    const leaf = fc.oneof(fc.double(), special, fc.constant(undefined), fc.bigInt(), fc.string());
    const tree = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: 'small' },
        leaf,
        fc.array(tie('node')),
        fc.dictionary(fc.string(), tie('node')),
      ),
    })).node;
    fc.assert(
      fc.property(tree, (value) => {
        expect(losslessDiff(value, roundTrip(value))).toBeUndefined();
      }),
      { numRuns: 500, seed: 42 },
    );
  });
});
