import { beforeAll, describe, expect, it } from 'vitest';
import type { ScenarioResult } from '../src/scenario.js';
import { diagnose, evidenceOf, expectTopCause, type Report, scenario } from './helpers.js';

// Production's blob store serves 4% of the keys from a tier that takes 400 ms a read.
let run: ScenarioResult;
let report: Report;
beforeAll(async () => {
  run = await scenario(['slow-blobs']);
  report = await diagnose(run);
});

describe('a slow data source', () => {
  it('nothing fails, but production has a slow tail', () => {
    expect(run.production.traffic.failed + run.staging.traffic.failed).toBe(0);
    const sorted = [...run.production.traffic.latenciesMs].sort((a, b) => a - b);
    expect(sorted[Math.floor(0.99 * sorted.length)]!).toBeGreaterThan(400);
  });

  it('diagnose ranks the slow stage first: the p99 requests spend their time fetching from the blob store', () => {
    const top = expectTopCause(report, 'slow-stage');
    expect(top.confidence).toBe('high');
    expect(top.title).toBe('Slow stage image (data source blob-store): p99 latency is spent there');
    expect(evidenceOf(top)).toMatch(/Those requests spend (\d+)% of their time in image/);
    const share = Number(/spend (\d+)% of their time in image/.exec(evidenceOf(top))![1]);
    expect(share).toBeGreaterThanOrEqual(70);
    expect(evidenceOf(top)).toMatch(
      /blob-store reads \(all\): p50 [\d.]+ ms, p99 (4\d\d|[5-9]\d\d|\d{4,}) ms/,
    );
  });
});
