import { createSanitizer, encode, type SanitizePolicyInput } from '@prodprobe/sanitize';
import { describe, expect, it } from 'vitest';
import { computeInputStats, inputStatsJson } from './input-stats.js';
import { inputStatsJsonOf, lastFusedStatsJson, sanitizedJsonWithStats } from './stats-json.js';

const defaultFlat = createSanitizer().flat!;
const defaultSanitizedJsonWithStats = (raw: unknown, maxFields?: number) =>
  sanitizedJsonWithStats(raw, defaultFlat, maxFields);

/** A small seeded generator (mulberry32) of request-like values, odd cases included. */
function randomValues(seed: number, count: number): unknown[] {
  let a = seed >>> 0;
  const rand = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
  const keys = ['amount', 'a.b', '__proto__', '$pp', '0', '10', 'x y', 'é', 'user', 'tags', '', 'q"k'];
  const numbers = [0, -0, 1, -1.5, 12.345, 1e21, -1e-9, 1.79e308, Number.NaN, Infinity, -Infinity, 2 ** 53];
  const leaf = (): unknown => {
    switch (Math.floor(rand() * 10)) {
      case 0:
        return pick(numbers);
      case 1:
        return rand() * 1000 - 500;
      case 2:
        return pick(['', 'card', 'a"b\\c', 'ünï', 'x'.repeat(300)]);
      case 3:
        return rand() < 0.5;
      case 4:
        return null;
      case 5:
        return undefined;
      case 6:
        return pick([1n, new Date(0), new Float32Array([1, Number.NaN]), new Map(), () => 1]);
      default:
        return Math.floor(rand() * 100);
    }
  };
  const value = (depth: number): unknown => {
    const r = rand();
    if (depth > 3 || r < 0.4) return leaf();
    if (r < 0.6) {
      const arr: unknown[] = [];
      const n = Math.floor(rand() * 5);
      for (let i = 0; i < n; i++) arr.push(value(depth + 1));
      if (rand() < 0.1) arr.length += 1; // a hole
      return arr;
    }
    const obj: Record<string, unknown> = rand() < 0.1 ? Object.create(null) : {};
    const n = Math.floor(rand() * 6);
    for (let i = 0; i < n; i++) {
      const key = rand() < 0.7 ? `f${Math.floor(rand() * 8)}` : pick(keys);
      Object.defineProperty(obj, key, {
        value: value(depth + 1),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return obj;
  };
  return Array.from({ length: count }, () => value(0));
}

describe('one-walk stats and default-policy JSON', () => {
  const sanitizer = createSanitizer();

  it('inputStatsJsonOf writes exactly inputStatsJson(computeInputStats(...)), on random inputs', () => {
    for (const [i, raw] of randomValues(11, 3000).entries()) {
      const clean = sanitizer.sanitize(raw);
      const maxFields = i % 3 === 0 ? 3 : 256;
      expect(inputStatsJsonOf(raw, clean, maxFields)).toBe(
        inputStatsJson(computeInputStats(raw, clean, maxFields)),
      );
    }
  });

  it('the default-policy walk writes exactly encode(sanitize(x)) and the same stats, or leaves the value to the generic path', () => {
    let answered = 0;
    for (const [i, raw] of randomValues(12, 3000).entries()) {
      const maxFields = i % 3 === 0 ? 3 : 256;
      const json = defaultSanitizedJsonWithStats(raw, maxFields);
      if (json === undefined) continue;
      answered++;
      const clean = sanitizer.sanitize(raw);
      expect(json).toBe(encode(clean));
      expect(lastFusedStatsJson()).toBe(inputStatsJson(computeInputStats(raw, clean, maxFields)));
    }
    expect(answered).toBeGreaterThan(1500);
  });

  it('leaves exotic values, limits and cycles to the generic path', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    for (const raw of [
      { d: new Date(0) },
      { b: 1n },
      { $pp: 1 },
      [new Float64Array(2)],
      cyclic,
      { big: Array.from({ length: 5000 }, () => 1) },
      {
        get boom() {
          throw new Error('getter');
        },
      },
    ]) {
      expect(defaultSanitizedJsonWithStats(raw)).toBeUndefined();
    }
    expect(defaultSanitizedJsonWithStats({ s: 'abc', n: 12.345, u: undefined, z: -0, k: [Number.NaN] })).toBe(
      '{"s":"<string length=3>","n":12,"u":{"$pp":"undefined"},"z":{"$pp":"-0"},"k":[{"$pp":"NaN"}]}',
    );
    expect(lastFusedStatsJson()).toBe(
      '{"fieldCount":4,"nullCount":1,"nanCount":1,"infCount":0,"numeric":{"n":12,"z":{"$pp":"-0"}},"stringLengths":{"s":3},"arraySizes":{"k":1},"truncated":false}',
    );
  });
});

describe('one-walk JSON and stats with top-level field rules (sanitizer.flat)', () => {
  const ruleChoices = [
    'keep',
    { type: 'keepIf', values: ['card', 12.345, Number.NaN, true, null] },
    { type: 'keepIf', values: ['card'], otherwise: '<other>' },
    'redact',
    'length',
    'hash',
    { type: 'bucket', size: 10 },
    { type: 'round', decimals: 1 },
    { type: 'round', digits: 4 },
    'mask',
    'detect',
    'default',
  ] as const;

  it('writes exactly encode(sanitize(x)) and the same stats under random policies, or leaves the value to the generic path', () => {
    let answered = 0;
    let ruledFields = 0;
    // Records of random fields (what requests look like), and random values as they come.
    const n = 8000;
    const parts = randomValues(13, 4 * n);
    // Named fields hold leaves (an object there is the generic path's); others anything.
    const leaves = parts.filter((v) => v === null || typeof v !== 'object');
    const leaf = (i: number) => leaves[i % leaves.length];
    const values = Array.from({ length: n }, (_, i) =>
      i % 4 === 0
        ? parts[i]
        : { f0: leaf(i), f1: leaf(i + n), amount: leaf(i + 2 * n), f5: parts[i + 3 * n], other: parts[i] },
    );
    for (let p = 0; p < 40; p++) {
      const rules: Record<string, (typeof ruleChoices)[number]> = {};
      for (const [i, key] of ['f0', 'f1', 'f2', 'f3', 'f4', 'f5', 'f6', 'f7', 'amount', 'user'].entries()) {
        if ((p + i) % 3 !== 0) rules[key] = ruleChoices[(p * 7 + i) % ruleChoices.length]!;
      }
      const policy = {
        rules,
        hashKey: 'a-hash-key-of-sixteen-bytes-or-more',
        numberDigits: 1 + (p % 4),
      } as SanitizePolicyInput;
      const sanitizer = createSanitizer(policy);
      const flat = sanitizer.flat;
      expect(flat).toBeDefined();
      for (const [i, raw] of values.slice(p * 200, p * 200 + 200).entries()) {
        const maxFields = i % 3 === 0 ? 3 : 256;
        const json = sanitizedJsonWithStats(raw, flat!, maxFields);
        if (json === undefined) continue;
        answered++;
        if (raw !== null && typeof raw === 'object' && Object.keys(raw).some((k) => k in rules))
          ruledFields++;
        const clean = sanitizer.sanitize(raw);
        expect(json).toBe(encode(clean));
        expect(lastFusedStatsJson()).toBe(inputStatsJson(computeInputStats(raw, clean, maxFields)));
      }
    }
    expect(answered).toBeGreaterThan(2500);
    expect(ruledFields).toBeGreaterThan(1500);
  });

  it('the demo service policy: categoricals kept, NaN-like amounts kept, the rest default', () => {
    const sanitizer = createSanitizer({
      rules: {
        payment_method: 'keep',
        amount: { type: 'keepIf', values: ['NaN', 'Infinity', ''] },
      },
    });
    const raw = { amount: 'NaN', payment_method: 'buy_now_pay_later', user_age: 150, email: 'a@b.c' };
    expect(sanitizedJsonWithStats(raw, sanitizer.flat!)).toBe(
      '{"amount":"NaN","payment_method":"buy_now_pay_later","user_age":150,"email":"<string length=5>"}',
    );
    expect(lastFusedStatsJson()).toBe(
      '{"fieldCount":4,"nullCount":0,"nanCount":0,"infCount":0,"numeric":{"user_age":150},"stringLengths":{"amount":3,"payment_method":17,"email":5},"arraySizes":{},"truncated":false}',
    );
    // An object under a named field is the generic path's.
    expect(sanitizedJsonWithStats({ amount: { v: 1 } }, sanitizer.flat!)).toBeUndefined();
  });

  it('is set only for top-level field rules with the default limits', () => {
    expect(
      createSanitizer({ rules: { amount: 'keep', country: 'hash' }, hashKey: 'k'.repeat(16) }).flat,
    ).toBeDefined();
    expect(createSanitizer({ rules: { 'user.email': 'redact' } }).flat).toBeUndefined();
    expect(createSanitizer({ rules: { 'items[*]': 'keep' } }).flat).toBeUndefined();
    expect(createSanitizer({ rules: { '*': 'keep' } }).flat).toBeUndefined();
    expect(createSanitizer({ rules: { amount: 'keep' }, limits: { maxDepth: 5 } }).flat).toBeUndefined();
  });
});
