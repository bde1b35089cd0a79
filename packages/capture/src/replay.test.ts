import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { CaptureRecord } from './record.js';
import { type LoadModel, replay, replayMany } from './replay.js';
import { createMemoryCaptureStore } from './store.js';
import { withCapture } from './with-capture.js';

const key = createHash('sha256').update('replay-test-key').digest();

interface Txn {
  amount: number;
  currency: string;
  note: string;
}

/** Captures the failing calls of `predict` on `inputs` and returns the records. */
async function captureFailures(
  predict: (x: Txn) => unknown,
  inputs: Txn[],
  opts: { modelVersion: string; encryptionKey?: Uint8Array },
): Promise<CaptureRecord[]> {
  const store = createMemoryCaptureStore();
  const wrapped = withCapture(predict, { store, ...opts });
  for (const x of inputs) {
    try {
      await wrapped(x);
    } catch {
      // captured
    }
  }
  await wrapped.flush();
  return store.list();
}

// Model versions: v1 has a bug (log of a negative amount gives NaN); v2 fixes it.
const models: Record<string, (x: Txn) => { score: number }> = {
  v1: (x) => ({ score: Math.log(x.amount) / 10 }),
  v2: (x) => ({ score: Math.log(Math.max(x.amount, 1e-9)) / 10 }),
};
const loadModel: LoadModel = (version) => {
  const m = models[version];
  if (!m) throw new Error(`unknown model version ${version}`);
  return m as (input: unknown) => unknown;
};

describe('replay', () => {
  it('reproduces a model/input failure on the model version the record names', async () => {
    const [record] = await captureFailures(models.v1!, [{ amount: -20, currency: 'EUR', note: 'refund' }], {
      modelVersion: 'v1',
    });
    const result = await replay(record!, { loadModel });
    expect(result).toMatchObject({
      reproduced: true,
      sameFailure: true,
      verdict: 'model-or-input',
      inputUsed: 'sanitized',
      modelVersion: 'v1',
      failureReason: 'output.score is NaN',
    });
    expect(result.note).toBeUndefined();
    // Replaying on the fixed version no longer fails.
    const fixed = await replay(record!, { loadModel, modelVersion: 'v2' });
    expect(fixed).toMatchObject({ reproduced: false, modelVersion: 'v2' });
    expect((fixed.result as { score: number }).score).toBeLessThan(0);
  });

  it('blames the environment when the failure came from a config flag that differs locally', async () => {
    // Production runs with strictCurrency on (a config flag); staging/local has it off.
    const make =
      (strictCurrency: boolean) =>
      (x: Txn): { score: number } => {
        if (strictCurrency && x.currency.length !== 3) throw new RangeError('currency must be ISO 4217');
        return { score: x.amount / 100 };
      };
    const input = { amount: 50, currency: 'EURO', note: 'x' };
    const records = await captureFailures(make(true), [input], { modelVersion: 'v1', encryptionKey: key });
    const localLoad: LoadModel = () => make(false) as (input: unknown) => unknown;

    const sanitizedOnly = await replay(records[0]!, { loadModel: localLoad });
    expect(sanitizedOnly).toMatchObject({
      reproduced: false,
      verdict: 'environment',
      inputUsed: 'sanitized',
    });
    expect(sanitizedOnly.note).toMatch(/sanitized input.*no key was given/);

    const exact = await replay(records[0]!, { loadModel: localLoad, key });
    expect(exact).toMatchObject({
      reproduced: false,
      verdict: 'environment',
      inputUsed: 'sealed-raw',
      result: { score: 0.5 },
    });
    expect(exact.note).toBeUndefined();

    // The same loadModel with the production flag reproduces it: the flag is the difference.
    const prodLoad: LoadModel = () => make(true) as (input: unknown) => unknown;
    expect(await replay(records[0]!, { loadModel: prodLoad, key })).toMatchObject({
      reproduced: true,
      error: { name: 'RangeError' },
    });
  });

  it('notes when only the sanitized input missed a failure that the raw input reproduces', async () => {
    // Fails only on the exact text of a free-text field, which sanitizing replaces.
    const parse = (x: Txn) => ({ score: x.note.includes('§') ? Number.NaN : 1 });
    const records = await captureFailures(parse, [{ amount: 5, currency: 'EUR', note: 'weird § char' }], {
      modelVersion: 'v1',
      encryptionKey: key,
    });
    const load: LoadModel = () => parse as (input: unknown) => unknown;
    const sanitized = await replay(records[0]!, { loadModel: load });
    expect(sanitized).toMatchObject({ reproduced: false, inputUsed: 'sanitized', verdict: 'environment' });
    expect(sanitized.note).toMatch(/not conclusive/);
    expect(await replay(records[0]!, { loadModel: load, key })).toMatchObject({
      reproduced: true,
      inputUsed: 'sealed-raw',
      verdict: 'model-or-input',
    });
  });

  it('refuses a wrong key and reports a failing loadModel', async () => {
    const records = await captureFailures(models.v1!, [{ amount: -1, currency: 'EUR', note: '' }], {
      modelVersion: 'v1',
      encryptionKey: key,
    });
    const wrong = createHash('sha256').update('wrong').digest();
    await expect(replay(records[0]!, { loadModel, key: wrong })).rejects.toMatchObject({
      code: 'UNSEAL_FAILED',
    });
    await expect(replay(records[0]!, { loadModel, modelVersion: 'v9' })).rejects.toMatchObject({
      code: 'LOAD_MODEL_FAILED',
      message: expect.stringContaining('unknown model version v9'),
    });
    await expect(replay(records[0]!, { loadModel: () => 42 as never })).rejects.toThrow(
      /expected a predict function/,
    );
  });

  it('counts a predict call that never settles as a hang, and still answers', async () => {
    const [record] = await captureFailures(models.v1!, [{ amount: -3, currency: 'EUR', note: '' }], {
      modelVersion: 'v1',
    });
    const hangs: LoadModel = () => () => new Promise(() => {});
    const result = await replay(record!, { loadModel: hangs, timeoutMs: 50 });
    expect(result).toMatchObject({
      reproduced: true,
      sameFailure: false,
      verdict: 'model-or-input',
      error: { name: 'ReplayTimeout', message: 'predict did not settle within 50 ms' },
    });
    expect(result.durationMs).toBeGreaterThanOrEqual(45);
    expect(result.note).toMatch(/did not settle within 50 ms.*raise timeoutMs/);
    // A slow call that settles in time is an ordinary replay.
    const slow: LoadModel = (v) => async (x) => {
      await new Promise((r) => setTimeout(r, 20));
      return models[v]!(x as Txn);
    };
    const ok = await replay(record!, { loadModel: slow, timeoutMs: 5000 });
    expect(ok).toMatchObject({ reproduced: true, sameFailure: true, failureReason: 'output.score is NaN' });
    expect(ok.note).toBeUndefined();
    for (const timeoutMs of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      await expect(replay(record!, { loadModel, timeoutMs })).rejects.toMatchObject({
        code: 'INVALID_OPTIONS',
        message: expect.stringContaining('timeoutMs'),
      });
    }
    await expect(replayMany([record!], { loadModel: hangs, timeoutMs: 20 })).resolves.toMatchObject({
      results: [{ reproduced: true, error: { name: 'ReplayTimeout' } }],
    });
  });
});

describe('replayMany', () => {
  const inputs = Array.from({ length: 12 }, (_, i) => ({ amount: -(i + 1), currency: 'EUR', note: `n${i}` }));

  it('finds a planted shared-state bug that only shows under concurrency', async () => {
    // The bug: a module-level scratch object reused across an await (as a "buffer pool" might).
    const scratch = { amount: 0 };
    const racy = async (x: unknown) => {
      scratch.amount = (x as Txn).amount;
      await new Promise((r) => setImmediate(r)); // e.g. awaiting a feature-store lookup
      return { score: scratch.amount / 100 };
    };
    // Production: concurrent requests; a score above 1 is impossible, so it counts as a failure.
    const store = createMemoryCaptureStore();
    const wrapped = withCapture(racy, { store, modelVersion: 'v1', isFailure: (o) => o.score > 1 });
    const amounts = Array.from({ length: 12 }, (_, i) => (i + 1) * 10); // 10..120
    await Promise.all(amounts.map((amount) => wrapped({ amount, currency: 'EUR', note: '' })));
    await wrapped.flush();
    const records = await store.list();
    expect(records).toHaveLength(12); // every call read the last request's amount (120)

    const isFailure = (o: unknown) => (o as { score: number }).score > 1;
    const result = await replayMany(records, { loadModel: () => racy, concurrency: 4, isFailure });
    expect(result.unstable).toEqual([]);
    // Alone, only the amounts above 100 fail.
    const reproduced = result.results
      .filter((r) => r.reproduced)
      .map((r) => (r.result as { score: number }).score);
    expect(reproduced.sort()).toEqual([1.1, 1.2]);
    expect(result.raceSuspected).toBe(true);
    const d = result.differences[0]!;
    expect(d.sequential.result).not.toEqual(d.concurrent.result);
    expect(result.differences.length).toBeGreaterThanOrEqual(6);

    // The same model without shared state: no differences.
    const safe = async (x: unknown) => {
      const amount = (x as Txn).amount;
      await new Promise((r) => setImmediate(r));
      return { score: amount / 100 };
    };
    const clean = await replayMany(records, { loadModel: () => safe, concurrency: 4, isFailure });
    expect(clean).toMatchObject({ raceSuspected: false, differences: [], unstable: [] });
  });

  it('lists nondeterministic records as unstable instead of blaming concurrency', async () => {
    const records = await captureFailures(models.v1!, inputs.slice(0, 3), { modelVersion: 'v1' });
    let calls = 0;
    const counter = async () => ({ n: calls++ });
    const result = await replayMany(records, { loadModel: () => counter, concurrency: 3 });
    expect(result.unstable).toHaveLength(3);
    expect(result.differences).toEqual([]);
  });

  it('loads each model version once and validates options', async () => {
    const records = await captureFailures(models.v1!, inputs.slice(0, 4), { modelVersion: 'v1' });
    let loads = 0;
    const counting: LoadModel = (v) => {
      loads++;
      return loadModel(v);
    };
    const result = await replayMany(records, { loadModel: counting, rounds: 2 });
    expect(loads).toBe(1);
    expect(result.results.map((r) => r.reproduced)).toEqual([true, true, true, true]);
    await expect(replayMany(records, { loadModel, concurrency: 0 })).rejects.toThrow(/concurrency/);
  });
});
