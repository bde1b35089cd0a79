import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSanitizer } from '@prodprobe/sanitize';
import { afterAll, describe, expect, it } from 'vitest';
import type { LoggerError } from './errors.js';
import {
  createPredictionLogger,
  type PredictionInput,
  type PredictionLogger,
  type PredictionLoggerOptions,
} from './logger.js';
import { listSegments, readPredictionLogs } from './read.js';

const root = mkdtempSync(join(tmpdir(), 'pp-logger-worker-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshDir = () => join(root, `t${n++}`);

const fixed = {
  sampleRate: 1,
  modelVersion: 'v',
  host: 'h',
  pid: 1,
  now: () => Date.UTC(2026, 0, 2, 3, 4, 5),
  memoryUsage: () => ({ rss: 100, heapUsed: 50 }),
  resourceUsage: () => ({ handles: 3, fds: 9 }),
  flushIntervalMs: 10,
};
const successes: PredictionInput[] = Array.from({ length: 300 }, (_, i) => ({
  requestId: `r${i}`,
  input: { amount: i * 1.5, country: i % 3 ? 'DE' : 'FR', email: `user${i}@example.com`, x: [i, Number.NaN] },
  output: { p: i / 300, label: i % 2 === 0 },
  latencyMs: i / 7,
  metadata: { shard: i % 4 },
}));

const segmentText = async (dir: string) =>
  (await listSegments(dir)).map((f) => readFileSync(f, 'utf8')).join('');

// A look-alike whose sanitize() disagrees with its policy shows which thread wrote a line: the
// calling thread uses sanitize(), the worker rebuilds the sanitizer from the policy.
const telltale = { sanitize: () => 'calling-thread', policy: {} };
const writtenHere = async (dir: string) =>
  (await readPredictionLogs(dir)).entries.filter((e) => e.input === 'calling-thread').length;

/** A logger over a fresh folder with the worker on, and the test's own options on top. */
function workerLogger(options: Partial<PredictionLoggerOptions> = {}): {
  dir: string;
  logger: PredictionLogger;
} {
  const dir = freshDir();
  return { dir, logger: createPredictionLogger({ ...fixed, dir, serializeInWorker: true, ...options }) };
}

/** Waits until everything logged is on disk, without flush(). */
async function writtenInBackground(logger: PredictionLogger, count: number): Promise<void> {
  for (let waited = 0; logger.stats().written < count && waited < 500; waited++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  expect(logger.stats()).toMatchObject({ written: count, queued: 0, inFlight: 0 });
}

describe('serializeInWorker', () => {
  it('writes byte for byte the lines the calling thread writes', async () => {
    const sanitizer = createSanitizer({ rules: { country: 'keep', email: 'redact' } });
    const texts: string[] = [];
    for (const serializeInWorker of [false, true]) {
      const dir = freshDir();
      const reported: LoggerError[] = [];
      const onError = (e: LoggerError) => reported.push(e);
      const logger = createPredictionLogger({ ...fixed, dir, sanitizer, serializeInWorker, onError });
      for (const e of successes) expect(logger.log(e).accepted).toBe(true);
      await writtenInBackground(logger, successes.length);
      expect(logger.stats().serializedInWorker).toBe(serializeInWorker ? successes.length : 0);
      await logger.close();
      expect(reported).toEqual([]);
      texts.push(await segmentText(dir));
    }
    expect(texts[1]!.split('\n')).toHaveLength(successes.length + 1);
    expect(texts[1]).toContain('"country":"FR"');
    expect(texts[1]).not.toContain('example.com');
    expect(texts[1]).toBe(texts[0]);
  });

  it('serializes on the worker, with a sanitizer built from sanitizer.policy', async () => {
    const sanitizer = { ...telltale, policy: { rules: { country: 'keep' as const } } };
    const { dir, logger } = workerLogger({ sanitizer });
    for (const e of successes.slice(0, 50)) logger.log(e);
    await writtenInBackground(logger, 50);
    // An error is serialized at once on the calling thread.
    logger.log({ requestId: 'err', input: { country: 'FR' }, error: new Error('boom') });
    await logger.close();
    const { entries } = await readPredictionLogs(dir);
    const byId = new Map(entries.map((e) => [e.requestId, e]));
    expect(byId.get('r1')!.input).toEqual({
      amount: 1.5,
      country: 'DE',
      email: '<string length=17>',
      x: [1, Number.NaN],
    });
    expect(byId.get('err')!.input).toBe('calling-thread');
  });

  it('flush() waits for the worker: its lines, every entry once', async () => {
    const { dir, logger } = workerLogger({ sanitizer: telltale, flushIntervalMs: 60_000 });
    // 600: a batch of 512 goes to the worker inside log(), the rest with flush().
    for (let i = 0; i < 600; i++) logger.log({ requestId: `f${i}`, input: { i }, output: 1 });
    await logger.flush();
    expect(logger.stats()).toMatchObject({ queued: 0, written: 600 });
    await logger.close();
    const ids = (await readPredictionLogs(dir)).entries.map((e) => e.requestId);
    expect(new Set(ids).size).toBe(600);
    expect(await writtenHere(dir)).toBe(0);
    expect(logger.stats().serializedInWorker).toBe(600);
  });

  it('flush() serializes here what the worker has not sent back within flushIntervalMs, and ignores its late lines', async () => {
    const { dir, logger } = workerLogger({ sanitizer: telltale, flushIntervalMs: 1 });
    // Far more than the worker serializes in 1 ms.
    const wide = Object.fromEntries(Array.from({ length: 200 }, (_, k) => [`f${k}`, k * 1.5]));
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 600; i++) logger.log({ requestId: `r${round}-${i}`, input: wide, output: 1 });
      await logger.flush();
      expect(logger.stats()).toMatchObject({ queued: 0, written: 600 * (round + 1) });
    }
    await new Promise((resolve) => setTimeout(resolve, 300)); // the late replies arrive
    await logger.close();
    const ids = (await readPredictionLogs(dir)).entries.map((e) => e.requestId);
    expect(ids).toHaveLength(1800);
    expect(new Set(ids).size).toBe(1800);
    const here = await writtenHere(dir);
    expect(here).toBeGreaterThan(0);
    expect(here + logger.stats().serializedInWorker).toBe(1800);
    expect(logger.stats()).toMatchObject({ kept: 1800, written: 1800, dropped: 0 });
  });

  it('the timer serializes here what the worker has held for half a flush interval (a worker that cannot keep up)', async () => {
    // Found by the SIGKILL fault test: under full load the worker fell seconds behind, and entries
    // older than one flush interval were lost at a kill. A real clock: the hold time is measured.
    const { dir, logger } = workerLogger({ sanitizer: telltale, flushIntervalMs: 2, now: Date.now });
    const wide = Object.fromEntries(Array.from({ length: 200 }, (_, k) => [`f${k}`, k * 1.5]));
    for (let i = 0; i < 2000; i++) logger.log({ requestId: `s${i}`, input: wide, output: 1 });
    await writtenInBackground(logger, 2000); // no flush(): the timer alone
    await new Promise((resolve) => setTimeout(resolve, 300)); // the late replies arrive
    await logger.close();
    const ids = (await readPredictionLogs(dir)).entries.map((e) => e.requestId);
    expect(new Set(ids).size).toBe(2000);
    expect(ids).toHaveLength(2000);
    expect(await writtenHere(dir)).toBeGreaterThan(0);
  });

  it('hands successes over in batches of 64, before the timer fires', async () => {
    const { logger } = workerLogger({ flushIntervalMs: 60_000 });
    for (let i = 0; i < 63; i++) logger.log({ requestId: `b${i}`, input: { i }, output: 1 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(logger.stats()).toMatchObject({ written: 0, queued: 63 });
    logger.log({ requestId: 'b63', input: { i: 63 }, output: 1 });
    await writtenInBackground(logger, 64);
    expect(logger.stats().serializedInWorker).toBe(64);
    await logger.close();
  });

  it('serializes on the calling thread what cannot be copied to the worker, and drops what fails there too', async () => {
    const reported: LoggerError[] = [];
    const { dir, logger } = workerLogger({ onError: (e) => reported.push(e) });
    logger.log({ requestId: 'plain', input: { amount: 1 }, output: 1 });
    // A function cannot be cloned: this batch is written by the calling thread instead.
    logger.log({ requestId: 'with-fn', input: { amount: 2, callback: () => 1 }, output: 1 });
    const poisoned = {
      get region(): string {
        throw new Error('getter failed');
      },
    };
    logger.log({ requestId: 'bad', input: { amount: 3 }, output: 1, metadata: poisoned });
    await writtenInBackground(logger, 2);
    await logger.close();
    const ids = (await readPredictionLogs(dir)).entries.map((e) => e.requestId);
    expect(ids.sort()).toEqual(['plain', 'with-fn']);
    expect(reported.map((e) => e.code)).toEqual(['INVALID_ENTRY']);
    expect(reported[0]!.message).toContain('bad');
    expect(logger.stats()).toMatchObject({ kept: 2, dropped: 1, serializedInWorker: 0 });
  });

  it('refuses a sanitizer the worker cannot rebuild', () => {
    expect(() =>
      createPredictionLogger({
        ...fixed,
        dir: freshDir(),
        sanitizer: { sanitize: (v: unknown) => v },
        serializeInWorker: true,
      }),
    ).toThrow(/serializeInWorker: the sanitizer must come from createSanitizer/);
  });
});

describe('a serialization worker that stops', () => {
  it('is reported as WORKER_FAILED, and the calling thread writes everything it was given', async () => {
    const reported: LoggerError[] = [];
    // The worker rebuilds the sanitizer from this policy, which createSanitizer refuses: the worker
    // throws as it starts and exits, with batches already posted to it.
    const sanitizer = { ...telltale, policy: { rules: { country: 'not-an-action' } } };
    const { dir, logger } = workerLogger({
      sanitizer: sanitizer as unknown as typeof telltale,
      onError: (e) => reported.push(e),
    });
    for (const e of successes) expect(logger.log(e).accepted).toBe(true);
    await writtenInBackground(logger, successes.length);
    // Logged after the failure: serialized here from the start.
    logger.log({ requestId: 'after', input: { amount: 1 }, output: 1 });
    await logger.close();
    expect(reported.map((e) => e.code)).toEqual(['WORKER_FAILED']);
    expect(reported[0]!.message).toContain('the serialization worker stopped: serializing on this thread');
    expect(String((reported[0]!.cause as Error)?.message)).toMatch(/country/);
    const ids = (await readPredictionLogs(dir)).entries.map((e) => e.requestId);
    expect(ids.sort()).toEqual([...successes.map((e) => e.requestId), 'after'].sort());
    expect(await writtenHere(dir)).toBe(successes.length + 1);
    expect(logger.stats()).toMatchObject({
      written: successes.length + 1,
      serializedInWorker: 0,
      dropped: 0,
    });
  });
});
