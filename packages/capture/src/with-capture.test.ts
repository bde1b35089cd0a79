import { encode, inputHash } from '@prodprobe/sanitize';
import { describe, expect, it } from 'vitest';
import { defaultIsFailure } from './bad-output.js';
import { CaptureError } from './errors.js';
import type { CaptureRecord } from './record.js';
import { unsealInput } from './seal.js';
import { type CaptureStore, createMemoryCaptureStore } from './store.js';
import { type SettledCall, withCapture } from './with-capture.js';

const input = { user: { email: 'jane.doe@example.com', age: 41 }, amount: 123.456, items: [1, 2, 3] };

function score(x: typeof input): { score: number } {
  return { score: x.amount / (x.user.age - 41) }; // age 41 → Infinity
}

describe('withCapture', () => {
  it('keeps a sync predict sync and returns its value unchanged', async () => {
    const store = createMemoryCaptureStore();
    const predict = withCapture((x: { a: number }) => ({ y: x.a * 2 }), { store, modelVersion: 'm1' });
    const out = predict({ a: 2 });
    expect(out).toEqual({ y: 4 });
    expect(out).not.toBeInstanceOf(Promise);
    await predict.flush();
    expect(store.size).toBe(0);
    expect(predict.stats()).toEqual({ failures: 0, written: 0, failed: 0, dropped: 0, pending: 0 });
  });

  it('passes `this` and every argument through and keeps name and length', () => {
    const store = createMemoryCaptureStore();
    const model = {
      factor: 3,
      predict(this: { factor: number }, a: number, b: number) {
        return this.factor * a + b;
      },
    };
    const wrapped = withCapture(model.predict, { store, modelVersion: 'm1' });
    expect(wrapped.call(model, 2, 1)).toBe(7);
    expect(wrapped.name).toBe('predict');
    expect(wrapped.length).toBe(2);
  });

  it('captures a bad output (non-finite number) with sanitized input and hash of the raw input', async () => {
    const store = createMemoryCaptureStore();
    const predict = withCapture(score, {
      store,
      modelVersion: 'fraud-1.2.0',
      requestId: () => 'req-42',
      environment: () => ({ region: 'eu-west-1' }),
    });
    const out = predict(input);
    expect(out.score).toBe(Number.POSITIVE_INFINITY); // the caller still sees the output
    expect(store.size).toBe(0); // written off the call path, not inside it
    await predict.flush();
    const [record] = await store.list();
    expect(record).toBeDefined();
    const r = record as CaptureRecord;
    expect(r.schemaVersion).toBe(1);
    expect(r.requestId).toBe('req-42');
    expect(r.modelVersion).toBe('fraud-1.2.0');
    expect(r.inputHash).toBe(inputHash(input));
    expect(r.failure).toEqual({
      kind: 'bad-output',
      reason: 'output.score is Infinity',
      output: { score: Infinity },
    });
    expect(JSON.stringify(r)).not.toContain('jane.doe');
    expect(r.input).toMatchObject({ user: { age: 41 }, items: [1, 2, 3] }); // structure kept
    expect(r.sealedInput).toBeUndefined(); // no key → raw input never stored
    expect(r.environment).toMatchObject({ region: 'eu-west-1', node: process.version });
    expect(Date.parse(r.timestamp)).toBeGreaterThan(0);
    expect(predict.stats()).toMatchObject({ failures: 1, written: 1, failed: 0, pending: 0 });
  });

  it('captures and rethrows the very same error from a sync predict', async () => {
    const store = createMemoryCaptureStore();
    const boom = new RangeError('feature amount out of range');
    const predict = withCapture(
      (_x: unknown): number => {
        throw boom;
      },
      { store, modelVersion: 'm1' },
    );
    let caught: unknown;
    try {
      predict({ amount: -1 });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBe(boom);
    await predict.flush();
    const [r] = await store.list();
    expect(r?.failure).toMatchObject({
      kind: 'error',
      error: { name: 'RangeError', message: 'feature amount out of range' },
    });
    expect(r?.failure.kind === 'error' && r.failure.error.stack).toContain('RangeError');
  });

  it('redacts PII and secrets in the captured error message and stack; the caller gets the error untouched', async () => {
    const store = createMemoryCaptureStore();
    const message = 'no user jane.doe@example.com; connect postgres://app:hunter22@db/x failed';
    const boom = new Error(message);
    const predict = withCapture(
      (_x: unknown): number => {
        throw boom;
      },
      { store, modelVersion: 'm1' },
    );
    expect(() => predict({ a: 1 })).toThrow(message);
    await predict.flush();
    const [r] = await store.list();
    const captured = r?.failure.kind === 'error' ? r.failure.error : undefined;
    expect(captured?.message).toBe('no user <EMAIL>; connect postgres://app:<SECRET>@db/x failed');
    expect(captured?.stack).not.toMatch(/jane|hunter22/);
    expect(boom.message).toBe(message);
  });

  it('wraps an async predict: same resolved value, same rejection, failures captured', async () => {
    const store = createMemoryCaptureStore();
    const predict = withCapture(
      async (x: { a: number }) => {
        await new Promise((r) => setImmediate(r));
        if (x.a < 0) throw new TypeError('negative');
        return x.a === 0 ? Number.NaN : x.a;
      },
      { store, modelVersion: 'm2' },
    );
    await expect(predict({ a: 5 })).resolves.toBe(5);
    await expect(predict({ a: 0 })).resolves.toBeNaN();
    await expect(predict({ a: -1 })).rejects.toThrow(TypeError);
    await predict.flush();
    const records = await store.list();
    expect(records.map((r) => r.failure.kind).sort()).toEqual(['bad-output', 'error']);
    expect(records.find((r) => r.failure.kind === 'bad-output')?.failure).toMatchObject({
      reason: 'output is NaN',
    });
  });

  it("hands back an async predict's own promise, checked before the caller resumes, with every argument kept", async () => {
    const store = createMemoryCaptureStore();
    const seen: unknown[][] = [];
    const predict = withCapture(
      async (...args: unknown[]) => {
        await new Promise((r) => setImmediate(r));
        if (args.length === 0) throw new Error('no arguments');
        return args.length === 3 ? Number.NaN : args.length;
      },
      { store, modelVersion: 'm2', selectInput: (args) => args, onSettled: (call) => seen.push(call.args) },
    );
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const pending = Promise.resolve(41);
      const same = withCapture((x: number) => (x > 0 ? pending : Promise.resolve(0)), {
        store,
        modelVersion: 'm2',
      });
      expect(same(1)).toBe(pending);
      expect(await predict(7, 8)).toBe(2);
      expect(await predict(7, 8, 9)).toBeNaN();
      // The bad output was judged and queued before this line ran.
      expect(predict.stats().failures).toBe(1);
      await expect(predict()).rejects.toThrow('no arguments');
      expect(predict.stats().failures).toBe(2);
      expect(await predict(1, 2, 3, 4)).toBe(4);
      await predict.flush();
      await new Promise((r) => setImmediate(r));
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
    expect(unhandled).toEqual([]);
    expect(seen).toEqual([[7, 8], [7, 8, 9], [], [1, 2, 3, 4]]);
    const inputs = (await store.list()).map((r) => r.input);
    expect(inputs).toContainEqual([7, 8, 9]);
    expect(inputs).toContainEqual([]);
  });

  it('awaits a thenable that is not a native promise once and returns a promise of its outcome', async () => {
    const store = createMemoryCaptureStore();
    let calls = 0;
    const thenable = {
      // biome-ignore lint/suspicious/noThenProperty: the point of the test is a hand-made thenable
      then(resolve: (v: number) => void) {
        calls++;
        resolve(Number.POSITIVE_INFINITY);
      },
    };
    const predict = withCapture((_x: number) => thenable as unknown as Promise<number>, {
      store,
      modelVersion: 'm2',
    });
    const out = predict(1);
    expect(out).toBeInstanceOf(Promise);
    expect(await out).toBe(Number.POSITIVE_INFINITY);
    expect(calls).toBe(1);
    expect(predict.stats().failures).toBe(1);
  });

  it('uses a custom isFailure (boolean or reason string)', async () => {
    const store = createMemoryCaptureStore();
    const predict = withCapture((x: number) => ({ label: x > 0 ? 'ok' : 'unknown' }), {
      store,
      modelVersion: 'm1',
      isFailure: (out) => (out.label === 'unknown' ? 'label is unknown' : false),
    });
    predict(1);
    predict(-1);
    await predict.flush();
    const records = await store.list();
    expect(records).toHaveLength(1);
    expect(records[0]?.failure).toMatchObject({ kind: 'bad-output', reason: 'label is unknown' });
  });

  it('never lets a failing store, throwing hooks or a full queue reach the caller', async () => {
    const errors: unknown[] = [];
    const failing: CaptureStore = {
      write: async () => {
        throw new Error('disk full');
      },
      list: async () => [],
      get: async () => undefined,
    };
    const predict = withCapture((x: number) => (x > 0 ? x : null), {
      store: failing,
      modelVersion: 'm1',
      onError: (error) => {
        errors.push(error);
        throw new Error('onError itself throws');
      },
      environment: () => {
        throw new Error('env hook broken');
      },
    });
    expect(predict(-1)).toBeNull();
    expect(predict(2)).toBe(2);
    await predict.flush();
    expect(predict.stats()).toMatchObject({ failures: 1, written: 0, failed: 1, pending: 0 });
    expect((errors[0] as Error).message).toBe('disk full');

    const syncThrowing: CaptureStore = {
      ...failing,
      write: () => {
        throw new Error('sync throw');
      },
    };
    const p2 = withCapture((_x: number) => Number.NaN, { store: syncThrowing, modelVersion: 'm1' });
    expect(p2(1)).toBeNaN();
    await p2.flush();
    expect(p2.stats().failed).toBe(1);

    const isFailureThrows = withCapture((x: number) => x, {
      store: createMemoryCaptureStore(),
      modelVersion: 'm1',
      isFailure: () => {
        throw new Error('bad check');
      },
    });
    expect(isFailureThrows(3)).toBe(3);
    expect(isFailureThrows.stats().failed).toBe(1);
  });

  it('stores the selected argument of a multi-argument predict and survives a broken requestId hook', async () => {
    const store = createMemoryCaptureStore();
    const predict = withCapture(
      (_ctx: { tenant: string }, features: { n: number }, _extra?: boolean) => {
        if (features.n > 10) throw new Error('too many');
        return features.n;
      },
      {
        store,
        modelVersion: 'm1',
        selectInput: (args) => args[1],
        requestId: () => {
          throw new Error('no header');
        },
      },
    );
    expect(predict({ tenant: 't' }, { n: 3 }, true)).toBe(3);
    expect(() => predict({ tenant: 't' }, { n: 12 })).toThrow('too many');
    await predict.flush();
    const [r] = await store.list();
    expect(r?.input).toEqual({ n: 12 });
    expect(r?.inputHash).toBe(inputHash({ n: 12 }));
    expect(r?.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('drops and counts records beyond maxPending', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const inner = createMemoryCaptureStore();
    const slow: CaptureStore = {
      ...inner,
      write: async (r) => {
        await gate;
        await inner.write(r);
      },
    };
    const predict = withCapture((_x: number) => null, { store: slow, modelVersion: 'm1', maxPending: 3 });
    for (let i = 0; i < 5; i++) predict(i);
    expect(predict.stats()).toMatchObject({ failures: 5, dropped: 2, pending: 3 });
    release();
    await predict.flush();
    expect(predict.stats()).toMatchObject({ written: 3, dropped: 2, pending: 0 });
    expect(inner.size).toBe(3);
  });

  it('seals the raw input with a key so it can be recovered exactly', async () => {
    const key = new Uint8Array(32).fill(7);
    const store = createMemoryCaptureStore();
    const raw = { email: 'a@b.co', x: Number.NaN, n: 10n, when: new Date(0) };
    const predict = withCapture((_x: typeof raw) => undefined, {
      store,
      modelVersion: 'm1',
      encryptionKey: key,
    });
    predict(raw);
    await predict.flush();
    const [r] = await store.list();
    expect(r?.sealedInput?.alg).toBe('aes-256-gcm');
    expect(encode(r)).not.toContain('a@b.co');
    expect(unsealInput(r!.sealedInput!, key)).toEqual(raw);
  });

  it('rejects bad options at wrap time', () => {
    const store = createMemoryCaptureStore();
    const f = (x: number) => x;
    expect(() => withCapture(f, { store, modelVersion: '' })).toThrow(/modelVersion/);
    expect(() => withCapture(f, { store: {} as CaptureStore, modelVersion: 'm' })).toThrow(/store/);
    expect(() => withCapture(f, { store, modelVersion: 'm', encryptionKey: new Uint8Array(16) })).toThrow(
      /32 bytes.*16 bytes/,
    );
    expect(() => withCapture(f, { store, modelVersion: 'm', maxPending: 0 })).toThrow(CaptureError);
    expect(() =>
      withCapture(f, { store, modelVersion: 'm', onSettled: 'log' as unknown as () => void }),
    ).toThrow(/options\.onSettled: expected a function/);
  });

  describe('onSettled', () => {
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

    it('sees every call once, after the failure check, with its outcome and duration (async)', async () => {
      const store = createMemoryCaptureStore();
      const calls: SettledCall[] = [];
      const predict = withCapture(
        async (x: number, id: string) => {
          await sleep(20);
          if (x < 0) throw new RangeError(`negative ${id}`);
          return { score: x === 0 ? Number.NaN : x };
        },
        { store, modelVersion: 'm1', onSettled: (call) => calls.push(call) },
      );
      await expect(predict(2, 'a')).resolves.toEqual({ score: 2 });
      await expect(predict(0, 'b')).resolves.toEqual({ score: Number.NaN });
      const error = await predict(-1, 'c').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RangeError);
      expect(calls.map((c) => [c.args, c.threw, c.failure])).toEqual([
        [[2, 'a'], false, undefined],
        [[0, 'b'], false, 'output.score is NaN'],
        [[-1, 'c'], true, undefined],
      ]);
      expect(calls[0]!.output).toEqual({ score: 2 });
      expect(calls[2]!.error).toBe(error);
      expect(calls[2]!.output).toBeUndefined();
      for (const c of calls) expect(c.latencyMs).toBeGreaterThanOrEqual(15);
      await predict.flush();
      expect(store.size).toBe(2);
    });

    it('sees sync calls too, and the caller still gets what predict returned or threw', () => {
      const store = createMemoryCaptureStore();
      const calls: SettledCall[] = [];
      const predict = withCapture(
        (x: number) => {
          if (x > 9) throw new Error('too big');
          return x * 2;
        },
        { store, modelVersion: 'm1', onSettled: (call) => calls.push(call) },
      );
      expect(predict(3)).toBe(6);
      expect(() => predict(10)).toThrow('too big');
      expect(calls.map((c) => [c.args, c.output, c.threw, c.failure])).toEqual([
        [[3], 6, false, undefined],
        [[10], undefined, true, undefined],
      ]);
    });

    it('a throwing onSettled goes to onError, never to the caller', async () => {
      const store = createMemoryCaptureStore();
      const reported: unknown[] = [];
      const predict = withCapture(async (x: number) => x + 1, {
        store,
        modelVersion: 'm1',
        onSettled: () => {
          throw new Error('logger broke');
        },
        onError: (e) => reported.push(e),
      });
      await expect(predict(1)).resolves.toBe(2);
      expect(String(reported[0])).toContain('logger broke');
    });
  });
});

describe('defaultIsFailure', () => {
  it('flags null, undefined and non-finite numbers anywhere, with the path', () => {
    expect(defaultIsFailure(null)).toBe('output is null');
    expect(defaultIsFailure(undefined)).toBe('output is undefined');
    expect(defaultIsFailure(-Infinity)).toBe('output is -Infinity');
    expect(defaultIsFailure({ a: [1, { 'b-c': Number.NaN }] })).toBe('output.a[1]["b-c"] is NaN');
    expect(defaultIsFailure(new Float32Array([1, Number.POSITIVE_INFINITY]))).toBe('output[1] is Infinity');
    expect(defaultIsFailure({ probs: [0.1, 0.9], label: 'fraud', extra: null })).toBeUndefined();
    expect(defaultIsFailure(0)).toBeUndefined();
    expect(defaultIsFailure('text')).toBeUndefined();
  });

  it('stays bounded on cyclic and very large outputs', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    expect(defaultIsFailure(cyclic)).toBeUndefined();
    const big = new Array(50_000).fill(1);
    big[49_999] = Number.NaN; // beyond the 10,000-value budget: not judged
    expect(defaultIsFailure(big)).toBeUndefined();
  });
});
