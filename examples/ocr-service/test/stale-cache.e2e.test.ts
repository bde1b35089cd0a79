import { beforeAll, describe, expect, it } from 'vitest';
import type { ScenarioResult } from '../src/scenario.js';
import { diagnose, evidenceOf, expectTopCause, type Report, scenario } from './helpers.js';

// Production's disk tensor cache holds entries of the previous release's format (v1, one channel).
let run: ScenarioResult;
let report: Report;
beforeAll(async () => {
  run = await scenario(['stale-cache']);
  report = await diagnose(run);
});

describe('stale feature cache', () => {
  it('production fails on the crops it had seen before; staging has no such cache', () => {
    expect(run.staging.traffic.failed).toBe(0);
    expect(run.production.traffic.failed).toBeGreaterThan(20);
    expect(report.failures[0]?.message).toMatch(/invalid dimensions for input: x/);
  });

  it('diagnose ranks stale data first: the failures all read v1 cache hits, the fresh reads succeed', () => {
    // Replayed on staging's pipeline (no cache) the captures pass: the environment, not the input.
    expect(report.replays.every((r) => !r.reproduced)).toBe(true);
    const v1 = report.sources?.find((s) => s.name === 'tensor-cache' && s.version === 'v1');
    expect(v1).toMatchObject({ hit: true });
    expect(v1!.errors).toBeGreaterThan(20);
    const top = expectTopCause(report, 'stale-data');
    expect(top.confidence).toBe('high');
    expect(top.title).toMatch(/tensor-cache/);
    expect(top.title).toMatch(/version v1, cache hit/);
    expect(evidenceOf(top)).toMatch(/served older data \(as of .*\) than the succeeding ones/);
    expect(top.explains.failures).toBe(top.explains.of);
  });

  it('logs without data sources leave stale data not checked, and say what would decide it', async () => {
    // The same production, but the team has not passed the pipeline trace to its logger yet.
    const untraced = await scenario(['stale-cache'], { production: { logTrace: false } });
    const blind = await diagnose(untraced);
    expect(untraced.production.traffic.failed).toBeGreaterThan(20);
    expect(blind.notChecked.join('\n')).toMatch(
      /stale or slow data source: .*ctx\.source\(name, \{ version, asOf, hit, ms \}\)/,
    );
    expect(blind.rootCauses.some((c) => c.kind === 'stale-data')).toBe(false);
    // What it can still say: the failures do not reproduce locally, so look at the environment.
    const env = blind.rootCauses.find((c) => c.kind === 'environment');
    expect(env?.explains.failures).toBe(env?.explains.of);
  });
});
