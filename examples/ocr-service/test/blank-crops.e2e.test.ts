import { beforeAll, describe, expect, it } from 'vitest';
import type { ScenarioResult } from '../src/scenario.js';
import { diagnose, evidenceOf, expectTopCause, type Report, scenario } from './helpers.js';

// Production's text detector also sends blank crops: cropping to the text takes the mean of no pixels.
let run: ScenarioResult;
let report: Report;
beforeAll(async () => {
  run = await scenario(['blank-crops']);
  report = await diagnose(run);
});

describe('a preprocessing stage that throws', () => {
  it('only production gets blank crops, and they fail', () => {
    expect(run.staging.traffic.failed).toBe(0);
    expect(run.production.traffic.failed).toBeGreaterThan(5);
    expect(report.failures[0]).toMatchObject({ name: 'RangeError', message: 'mean of an empty list' });
  });

  it('diagnose ranks the failing stage first: reproduced locally, isolated to crop', () => {
    expect(report.replays.length).toBeGreaterThan(0);
    expect(report.replays.every((r) => r.reproduced && r.isolation?.failedStage === 'crop')).toBe(true);
    const top = expectTopCause(report, 'stage-error');
    expect(top.confidence).toBe('high');
    expect(top.title).toBe('Stage crop (preprocessing) throws RangeError: mean of an empty list');
    expect(evidenceOf(top)).toMatch(/reproduced \(sanitized input\) → model or input problem/);
    expect(top.next).toMatch(/^prodprobe layers isolate --pipeline \S+pipeline\.ts --capture \S+ --id \S+$/);
    expect(top.explains.failures).toBe(top.explains.of);
  });
});
