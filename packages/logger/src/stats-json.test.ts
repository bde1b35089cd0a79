import { createSanitizer, encode } from '@prodprobe/sanitize';
import { describe, expect, it } from 'vitest';
import { computeInputStats, inputStatsJson } from './input-stats.js';
import { defaultSanitizedJsonWithStats, inputStatsJsonOf, lastFusedStatsJson } from './stats-json.js';

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
