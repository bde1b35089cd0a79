import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createPredictionLogger } from './logger.js';
import { readPredictionLogs } from './read.js';
import { isSampled, sampleUnit, scanUniformSample, uniformSample } from './sampling.js';

/** An independent, byte-at-a-time murmur3_32 (seed 0) over the bytes `Buffer.from(id, 'utf8')` gives. */
function reference(id: string): number {
  const bytes = Buffer.from(id, 'utf8');
  const mul = (a: bigint, b: bigint) => (a * b) & 0xffffffffn;
  const rotl = (x: bigint, r: bigint) => ((x << r) | (x >> (32n - r))) & 0xffffffffn;
  let h = 0n;
  const blocks = Math.floor(bytes.length / 4);
  for (let b = 0; b < blocks; b++) {
    let k = BigInt(bytes.readUInt32LE(b * 4));
    k = mul(rotl(mul(k, 0xcc9e2d51n), 15n), 0x1b873593n);
    h = (mul(rotl(h ^ k, 13n), 5n) + 0xe6546b64n) & 0xffffffffn;
  }
  let k = 0n;
  for (let j = bytes.length - 1; j >= blocks * 4; j--) k = (k << 8n) | BigInt(bytes[j] as number);
  if (bytes.length % 4 !== 0) h ^= mul(rotl(mul(k, 0xcc9e2d51n), 15n), 0x1b873593n);
  h ^= BigInt(bytes.length);
  h ^= h >> 16n;
  h = mul(h, 0x85ebca6bn);
  h ^= h >> 13n;
  h = mul(h, 0xc2b2ae35n);
  h ^= h >> 16n;
  return Number(h) / 2 ** 32;
}

describe('sampleUnit', () => {
  it('matches the documented spec on ASCII, multi-byte, astral and lone-surrogate ids', () => {
    const ids = [
      '',
      'a',
      'ab',
      'abc',
      'abcd',
      'req-1',
      'req-42',
      'héllo',
      'abcé',
      '日本語',
      '😀x',
      '\ud800x',
      'x\udc00',
      'a'.repeat(301),
    ];
    for (const id of ids) expect(sampleUnit(id), id).toBe(reference(id));
  });

  it('is murmur3_32 with seed 0: the published test vectors', () => {
    expect(sampleUnit('') * 2 ** 32).toBe(0);
    expect(sampleUnit('hello') * 2 ** 32).toBe(0x248bfa47);
    expect(sampleUnit('The quick brown fox jumps over the lazy dog') * 2 ** 32).toBe(0x2e4ff723);
  });

  it('is uniform on sequential ids: kept share within 1% of the rate', () => {
    const n = 100_000;
    for (const rate of [0.01, 0.1, 0.5]) {
      let kept = 0;
      for (let i = 0; i < n; i++) if (isSampled(`req-${i}`, rate)) kept++;
      expect(Math.abs(kept / n - rate)).toBeLessThan(0.01);
    }
    // Deciles of u are balanced too (no band of the unit interval is favoured).
    const deciles = new Array<number>(10).fill(0);
    for (let i = 0; i < n; i++) {
      const d = Math.floor(sampleUnit(`order-${i}`) * 10);
      deciles[d] = (deciles[d] ?? 0) + 1;
    }
    for (const count of deciles) expect(Math.abs(count / n - 0.1)).toBeLessThan(0.01);
  });

  it('keeps nested samples: an id kept at rate r is kept at every higher rate', () => {
    for (let i = 0; i < 5000; i++) {
      const id = `r${i}`;
      if (isSampled(id, 0.1)) expect(isSampled(id, 0.3)).toBe(true);
    }
  });
});

describe('sampling in the logger', () => {
  const root = mkdtempSync(join(tmpdir(), 'pp-logger-sampling-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('keeps the same request ids in two independent loggers (two services)', async () => {
    const ids = Array.from({ length: 2000 }, (_, i) => `shared-${i}`);
    const kept: string[][] = [];
    for (const name of ['a', 'b']) {
      const dir = join(root, name);
      const logger = createPredictionLogger({ dir, sampleRate: 0.2, modelVersion: name, host: name });
      for (const requestId of ids) logger.log({ requestId, input: { x: 1 }, output: 0.5, latencyMs: 1 });
      await logger.close();
      const logs = await readPredictionLogs(dir);
      kept.push(logs.entries.map((e) => e.requestId).sort());
      for (const e of logs.entries) expect(e.samplingWeight).toBe(5);
    }
    expect(kept[0]).toEqual(kept[1]);
    expect(kept[0]).toEqual(ids.filter((id) => sampleUnit(id) < 0.2).sort());
    expect((kept[0] ?? []).length).toBeGreaterThan(300);
  });

  it('uniformSample: the logged requests the sampler picked, errors in their true share', async () => {
    // 4,000 requests, 1 in 8 fails (those with x = 0); every error is logged, successes at 10%.
    const dir = join(root, 'uniform');
    const logger = createPredictionLogger({ dir, sampleRate: 0.1, modelVersion: 'm', host: 'h' });
    const ids = Array.from({ length: 4000 }, (_, i) => `u-${i}`);
    ids.forEach((requestId, i) => {
      const x = i % 8;
      logger.log({
        requestId,
        input: { x },
        ...(x === 0 ? { error: new Error('boom') } : { output: 0.5 }),
        latencyMs: 1,
      });
    });
    await logger.close();
    const { entries } = await readPredictionLogs(dir);
    const errors = entries.filter((e) => !e.ok).length;
    // Over all entries the failures are more than half: nothing like their 1/8 share of traffic.
    expect(errors).toBe(500);
    expect(errors / entries.length).toBeGreaterThan(0.5);

    const sample = uniformSample(entries);
    expect(sample.rate).toBe(0.1);
    expect(sample.unknownRate).toBe(0);
    // Exactly the requests the sampler picks, whatever their outcome.
    expect(sample.entries.map((e) => e.requestId)).toEqual(ids.filter((id) => isSampled(id, 0.1)));
    expect(sample.leftOut).toBe(entries.length - sample.entries.length);
    const sampledErrors = sample.entries.filter((e) => !e.ok).length;
    expect(Math.abs(sampledErrors / sample.entries.length - 1 / 8)).toBeLessThan(0.04);

    // The streaming scan over the folder finds the same sample without holding the entries.
    const streamed: string[] = [];
    const counts = await scanUniformSample(dir, (e) => streamed.push(e.requestId));
    expect(streamed).toEqual(sample.entries.map((e) => e.requestId));
    expect(counts).toMatchObject({
      rate: 0.1,
      entries: entries.length,
      sampled: sample.entries.length,
      leftOut: sample.leftOut,
      unknownRate: 0,
      tornLines: 0,
      invalidLines: 0,
    });
  });

  it('scanUniformSample of an errors-only log (sample rate 0): no rate, every entry of unknown rate, nothing sampled', async () => {
    const dir = join(root, 'errors-only');
    const logger = createPredictionLogger({ dir, sampleRate: 0, modelVersion: 'm' });
    for (let i = 0; i < 30; i++)
      logger.log({
        requestId: `r-${i}`,
        input: { i },
        ...(i % 3 === 0 ? { error: new Error('boom') } : { output: 1 }),
        latencyMs: 1,
      });
    await logger.close();
    const streamed: string[] = [];
    const counts = await scanUniformSample(dir, (e) => streamed.push(e.requestId));
    const { entries } = await readPredictionLogs(dir);
    expect(entries).toHaveLength(10);
    const { entries: _, ...inMemory } = uniformSample(entries);
    expect(streamed).toEqual([]);
    expect(counts).toEqual({ ...inMemory, entries: 10, files: 1, tornLines: 0, invalidLines: 0 });
    expect(counts).toMatchObject({ rate: null, sampled: 0, leftOut: 0, unknownRate: 10 });
  });

  it('uniformSample: several rates sample at the lowest (ids kept at it are kept at every rate); no sampled success, no rate', () => {
    const entry = (requestId: string, host: string, keptBy: string, samplingWeight: number) => ({
      requestId,
      host,
      pid: 1,
      keptBy,
      samplingWeight,
    });
    const ids = Array.from({ length: 400 }, (_, i) => `p-${i}`);
    const entries = [
      // Host a samples 50%, host b 10%; host c logged only errors (sample rate 0).
      ...ids.filter((id) => isSampled(id, 0.5)).map((id) => entry(id, 'a', 'sample', 2)),
      ...ids.slice(0, 100).map((id) => entry(id, 'a', 'error', 1)),
      ...ids.filter((id) => isSampled(id, 0.1)).map((id) => entry(id, 'b', 'sample', 10)),
      ...ids.slice(0, 100).map((id) => entry(id, 'b', 'latency', 1)),
      ...ids.slice(0, 7).map((id) => entry(id, 'c', 'error', 1)),
    ];
    const sample = uniformSample(entries);
    expect(sample.rate).toBe(0.1);
    expect(sample.unknownRate).toBe(7);
    const kept = (host: string, keptBy: string) =>
      sample.entries.filter((e) => e.host === host && e.keptBy === keptBy).map((e) => e.requestId);
    // Both hosts at 10%, whatever they logged at.
    expect(kept('a', 'sample')).toEqual(ids.filter((id) => isSampled(id, 0.1)));
    expect(kept('a', 'error')).toEqual(ids.slice(0, 100).filter((id) => isSampled(id, 0.1)));
    expect(kept('b', 'sample')).toEqual(ids.filter((id) => isSampled(id, 0.1)));
    expect(kept('b', 'latency')).toEqual(ids.slice(0, 100).filter((id) => isSampled(id, 0.1)));
    expect(sample.entries.length + sample.leftOut + sample.unknownRate).toBe(entries.length);
    expect(uniformSample(entries.filter((e) => e.host === 'c'))).toMatchObject({ rate: null, entries: [] });
  });
});
