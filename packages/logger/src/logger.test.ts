import {
  appendFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { setImmediate as tick } from 'node:timers/promises';
import { createSanitizer, decode, inputHash } from '@prodprobe/sanitize';
import { afterAll, describe, expect, it } from 'vitest';
import { LoggerError } from './errors.js';
import { createPredictionLogger } from './logger.js';
import { listSegments, readPredictionLogs, scanSegments } from './read.js';
import { sampleUnit } from './sampling.js';
import { PredictionLogEntrySchema } from './schema.js';
import { type OpenSegment, openFileSegment } from './segment.js';

const root = mkdtempSync(join(tmpdir(), 'pp-logger-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshDir = () => join(root, `t${n++}`);

describe('createPredictionLogger', () => {
  it('writes valid entries with hash, stats, sanitized input, weight, host and memory', async () => {
    const dir = freshDir();
    const logger = createPredictionLogger({
      dir,
      sampleRate: 1,
      modelVersion: 'fraud-v3',
      envFingerprint: 'env-123',
      host: 'web-1',
      pid: 4242,
    });
    const input = { amount: 12.5, email: 'jane@example.com', items: [1, 2, 3] };
    expect(
      logger.log({
        requestId: 'r1',
        input,
        output: { score: 0.25 },
        latencyMs: 7,
        metadata: { region: 'eu' },
      }),
    ).toEqual({ accepted: true, reason: 'kept', backpressure: false });
    await logger.close();
    const files = await listSegments(dir);
    expect(files).toHaveLength(1);
    expect(relative(dir, files[0] as string)).toMatch(
      /^dt=\d{4}-\d{2}-\d{2}\/hour=\d{2}\/web-1-4242-000000\.jsonl$/,
    );
    const text = readFileSync(files[0] as string, 'utf8');
    expect(text.endsWith('\n')).toBe(true);
    const entry = PredictionLogEntrySchema.parse(decode(text.trim()));
    expect(entry).toMatchObject({
      schemaVersion: 1,
      kind: 'prediction',
      requestId: 'r1',
      modelVersion: 'fraud-v3',
      inputHash: inputHash(input),
      ok: true,
      output: { score: 0.25 },
      latencyMs: 7,
      samplingWeight: 1,
      keptBy: 'sample',
      host: 'web-1',
      pid: 4242,
      envFingerprint: 'env-123',
      metadata: { region: 'eu' },
    });
    // The default sanitizer ran: the email is not on disk, its length is in the stats.
    expect(text).not.toContain('jane@example.com');
    expect(entry.inputStats.stringLengths).toEqual({ email: 16 });
    expect(entry.inputStats.arraySizes).toEqual({ items: 3 });
    expect(entry.memory.rss).toBeGreaterThan(0);
    expect(entry.memory.heapUsed).toBeGreaterThan(0);
    expect(Date.now() - Date.parse(entry.timestamp)).toBeLessThan(60_000);
  });

  it('writes a key that is data (an email, a card number) as <key #i>, in the input and in its stats', async () => {
    const dir = freshDir();
    const logger = createPredictionLogger({ dir, sampleRate: 1, modelVersion: 'v' });
    const input = { visits: { 'jane.doe@example.com': 3, '4111111111111111': 1 }, total: 12.5 };
    logger.log({ requestId: 'k1', input, output: { 'Jane Doe': 0.5 } });
    await logger.close();
    const text = readFileSync((await listSegments(dir))[0] as string, 'utf8');
    expect(text).not.toMatch(/jane|4111|Jane Doe/);
    const entry = PredictionLogEntrySchema.parse(decode(text.trim()));
    expect(entry.input).toEqual({ visits: { '<key #0>': 3, '<key #1>': 1 }, total: 13 });
    expect(entry.output).toEqual({ '<key #0>': 0.5 });
    expect(Object.keys(entry.inputStats.numeric).sort()).toEqual([
      'total',
      'visits["<key #0>"]',
      'visits["<key #1>"]',
    ]);
  });

  it('always keeps errors (weight 1), samples successes on the request id (weight 1/rate)', async () => {
    const dir = freshDir();
    const logger = createPredictionLogger({ dir, sampleRate: 0.25, modelVersion: 'v1' });
    const ids = Array.from({ length: 400 }, (_, i) => `req-${i}`);
    for (const requestId of ids) {
      const i = Number(requestId.slice(4));
      if (i % 10 === 0) logger.log({ requestId, input: { i }, error: new RangeError(`bad i ${i}`) });
      else logger.log({ requestId, input: { i }, output: 1 });
    }
    await logger.close();
    const { entries } = await readPredictionLogs(dir);
    const errors = entries.filter((e) => !e.ok);
    expect(errors).toHaveLength(40);
    for (const e of errors) {
      expect(e).toMatchObject({ keptBy: 'error', samplingWeight: 1, error: { name: 'RangeError' } });
      expect(e.output).toBeUndefined();
    }
    const successes = entries.filter((e) => e.ok);
    const expected = ids.filter((id, i) => i % 10 !== 0 && sampleUnit(id) < 0.25);
    expect(successes.map((e) => e.requestId).sort()).toEqual(expected.sort());
    for (const e of successes) expect(e.samplingWeight).toBe(4);
    expect(logger.stats()).toMatchObject({
      logged: 400,
      errors: 40,
      kept: 40 + expected.length,
      written: 40 + expected.length,
    });
    expect(logger.stats().sampledOut).toBe(360 - expected.length);
  });

  it('keeps slow and non-finite successes by rule with weight 1, and redacts PII in error messages', async () => {
    const dir = freshDir();
    const logger = createPredictionLogger({
      dir,
      sampleRate: 0,
      modelVersion: 'v1',
      keepLatencyAboveMs: 500,
    });
    logger.log({ requestId: 'fast', input: {}, output: 1, latencyMs: 10 });
    logger.log({ requestId: 'slow', input: {}, output: 1, latencyMs: 900 });
    logger.log({ requestId: 'nan', input: {}, output: { scores: [0.1, Number.NaN] }, latencyMs: 1 });
    logger.log({ requestId: 'inf', input: {}, output: new Float32Array([1, Number.POSITIVE_INFINITY]) });
    logger.log({ requestId: 'err', input: {}, error: new Error('no account for mail bob@example.com') });
    logger.log({ requestId: 'thrown-string', input: {}, error: 'boom' });
    await logger.close();
    const { entries } = await readPredictionLogs(dir);
    const by = Object.fromEntries(entries.map((e) => [e.requestId, e]));
    expect(Object.keys(by).sort()).toEqual(['err', 'inf', 'nan', 'slow', 'thrown-string']);
    expect(by.slow).toMatchObject({ keptBy: 'latency', samplingWeight: 1 });
    expect(by.nan).toMatchObject({ keptBy: 'non-finite-output', samplingWeight: 1 });
    expect(by.inf?.keptBy).toBe('non-finite-output');
    expect(by.err?.error).toEqual({ name: 'Error', message: 'no account for mail <EMAIL>' });
    expect(by['thrown-string']?.error).toEqual({ name: 'Error', message: 'boom' });
  });

  it('stores NaN and ±Infinity in inputs and outputs as themselves, not null', async () => {
    const dir = freshDir();
    const logger = createPredictionLogger({ dir, sampleRate: 1, modelVersion: 'v1' });
    logger.log({
      requestId: 'n',
      input: { a: Number.NaN, b: Number.NEGATIVE_INFINITY, c: null },
      output: { score: Number.NaN },
      latencyMs: Number.NaN,
    });
    await logger.close();
    const [file] = await listSegments(dir);
    const text = readFileSync(file as string, 'utf8');
    expect(text).toContain('{"$pp":"NaN"}');
    const { entries } = await readPredictionLogs(dir);
    const e = entries[0];
    expect(e?.input).toEqual({ a: Number.NaN, b: Number.NEGATIVE_INFINITY, c: null });
    expect(e?.output).toEqual({ score: Number.NaN });
    expect(e?.latencyMs).toBeNaN();
    expect(e?.inputStats).toMatchObject({ nanCount: 1, infCount: 1, nullCount: 1 });
    expect(e?.inputStats.numeric).toEqual({ a: Number.NaN, b: Number.NEGATIVE_INFINITY });
  });

  it('returns a shared constant for a sampled-out success and rejects entries without a request id', () => {
    const logger = createPredictionLogger({ dir: freshDir(), sampleRate: 0, modelVersion: 'v1' });
    const a = logger.log({ requestId: 'x', input: {}, output: 1 });
    const b = logger.log({ requestId: 'y', input: {}, output: 2 });
    expect(a).toBe(b);
    expect(a).toEqual({ accepted: false, reason: 'sampled-out', backpressure: false });
    expect(() => logger.log({ input: {} } as never)).toThrow(LoggerError);
    expect(logger.stats().queued).toBe(0);
  });

  it('names the bad option', () => {
    const bad = (options: object, text: RegExp) => {
      try {
        createPredictionLogger({ dir: 'd', sampleRate: 0.5, modelVersion: 'v', ...options });
        expect.unreachable();
      } catch (error) {
        expect(error).toBeInstanceOf(LoggerError);
        expect((error as LoggerError).code).toBe('INVALID_OPTIONS');
        expect((error as LoggerError).message).toMatch(text);
      }
    };
    bad({ sampleRate: 1.5 }, /sampleRate/);
    bad({ maxQueue: 0 }, /maxQueue/);
    bad({ modelVersion: '' }, /modelVersion/);
    bad({ sanitizer: {} }, /sanitizer: expected an object with a sanitize/);
  });

  it('rotates by size and by age, and by UTC hour into hive partitions', async () => {
    const dir = freshDir();
    let clock = Date.UTC(2024, 4, 1, 10, 59, 0);
    const logger = createPredictionLogger({
      dir,
      sampleRate: 1,
      modelVersion: 'v1',
      host: 'h',
      pid: 1,
      segmentMaxBytes: 3000,
      segmentMaxAgeMs: 10_000,
      now: () => clock,
    });
    const logSome = async (k: number) => {
      for (let i = 0; i < k; i++) logger.log({ requestId: `r${clock}-${i}`, input: { i }, output: 1 });
      await logger.flush();
    };
    for (let i = 0; i < 4; i++) await logSome(3); // ~700 bytes per entry: size rotation
    clock += 20_000; // age rotation
    await logSome(1);
    clock = Date.UTC(2024, 4, 1, 11, 0, 1); // next hour
    await logSome(1);
    await logger.close();
    const files = (await listSegments(dir)).map((f) => relative(dir, f));
    expect(files.filter((f) => f.startsWith('dt=2024-05-01/hour=10/')).length).toBeGreaterThanOrEqual(3);
    expect(files.at(-1)).toMatch(/^dt=2024-05-01\/hour=11\/h-1-\d{6}\.jsonl$/);
    expect(new Set(files).size).toBe(files.length);
    const logs = await readPredictionLogs(dir);
    expect(logs.entries).toHaveLength(14);
    expect(logger.stats().segmentsOpened).toBe(files.length);
  });

  it('never appends to an existing segment: a reused pid skips taken names', async () => {
    const dir = freshDir();
    const now = Date.UTC(2024, 0, 2, 3, 4, 5);
    const partition = join(dir, 'dt=2024-01-02', 'hour=03');
    mkdirSync(partition, { recursive: true });
    writeFileSync(join(partition, 'h-1-000000.jsonl'), '{"torn by the previous run');
    const logger = createPredictionLogger({
      dir,
      sampleRate: 1,
      modelVersion: 'v',
      host: 'h',
      pid: 1,
      now: () => now,
    });
    logger.log({ requestId: 'a', input: 1, output: 1 });
    await logger.close();
    expect(readdirSync(partition).sort()).toEqual(['h-1-000000.jsonl', 'h-1-000001.jsonl']);
    expect(readFileSync(join(partition, 'h-1-000000.jsonl'), 'utf8')).toBe('{"torn by the previous run');
    const logs = await readPredictionLogs(dir);
    expect(logs.entries.map((e) => e.requestId)).toEqual(['a']);
    expect(logs.tornLines).toBe(1);
  });

  it('skips and counts a torn last line', async () => {
    const dir = freshDir();
    const logger = createPredictionLogger({ dir, sampleRate: 1, modelVersion: 'v' });
    for (let i = 0; i < 5; i++) logger.log({ requestId: `r${i}`, input: { i }, output: i });
    await logger.close();
    const [file] = await listSegments(dir);
    const whole = readFileSync(file as string, 'utf8');
    // A crash mid-write leaves the start of a line without its newline.
    appendFileSync(file as string, whole.split('\n')[0]?.slice(0, 80) ?? '');
    const logs = await readPredictionLogs(dir);
    expect(logs.entries).toHaveLength(5);
    expect(logs.tornLines).toBe(1);
    expect(logs.invalidLines).toBe(0);
    expect(await scanSegments(dir)).toMatchObject({ files: 1, tornLines: 1 });
  });

  it('is a no-op after close, counted', async () => {
    const logger = createPredictionLogger({ dir: freshDir(), sampleRate: 1, modelVersion: 'v' });
    await logger.close();
    expect(logger.log({ requestId: 'late', input: 1, error: new Error('x') }).reason).toBe('closed');
    expect(logger.stats().rejectedAfterClose).toBe(1);
  });
});

describe('default policy one-walk path', () => {
  it('writes the same lines as the generic path (sanitize, stats, encode) would', async () => {
    const options = {
      sampleRate: 1,
      modelVersion: 'v',
      host: 'h',
      pid: 1,
      now: () => Date.UTC(2026, 0, 2, 3, 4, 5, 6),
      memoryUsage: () => ({ rss: 1, heapUsed: 2 }),
      resourceUsage: () => ({ handles: 3 }),
    };
    const fusedDir = freshDir();
    const fused = createPredictionLogger({ ...options, dir: fusedDir });
    // An explicit sanitizer (even with the default policy) takes the generic path.
    const genericDir = freshDir();
    const generic = createPredictionLogger({ ...options, dir: genericDir, sanitizer: createSanitizer() });
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    const inputs: unknown[] = [
      { amount: 12.345, email: 'a@b.co', tags: ['x', null, Number.NaN], nested: { n: -0, u: undefined } },
      JSON.parse('{"__proto__": {"x": 1}, "0": 1, "b": [[1, 2], {"c": "d"}]}'),
      { $pp: 'NaN', when: new Date(0), big: 10n, vec: new Float32Array([1.25, Number.NaN]) },
      cyclic,
      Number.NaN,
      'just a string',
      undefined,
      [1, 2, 3],
    ];
    for (const [i, input] of inputs.entries()) {
      for (const logger of [fused, generic]) {
        logger.log({ requestId: `r${i}`, input, output: { score: i / 3, label: 'ok', input }, latencyMs: 1 });
      }
    }
    await Promise.all([fused.close(), generic.close()]);
    const read = async (dir: string) =>
      (await listSegments(dir)).map((f) => readFileSync(f, 'utf8')).join('');
    const fusedText = await read(fusedDir);
    expect(fusedText.split('\n')).toHaveLength(inputs.length + 1);
    expect(fusedText).toBe(await read(genericDir));
    expect(fusedText).toContain('"input":{"amount":12,"email":"<string length=6>"');
  });
});

/** A disk that accepts opens but holds every write until released. */
function stalledDisk() {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  let writesStarted = 0;
  let firstWrite!: () => void;
  const started = new Promise<void>((resolve) => {
    firstWrite = resolve;
  });
  const openSegment: OpenSegment = async (path) => {
    const real = await openFileSegment(path);
    return {
      write: async (data) => {
        writesStarted++;
        firstWrite();
        await gate;
        await real.write(data);
      },
      close: () => real.close(),
    };
  };
  return {
    openSegment,
    release: () => release(),
    writesStarted: () => writesStarted,
    /** Resolves when the first write has reached the stalled disk. */
    started,
  };
}

describe('bounded queue against a stalled disk', () => {
  it.each([false, true])(
    'drops successes first (counted, with gap markers), never errors, and stays within maxQueue (deferSerialization: %s)',
    async (deferSerialization) => {
      const dir = freshDir();
      const disk = stalledDisk();
      const maxQueue = 200;
      const logger = createPredictionLogger({
        dir,
        sampleRate: 1,
        modelVersion: 'v',
        deferSerialization,
        maxQueue,
        flushIntervalMs: 10,
        openSegment: disk.openSegment,
      });
      let maxBuffered = 0;
      const errorIds: string[] = [];
      for (let i = 0; i < 3000; i++) {
        const requestId = `r${i}`;
        if (i % 50 === 0) {
          errorIds.push(requestId);
          logger.log({ requestId, input: { i }, error: new Error('model failed') });
        } else {
          logger.log({ requestId, input: { i }, output: i });
        }
        const s = logger.stats();
        maxBuffered = Math.max(maxBuffered, s.queued + s.inFlight);
        if (i % 100 === 0) await tick(); // let the (stalled) writer take a batch
        // The first batch must have reached the stalled disk before the flood (opening the
        // segment goes through the thread pool, which a busy machine can make slow).
        if (i === 150) await disk.started;
      }
      expect(disk.writesStarted()).toBeGreaterThan(0);
      expect(maxBuffered).toBeLessThanOrEqual(maxQueue);
      expect(logger.stats().maxBuffered).toBeLessThanOrEqual(maxQueue);
      expect(logger.stats().errorsOverBound).toBe(0);
      const dropped = logger.stats().dropped;
      expect(dropped).toBeGreaterThan(2000);
      disk.release();
      await logger.close();
      const logs = await readPredictionLogs(dir);
      const written = logs.entries.map((e) => e.requestId);
      expect(written.filter((id) => errorIds.includes(id)).sort()).toEqual([...errorIds].sort());
      expect(written.length + dropped).toBe(3000);
      expect(logs.gaps.reduce((sum, g) => sum + g.dropped, 0)).toBe(dropped);
      expect(logger.stats()).toMatchObject({ errors: errorIds.length, written: written.length, dropped });
    },
  );

  it('applies backpressure when errors alone fill the queue: a producer that waits keeps memory bounded and loses none', async () => {
    const dir = freshDir();
    const disk = stalledDisk();
    const maxQueue = 50;
    const logger = createPredictionLogger({
      dir,
      sampleRate: 1,
      modelVersion: 'v',
      maxQueue,
      flushIntervalMs: 10,
      openSegment: disk.openSegment,
    });
    let waits = 0;
    const released = new Promise<void>((resolve) => {
      setTimeout(() => {
        disk.release();
        resolve();
      }, 100);
    });
    for (let i = 0; i < 400; i++) {
      const result = logger.log({ requestId: `e${i}`, input: { i }, error: new TypeError('bad input') });
      expect(result.accepted).toBe(true);
      if (result.backpressure) {
        waits++;
        await logger.drained();
      }
      const s = logger.stats();
      expect(s.queued + s.inFlight).toBeLessThanOrEqual(maxQueue + 1);
    }
    await released;
    await logger.close();
    expect(waits).toBeGreaterThan(0);
    const logs = await readPredictionLogs(dir);
    expect(logs.entries).toHaveLength(400);
    expect(logger.stats()).toMatchObject({ dropped: 0, written: 400 });
    expect(logger.stats().maxBuffered).toBeLessThanOrEqual(maxQueue + 1);
  });

  it('drained(timeoutMs) gives up on a stalled disk with false, and says true once it drains', async () => {
    const disk = stalledDisk();
    const logger = createPredictionLogger({
      dir: freshDir(),
      sampleRate: 1,
      modelVersion: 'v',
      maxQueue: 10,
      flushIntervalMs: 10,
      openSegment: disk.openSegment,
    });
    expect(() => logger.drained(-1)).toThrow(/drained: timeoutMs: expected a number >= 0, got -1/);
    expect(() => logger.drained(Number.NaN)).toThrow(/got NaN/);
    await expect(logger.drained(0)).resolves.toBe(true); // empty: at once
    let i = 0;
    while (!logger.log({ requestId: `e${i++}`, input: {}, error: new Error('x') }).backpressure) {
      if (i > 1000) throw new Error('the queue never filled');
    }
    await disk.started;
    const before = performance.now();
    await expect(logger.drained(30)).resolves.toBe(false);
    expect(performance.now() - before).toBeGreaterThanOrEqual(25);
    const waiting = logger.drained(5000);
    disk.release();
    await expect(waiting).resolves.toBe(true);
    await logger.close();
    expect(logger.stats()).toMatchObject({ written: i, dropped: 0 });
  });

  it('retries the errors of a failed write in a new segment and drops (counts) its successes', async () => {
    const dir = freshDir();
    let opened = 0;
    const openSegment: OpenSegment = async (path) => {
      const real = await openFileSegment(path);
      const failing = opened++ === 0;
      return {
        write: async (data) => {
          if (failing) {
            await real.write(data.slice(0, 40)); // a partial write, then the disk fails
            throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
          }
          await real.write(data);
        },
        close: () => real.close(),
      };
    };
    const failures: LoggerError[] = [];
    const logger = createPredictionLogger({
      dir,
      sampleRate: 1,
      modelVersion: 'v',
      openSegment,
      onError: (e) => failures.push(e),
    });
    logger.log({ requestId: 'ok1', input: 1, output: 1 });
    logger.log({ requestId: 'err1', input: 1, error: new Error('x') });
    const first = await logger.flush().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(first).toBeInstanceOf(LoggerError);
    expect((first as LoggerError).code).toBe('WRITE_FAILED');
    logger.log({ requestId: 'ok2', input: 1, output: 1 });
    await logger.close();
    const logs = await readPredictionLogs(dir);
    expect(logs.entries.map((e) => e.requestId).sort()).toEqual(['err1', 'ok2']);
    expect(logs.tornLines).toBe(1);
    expect(logs.gaps.map((g) => g.dropped)).toEqual([1]);
    expect(logger.stats()).toMatchObject({ writeFailures: 1, dropped: 1, segmentsOpened: 2 });
  });
});

describe('deferSerialization', () => {
  const fixed = {
    sampleRate: 1,
    modelVersion: 'v',
    host: 'h',
    pid: 1,
    now: () => Date.UTC(2026, 0, 2, 3, 4, 5),
    memoryUsage: () => ({ rss: 100, heapUsed: 50 }),
    resourceUsage: () => ({ handles: 3 }),
    sanitizer: createSanitizer({ rules: { country: 'keep' } }),
  };
  const entries = Array.from({ length: 40 }, (_, i) =>
    i % 7 === 3
      ? { requestId: `r${i}`, input: { amount: i, country: 'FR' }, error: new Error(`failed ${i}`) }
      : {
          requestId: `r${i}`,
          input: { amount: i * 1.5, country: 'DE', note: 'x'.repeat(i) },
          output: { p: i / 40 },
          latencyMs: i,
        },
  );
  const segmentText = async (dir: string) =>
    (await listSegments(dir)).map((f) => readFileSync(f, 'utf8')).join('');

  it('writes the same lines, in log() order, as serializing inside log()', async () => {
    const texts: string[] = [];
    for (const deferSerialization of [false, true]) {
      const dir = freshDir();
      const logger = createPredictionLogger({ ...fixed, dir, deferSerialization });
      for (const e of entries) expect(logger.log(e).accepted).toBe(true);
      await logger.close();
      texts.push(await segmentText(dir));
    }
    expect(texts[1]!.split('\n')).toHaveLength(entries.length + 1);
    expect(texts[1]).toBe(texts[0]);
  });

  it('holds successes until the write (flush and stats count them) and at most 512 of them', async () => {
    const dir = freshDir();
    const logger = createPredictionLogger({
      ...fixed,
      dir,
      deferSerialization: true,
      flushIntervalMs: 60_000,
    });
    const inputs = Array.from({ length: 600 }, (_, i) => ({ amount: i, country: 'DE' }));
    for (const [i, input] of inputs.entries()) logger.log({ requestId: `r${i}`, input, output: 1 });
    expect(logger.stats()).toMatchObject({ kept: 600, queued: 600, written: 0 });
    // The trade-off the option documents: what is mutated before serialization is logged mutated.
    for (const input of inputs) input.country = 'XX';
    await logger.flush();
    expect(logger.stats()).toMatchObject({ queued: 0, written: 600 });
    const countries = (await readPredictionLogs(dir)).entries.map(
      (e) => (e.input as { country: string }).country,
    );
    expect(countries.slice(0, 512).every((c) => c === 'DE')).toBe(true);
    expect(countries.slice(512).every((c) => c === 'XX')).toBe(true);
    await logger.close();
  });

  it('serializes at most 16 deferred successes per turn of the event loop, in order', async () => {
    const dir = freshDir();
    // A turn counter that advances once per turn of the event loop, next to the logger's chunks.
    let turn = 0;
    let spinning = true;
    const spin = () => {
      turn++;
      if (spinning) setImmediate(spin);
    };
    setImmediate(spin);
    const logger = createPredictionLogger({ ...fixed, dir, deferSerialization: true, flushIntervalMs: 10 });
    const serializedAt = new Map<number, number>();
    for (let i = 0; i < 64; i++) {
      // Read only when the entry is serialized: the getter notes the turn that did it.
      const input = {
        get amount() {
          if (!serializedAt.has(i)) serializedAt.set(i, turn);
          return i;
        },
      };
      logger.log({ requestId: `r${i}`, input, output: 1 });
    }
    expect(serializedAt.size).toBe(0); // nothing serialized inside log()
    for (let waited = 0; logger.stats().written < 64 && waited < 200; waited++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    spinning = false;
    expect(logger.stats().written).toBe(64);
    const perTurn = new Map<number, number>();
    for (const t of serializedAt.values()) perTurn.set(t, (perTurn.get(t) ?? 0) + 1);
    expect(Math.max(...perTurn.values())).toBeLessThanOrEqual(16);
    expect(perTurn.size).toBeGreaterThanOrEqual(4);
    await logger.close();
    const ids = (await readPredictionLogs(dir)).entries.map((e) => e.requestId);
    expect(ids).toEqual(Array.from({ length: 64 }, (_, i) => `r${i}`));
  });

  it('drops and reports an entry it cannot serialize, never throws from the timer', async () => {
    const dir = freshDir();
    const reported: LoggerError[] = [];
    const logger = createPredictionLogger({
      ...fixed,
      dir,
      deferSerialization: true,
      flushIntervalMs: 10,
      onError: (e) => reported.push(e),
    });
    const poisoned = {
      get region(): string {
        throw new Error('getter failed');
      },
    };
    logger.log({ requestId: 'ok-1', input: { amount: 1 }, output: 1 });
    logger.log({ requestId: 'bad', input: { amount: 2 }, output: 1, metadata: poisoned });
    logger.log({ requestId: 'ok-2', input: { amount: 3 }, output: 1 });
    await new Promise((resolve) => setTimeout(resolve, 50)); // the timer serializes and writes
    expect(reported.map((e) => e.code)).toEqual(['INVALID_ENTRY']);
    expect(reported[0]!.message).toContain('bad');
    await logger.close();
    const logs = await readPredictionLogs(dir);
    expect(logs.entries.map((e) => e.requestId)).toEqual(['ok-1', 'ok-2']);
    expect(logs.gaps.reduce((sum, g) => sum + g.dropped, 0)).toBe(1);
    expect(logger.stats()).toMatchObject({ kept: 2, dropped: 1, written: 2 });
  });
});
