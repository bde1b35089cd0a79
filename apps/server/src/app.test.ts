import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateTransactions } from '@prodprobe/fraud-model';
import { isSampled, readPredictionLogs } from '@prodprobe/logger';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadServerConfig, type ResolvedServerConfig } from './config.js';
import { type RunningService, startFraudService } from './serve.js';

const token = 'test-debug-token-0123456789';
let dataDir: string;
let service: RunningService;
const tx = generateTransactions(20, { seed: 3 }).map((r) => r.transaction);

const postTo = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${url}/predict`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
const post = (body: unknown, headers: Record<string, string> = {}) => postTo(service.url, body, headers);
const auth = { headers: { authorization: `Bearer ${token}` } };
/** GET a debug endpoint with the token, as JSON. */
const debugJson = async <T>(s: RunningService, path: string): Promise<T> =>
  (await (await fetch(`${s.url}${path}`, auth)).json()) as T;

/**
 * Runs `fn` on a fresh staging service with its own data folder (`prepare` may plant files in it
 * first), then closes the service and removes the folder.
 */
async function withService(
  overrides: Partial<ResolvedServerConfig>,
  fn: (s: RunningService) => Promise<void>,
  prepare?: (dir: string) => void,
): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'prodprobe-server-'));
  prepare?.(dir);
  const s = await startFraudService(loadServerConfig('staging', { dataDir: dir, ...overrides }));
  try {
    await fn(s);
  } finally {
    await s.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'prodprobe-server-'));
  service = await startFraudService(
    loadServerConfig('staging', { dataDir, debugToken: token, logSampleRate: 1 }),
  );
});

afterAll(async () => {
  await service?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('demo fraud service', () => {
  it('binds to loopback and answers /healthz', async () => {
    expect(new URL(service.url).hostname).toBe('127.0.0.1');
    const res = await fetch(`${service.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ok', env: 'staging', modelVersion: 'fraud-v1' });
  });

  it('predicts one transaction and echoes the request id and model version', async () => {
    const res = await post(tx[0], { 'x-request-id': 'req-one' });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toBe('req-one');
    const body = (await res.json()) as {
      requestId: string;
      modelVersion: string;
      fraudProbability: number;
      isFraud: boolean;
    };
    expect(body.requestId).toBe('req-one');
    expect(body.modelVersion).toBe('fraud-v1');
    expect(body.fraudProbability).toBeGreaterThanOrEqual(0);
    expect(body.fraudProbability).toBeLessThanOrEqual(1);
    expect(body.isFraud).toBe(body.fraudProbability >= 0.5);
  });

  it('predicts a batch, one answer per transaction, same as one by one', async () => {
    const res = await post({ batch: tx.slice(0, 5) });
    expect(res.status).toBe(200);
    const { predictions } = (await res.json()) as { predictions: { fraudProbability: number }[] };
    expect(predictions).toHaveLength(5);
    const single = (await (await post(tx[3])).json()) as { fraudProbability: number };
    expect(predictions[3]!.fraudProbability).toBeCloseTo(single.fraudProbability, 6);
  });

  it('rejects invalid input with 400 naming the field paths', async () => {
    const res = await post({ batch: [tx[0], { ...tx[1], hour_of_day: 31, country: 7 }] });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: string; issues: { path: string }[] };
    expect(body.error).toBe('ValidationError');
    expect(body.issues.map((i) => i.path).sort()).toEqual(['batch.1.country', 'batch.1.hour_of_day']);
  });

  it('a "NaN" amount passes the lenient validation, comes back null and is captured', async () => {
    const res = await post({ ...tx[2], amount: 'NaN' }, { 'x-request-id': 'req-nan' });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { fraudProbability: unknown }).fraudProbability).toBeNull();
    await service.close();
    const records = await service.observability!.captureStore.list();
    const captured = records.find((r) => r.requestId === 'req-nan');
    expect(captured).toBeDefined();
    // The raw body as sent (sanitized): the string "NaN" that validation let through.
    expect((captured!.input as { amount: unknown }).amount).toBe('NaN');
    expect((captured!.input as { payment_method: unknown }).payment_method).toBe(tx[2]!.payment_method);
    // Graceful shutdown flushed the logs: the failure is there, as an error entry.
    const logs = await readPredictionLogs(join(dataDir, 'logs'));
    const entry = logs.entries.find((e) => e.requestId === 'req-nan');
    expect(entry?.error?.name).toBe('NonFiniteOutput');
    expect(readdirSync(join(dataDir, 'captures')).length).toBeGreaterThan(0);
    service = await startFraudService(
      loadServerConfig('staging', { dataDir, debugToken: token, logSampleRate: 1 }),
    );
  });

  it('debug endpoints need the bearer token', async () => {
    expect((await fetch(`${service.url}/debug/env`)).status).toBe(401);
    expect(
      (await fetch(`${service.url}/debug/env`, { headers: { authorization: 'Bearer wrong' } })).status,
    ).toBe(401);
    const res = await fetch(`${service.url}/debug/env`, auth);
    expect(res.status).toBe(200);
    const snap = (await res.json()) as { label: string; fingerprint: string };
    expect(snap.label).toBe('staging');
    expect(JSON.stringify(snap)).not.toContain('staging-key-not-a-real-secret');
    await post(tx[4]);
    const drift = await fetch(`${service.url}/debug/drift`, auth);
    expect(drift.status).toBe(200);
    expect(((await drift.json()) as { fields: unknown[] }).fields.length).toBeGreaterThan(0);
  });

  it('a bounded request history stays at its size; an unbounded one grows (the leak)', async () => {
    const sizes: Record<string, { entries: number; retainedBytes: number }> = {};
    for (const maxEntries of [3, null]) {
      await withService(
        { debugToken: token, requestHistory: { maxEntries, entryBytes: 1024 } },
        async (s) => {
          for (const t of tx.slice(0, 8)) expect((await postTo(s.url, t)).status).toBe(200);
          sizes[String(maxEntries)] = await debugJson(s, '/debug/history');
        },
      );
    }
    expect(sizes['3']).toEqual({ entries: 3, retainedBytes: 3 * 1024 });
    expect(sizes.null).toEqual({ entries: 8, retainedBytes: 8 * 1024 });
  });

  it('debug endpoints are off when no token is configured', async () => {
    await withService({}, async (plain) => {
      expect((await fetch(`${plain.url}/debug/env`)).status).toBe(404);
    });
  });

  it('/debug/instrumentation counts captures and log entries, and a capture store that cannot write without failing a request', async () => {
    await withService(
      { debugToken: token, logSampleRate: 1 },
      async (s) => {
        expect((await postTo(s.url, tx[0])).status).toBe(200);
        // A failing prediction: answered (null), its capture fails to store.
        expect((await postTo(s.url, { ...tx[1], amount: 'NaN' })).status).toBe(200);
        await s.flush();
        const health = await debugJson<{
          capture: { failures: number; written: number; failed: number };
          logger: { logged: number; errors: number };
          errors: number;
          lastError: string | null;
        }>(s, '/debug/instrumentation');
        expect(health.capture).toMatchObject({ failures: 1, written: 0, failed: 1 });
        expect(health.logger).toMatchObject({ logged: 2, errors: 1 });
        expect(health.errors).toBe(1);
        expect(health.lastError).toMatch(/captures/);
        expect((await fetch(`${s.url}/debug/instrumentation`)).status).toBe(401);
      },
      // A file where the capture folder should be: every capture write fails (ENOTDIR).
      (dir) => writeFileSync(join(dir, 'captures'), 'not a folder'),
    );
  });

  it('logSerializeInWorker logs through the worker thread: every kept entry, no instrumentation error', async () => {
    await withService({ debugToken: token, logSampleRate: 1, logSerializeInWorker: true }, async (s) => {
      for (const t of tx.slice(0, 20)) expect((await postTo(s.url, t)).status).toBe(200);
      // Written in the background, without flush() (which would serialize on the event loop
      // what the worker has not sent back yet).
      type Health = { logger: { kept: number; written: number; serializedInWorker: number }; errors: number };
      let health = await debugJson<Health>(s, '/debug/instrumentation');
      for (let i = 0; health.logger.written < 20 && i < 200; i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        health = await debugJson<Health>(s, '/debug/instrumentation');
      }
      expect(health).toMatchObject({ logger: { kept: 20, written: 20, serializedInWorker: 20 }, errors: 0 });
      const logs = await readPredictionLogs(join(s.config.dataDir, 'logs'));
      expect(new Set(logs.entries.map((e) => e.requestId)).size).toBe(20);
      expect(logs.entries[0]!.input).toMatchObject({ country: tx[0]!.country });
    });
  });

  it('/debug/drift profiles the requests the log sampler picks, failures in their true share', async () => {
    await withService({ debugToken: token, logSampleRate: 0.3 }, async (s) => {
      const empty = await debugJson<{ error: string }>(s, '/debug/drift');
      expect(empty.error).toMatch(/no sampled requests since/);
      // 60 requests, every third one failing ("NaN" amount): all 20 failures are logged.
      const ids = Array.from({ length: 60 }, (_, i) => `drift-${i}`);
      for (const [i, id] of ids.entries()) {
        const body = i % 3 === 0 ? { ...tx[i % 20], amount: 'NaN' } : tx[i % 20];
        expect((await postTo(s.url, body, { 'x-request-id': id })).status).toBe(200);
      }
      const report = await debugJson<{ fields: { name: string; current: { rows: number } }[] }>(
        s,
        '/debug/drift',
      );
      const sampled = ids.filter((id) => isSampled(id, 0.3));
      const logged = ids.filter((id, i) => i % 3 === 0 || isSampled(id, 0.3));
      expect(logged.length).toBeGreaterThan(sampled.length);
      expect(report.fields.find((f) => f.name === 'country')!.current.rows).toBe(sampled.length);
    });
  });

  it('/debug/drift covers the current window and the one before, not everything since the start', async () => {
    // 300 ms windows, so the test can wait two of them out.
    await withService({ debugToken: token, logSampleRate: 1, driftWindowMinutes: 0.005 }, async (s) => {
      const sampled = async () =>
        (await debugJson<{ window: { sampledRequests: number } }>(s, '/debug/drift')).window.sampledRequests;
      for (const t of tx.slice(0, 5)) expect((await postTo(s.url, t)).status).toBe(200);
      expect(await sampled()).toBe(5);
      await new Promise((resolve) => setTimeout(resolve, 700));
      for (const t of tx.slice(5, 8)) expect((await postTo(s.url, t)).status).toBe(200);
      // The first five are more than two windows old.
      expect(await sampled()).toBe(3);
    });
  });
});
