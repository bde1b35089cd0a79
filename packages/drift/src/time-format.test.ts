import { describe, expect, it } from 'vitest';
import { formatDate, parseIsoDate } from './time-format.js';

describe('parseIsoDate', () => {
  it('reads dates and date-times, a missing zone as UTC, offsets to UTC', () => {
    expect(parseIsoDate('2024-02-29')).toBe(Date.UTC(2024, 1, 29));
    expect(parseIsoDate('2024-02-29T10:15')).toBe(Date.UTC(2024, 1, 29, 10, 15));
    expect(parseIsoDate('2024-02-29 10:15:30')).toBe(Date.UTC(2024, 1, 29, 10, 15, 30));
    expect(parseIsoDate('2024-02-29T10:15:30.5Z')).toBe(Date.UTC(2024, 1, 29, 10, 15, 30, 500));
    // More than millisecond precision is cut to the millisecond.
    expect(parseIsoDate('2024-02-29T10:15:30.123456789Z')).toBe(Date.UTC(2024, 1, 29, 10, 15, 30, 123));
    expect(parseIsoDate('2024-02-29T10:15:30+02:00')).toBe(Date.UTC(2024, 1, 29, 8, 15, 30));
    expect(parseIsoDate('2024-02-29T10:15:30-0530')).toBe(Date.UTC(2024, 1, 29, 15, 45, 30));
    expect(parseIsoDate('2024-02-29T23:00:00-02')).toBe(Date.UTC(2024, 2, 1, 1));
    // Year first with slashes is as unambiguous (vega's flights data writes dates so).
    expect(parseIsoDate('2001/01/14 21:55')).toBe(Date.UTC(2001, 0, 14, 21, 55));
    // Years below 100 stay themselves (Date.UTC would read 0012 as 1912).
    expect(new Date(parseIsoDate('0012-03-04')).getUTCFullYear()).toBe(12);
  });

  it('agrees with the JavaScript parser on what JSON.stringify writes', () => {
    for (const ms of [0, Date.UTC(1999, 11, 31, 23, 59, 59, 999), Date.UTC(2038, 0, 19, 3, 14, 8)]) {
      expect(parseIsoDate(new Date(ms).toISOString())).toBe(ms);
      expect(parseIsoDate(formatDate(ms))).toBe(ms);
    }
  });

  it('rejects what is not a real ISO date, so categories stay categories', () => {
    for (const text of [
      '2023-02-29', // not a leap year
      '2024-04-31',
      '2024-13-01',
      '2024-00-10',
      '2024-01-00',
      '2024-01-01T24:00',
      '2024-01-01T10:60',
      '2024-01-01T10:00:61',
      '2024-01-01T10:00+19:00',
      '2024-01-01Z', // a zone needs a time
      '2024-1-01',
      '2024/01-01', // mixed separators
      '01/02/2024', // day and month order unknown
      '2024-Q1-01',
      '01-02-2024',
      'buy_now_pay_later',
      'bank-transfer',
      '',
      ' 2024-01-01',
      '2024-01-01 ',
    ]) {
      expect(parseIsoDate(text), text).toBeNaN();
    }
  });
});
