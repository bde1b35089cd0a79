import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { completeLines, LineQueue } from './line-queue.js';
import { createPredictionLogger } from './logger.js';
import { listSegments, readPredictionLogs } from './read.js';
import { type OpenSegment, openFileSegment, PartialWriteError } from './segment.js';

const root = mkdtempSync(join(tmpdir(), 'pp-segment-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshDir = () => join(root, `t${n++}`);

const enospc = () => Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });

/**
 * The default writer on a disk that fills up: the first `fail` batches take `short(data)` bytes
 * (a short write), then are refused, as write(2) behaves on a full file system.
 */
function fillingDisk(fail: number, short: (data: Uint8Array) => number): OpenSegment {
  let failures = 0;
  return async (path) => {
    const real = await openFileSegment(path);
    return {
      write: (data) => real.write(data),
      writeBytes: async (data) => {
        if (failures < fail) {
          failures++;
          const k = short(data);
          if (k > 0) await real.writeBytes!(data.subarray(0, k));
          throw new PartialWriteError(k, { cause: enospc() });
        }
        await real.writeBytes!(data);
      },
      close: () => real.close(),
    };
  };
}

describe('a disk that fills up mid-batch (regression, faults/logger-disk.test.ts)', () => {
  it('completeLines counts the whole lines of a prefix; requeueErrors skips the errors in it', () => {
    const q = new LineQueue();
    q.push('s1\n', false);
    q.push('e1\n', true);
    q.push('s2\n', false);
    q.push('e2\n', true);
    const batch = q.take();
    expect(completeLines(batch.data, 7)).toBe(2); // 's1\ne1\ns' : the third line is torn
    expect(completeLines(batch.data, 0)).toBe(0);
    expect(completeLines(batch.data, 100)).toBe(4);
    expect(q.requeueErrors(batch, 7)).toBe(1);
    expect(q.take().data.toString()).toBe('e2\n');
  });

  it('keeps the lines a short write put on disk: no error twice, no success counted dropped that is on disk', async () => {
    const dir = freshDir();
    const errors: unknown[] = [];
    // The first batch: everything up to the middle of the third line reaches the file.
    const logger = createPredictionLogger({
      dir,
      sampleRate: 1,
      modelVersion: 'v',
      openSegment: fillingDisk(1, (data) => {
        let nl = -1;
        for (let i = 0; i < 2; i++) nl = data.indexOf(0x0a, nl + 1);
        return nl + 10;
      }),
      onError: (e) => errors.push(e),
    });
    logger.log({ requestId: 'ok1', input: 1, output: 1 });
    logger.log({ requestId: 'err1', input: 1, error: new Error('x') });
    logger.log({ requestId: 'ok2', input: 1, output: 1 });
    logger.log({ requestId: 'err2', input: 1, error: new Error('y') });
    await expect(logger.flush()).rejects.toMatchObject({ code: 'WRITE_FAILED', cause: { code: 'ENOSPC' } });
    expect(logger.stats()).toMatchObject({ written: 2, dropped: 1, queued: 1 });
    await logger.close();
    const logs = await readPredictionLogs(dir);
    expect(logs.entries.map((e) => e.requestId)).toEqual(['ok1', 'err1', 'err2']);
    expect(logs.tornLines).toBe(1);
    expect(logs.gaps.map((g) => g.dropped)).toEqual([1]);
    expect(logger.stats()).toMatchObject({ written: 3, dropped: 1, writeFailures: 1, gapMarkers: 1 });
  });

  it('a gap marker that reached the disk is not written again; close() writes the last one', async () => {
    const dir = freshDir();
    const logger = createPredictionLogger({
      dir,
      sampleRate: 1,
      modelVersion: 'v',
      // 1st batch refused whole; 2nd (gap marker + lines) takes the marker and one line.
      openSegment: fillingDisk(2, (data) => {
        if (!Buffer.from(data.buffer, data.byteOffset, data.byteLength).includes('"kind":"gap"')) return 0;
        return data.indexOf(0x0a, data.indexOf(0x0a) + 1) + 1;
      }),
    });
    logger.log({ requestId: 'ok1', input: 1, output: 1 });
    await expect(logger.flush()).rejects.toMatchObject({ code: 'WRITE_FAILED' });
    logger.log({ requestId: 'err1', input: 1, error: new Error('x') });
    logger.log({ requestId: 'ok2', input: 1, output: 1 });
    await expect(logger.flush()).rejects.toMatchObject({ code: 'WRITE_FAILED' });
    await logger.close();
    const logs = await readPredictionLogs(dir);
    // The marker for ok1 once (not again with the next), then one for ok2 (cut off by the short write).
    expect(logs.gaps.map((g) => g.dropped)).toEqual([1, 1]);
    expect(logs.entries.map((e) => e.requestId)).toEqual(['err1']);
    expect(logger.stats()).toMatchObject({ written: 1, dropped: 2, gapMarkers: 2 });
  });

  it('a full disk that took nothing keeps the segment: no new empty file per retry', async () => {
    const dir = freshDir();
    const logger = createPredictionLogger({
      dir,
      sampleRate: 1,
      modelVersion: 'v',
      openSegment: fillingDisk(5, () => 0),
    });
    for (let i = 0; i < 5; i++) {
      logger.log({ requestId: `e${i}`, input: i, error: new Error('x') });
      await expect(logger.flush()).rejects.toMatchObject({ cause: { code: 'ENOSPC' } });
    }
    await logger.close();
    expect(await listSegments(dir)).toHaveLength(1);
    const logs = await readPredictionLogs(dir);
    expect(logs.entries.map((e) => e.requestId)).toEqual(['e0', 'e1', 'e2', 'e3', 'e4']);
    expect(logger.stats()).toMatchObject({ segmentsOpened: 1, writeFailures: 5, written: 5, dropped: 0 });
  });
});
