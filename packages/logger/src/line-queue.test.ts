import { describe, expect, it } from 'vitest';
import { LineQueue } from './line-queue.js';

const text = (b: { data: Buffer }) => b.data.toString('utf8');

describe('LineQueue', () => {
  it('queues lines as UTF-8 and hands them over in order, counting bytes, errors and successes', () => {
    const q = new LineQueue();
    q.push('a\n', false);
    q.push('é€\n', true);
    q.push('c\n', false);
    expect(q).toMatchObject({ count: 3, successes: 2, bytes: 2 + 6 + 2, pushedCount: 3 });
    const batch = q.take();
    expect(text(batch)).toBe('a\né€\nc\n');
    expect(batch).toMatchObject({ lineCount: 3, kept: 3, successes: 2, errorRanges: [2, 8] });
    expect(q).toMatchObject({ count: 0, successes: 0, bytes: 0, pushedCount: 0 });
  });

  it('evicts the oldest successes only, and leaves them out of the batch', () => {
    const q = new LineQueue();
    q.push('s1\n', false);
    q.push('e1\n', true);
    q.push('s2\n', false);
    q.push('s3\n', false);
    expect(q.evictOldestSuccess()).toBe(true);
    expect(q.evictOldestSuccess()).toBe(true);
    expect(q).toMatchObject({ count: 2, successes: 1, bytes: 6, pushedCount: 4 });
    const batch = q.take();
    expect(text(batch)).toBe('e1\ns3\n');
    expect(batch).toMatchObject({ lineCount: 4, kept: 2, successes: 1, errorRanges: [0, 3] });
    const q2 = new LineQueue();
    q2.push('e\n', true);
    expect(q2.evictOldestSuccess()).toBe(false);
  });

  it('grows past its first slab with lines of every size, and reuses a released slab', () => {
    const q = new LineQueue();
    const lines: string[] = [];
    for (let i = 0; i < 2000; i++) {
      const line = `${i}:${'ü'.repeat(i % 97)}${'x'.repeat((i * 37) % 500)}\n`;
      lines.push(line);
      q.push(line, i % 10 === 0);
    }
    const big = `${'€'.repeat(100_000)}\n`;
    q.push(big, false);
    const batch = q.take();
    expect(text(batch)).toBe(lines.join('') + big);
    q.release(batch);
    q.push('next\n', false);
    expect(text(q.take())).toBe('next\n');
  });

  it('puts the errors of a failed batch back in front of what was queued since', () => {
    const q = new LineQueue();
    q.push('s1\n', false);
    q.push('e1\n', true);
    q.push('e2\n', true);
    const failed = q.take();
    q.push('later-e\n', true);
    q.push('later-s\n', false);
    expect(q.requeueErrors(failed)).toBe(2);
    q.release(failed);
    expect(q).toMatchObject({ count: 4, successes: 1 });
    expect(q.evictOldestSuccess()).toBe(true);
    const batch = q.take();
    expect(text(batch)).toBe('e1\ne2\nlater-e\n');
    expect(batch.errorRanges).toEqual([0, 3, 3, 6, 6, 14]);
  });
});
