import { beforeAll, describe, expect, it } from 'vitest';
import type { ScenarioResult } from '../src/scenario.js';
import { diagnose, evidenceOf, expectTopCause, type Report, scenario } from './helpers.js';

// The release reuses one tensor buffer for every request; production overlaps requests, staging does not.
let run: ScenarioResult;
let report: Report;
beforeAll(async () => {
  run = await scenario(['race']);
  report = await diagnose(run);
});

describe('race condition on a shared tensor buffer', () => {
  it('fails only in production, where requests overlap', () => {
    expect(run.staging.traffic.failed).toBe(0);
    expect(run.production.traffic.failed).toBeGreaterThan(20);
    expect(report.failures[0]?.message).toBe('the classifier returned NaN probabilities');
  });

  it('diagnose ranks a race first: sequential replay passes, concurrent replay changes outcomes', () => {
    expect(report.replays.length).toBeGreaterThan(0);
    expect(report.replays.every((r) => !r.reproduced)).toBe(true);
    expect(report.concurrency).toMatchObject({ raceSuspected: true, reproducedAlone: 0 });
    expect(report.concurrency!.differences.length).toBeGreaterThan(0);
    const top = expectTopCause(report, 'race-condition');
    expect(top.confidence).toBe('high');
    expect(evidenceOf(top)).toMatch(/Replayed \d+ captured inputs one at a time, twice: 0 fail/);
    expect(evidenceOf(top)).toMatch(
      /at a time \(3 rounds\) on one loaded model: [1-9]\d* outcome\(s\) change/,
    );
    expect(evidenceOf(top)).toMatch(/do not reproduce alone .* but change under concurrency/);
    expect(top.explains.failures).toBe(top.explains.of);
  });

  it('without the service module the race check is listed as not checked, with what would decide it', async () => {
    const blind = await diagnose(run, { pipeline: false });
    expect(blind.concurrency).toBeNull();
    expect(blind.notChecked.join('\n')).toMatch(/race condition: needs --pipeline/);
    expect(blind.rootCauses.some((c) => c.kind === 'race-condition')).toBe(false);
  });
});
