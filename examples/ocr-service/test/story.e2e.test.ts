import { beforeAll, describe, expect, it } from 'vitest';
import { faults, storyFaults } from '../src/faults.js';
import type { ScenarioResult } from '../src/scenario.js';
import { diagnose, type Report, scenario } from './helpers.js';

// The story `pnpm example:ocr` tells: several faults at once, each named among the causes.
let run: ScenarioResult;
let report: Report;
beforeAll(async () => {
  run = await scenario(storyFaults);
  report = await diagnose(run);
});

describe('the story: four production-only faults at once', () => {
  it('staging is healthy; production fails on stale cache hits and blank crops', () => {
    expect(run.staging.traffic.failed).toBe(0);
    expect(run.staging.traffic.correct / run.staging.traffic.ok).toBeGreaterThan(0.9);
    expect(report.failures.map((f) => f.name).sort()).toEqual(['Error', 'RangeError']);
  });

  it('diagnose names every planted fault, the causes of most failures first', () => {
    const kinds = report.rootCauses.map((c) => c.kind);
    for (const name of storyFaults) expect(kinds, name).toContain(faults[name].cause);
    // The stale cache explains about six times as many failures as the blank crops.
    expect(kinds.slice(0, 2)).toEqual(['stale-data', 'stage-error']);
    const explained = report.rootCauses.slice(0, 2).reduce((n, c) => n + c.explains.failures, 0);
    expect(explained).toBe(report.rootCauses[0]!.explains.of);
  });
});
