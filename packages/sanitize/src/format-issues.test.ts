import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { formatIssues } from './format-issues.js';

describe('formatIssues', () => {
  it('names each failing path and what was expected, five at most', () => {
    const schema = z.object({ a: z.number(), b: z.object({ c: z.string() }), list: z.array(z.number()) });
    const parsed = schema.safeParse({ a: 'x', b: { c: 1 }, list: [1, 'two'] });
    expect(parsed.success).toBe(false);
    const message = formatIssues('invalid thing', parsed.error!.issues);
    expect(message).toMatch(/^invalid thing: /);
    expect(message).toContain('a: ');
    expect(message).toContain('b.c: ');
    expect(message).toContain('list.1: ');
    const many = Array.from({ length: 7 }, (_, i) => ({ path: [`f${i}`], message: 'bad' }));
    expect(formatIssues('x', many)).toBe('x: f0: bad; f1: bad; f2: bad; f3: bad; f4: bad (and 2 more)');
    expect(formatIssues('x', [{ path: [], message: 'expected object' }])).toBe('x: (root): expected object');
  });
});
