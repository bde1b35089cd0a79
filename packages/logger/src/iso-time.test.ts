import { describe, expect, it } from 'vitest';
import { isoTime } from './iso-time.js';

describe('isoTime', () => {
  it('equals Date#toISOString for times in one second, across seconds, and for odd times', () => {
    const base = Date.UTC(2026, 4, 17, 23, 59, 58, 0);
    for (let t = base - 1500; t < base + 2500; t += 7) expect(isoTime(t)).toBe(new Date(t).toISOString());
    for (const t of [0, 1, 999, 1000, 253402300799999, base + 0.5, -1, -1001.5]) {
      expect(isoTime(t)).toBe(new Date(t).toISOString());
    }
    // past year 9999 the ISO form changes (+YYYYYY): Date writes it
    expect(isoTime(253402300800000)).toBe('+010000-01-01T00:00:00.000Z');
    expect(() => isoTime(Number.NaN)).toThrow(RangeError);
  });
});
