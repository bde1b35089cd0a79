import { beforeAll, describe, expect, it } from 'vitest';
import type { ScenarioResult } from '../src/scenario.js';
import { diagnose, evidenceOf, expectTopCause, type Report, scenario } from './helpers.js';

// Production's deployment resolves fast-png 3.1.3 (installed beside 8.0.0 under an npm alias).
let run: ScenarioResult;
let report: Report;
beforeAll(async () => {
  run = await scenario(['dependency']);
  report = await diagnose(run);
});

describe('dependency version mismatch', () => {
  it("production's decode refuses every PNG; staging's decodes them", () => {
    expect(run.staging.traffic.failed).toBe(0);
    expect(run.production.traffic.ok).toBe(0);
    // fast-png 3 names the fields bitDepth/colourType, not depth/channels.
    expect(report.failures[0]?.message).toBe('unsupported PNG: undefined channels');
  });

  it('diagnose ranks the dependency first, naming fast-png 8.0.0 → 3.1.3 from the env snapshots', () => {
    const diff = report.envDiff?.differences.find((d) => d.path === 'packages["fast-png"]');
    expect(diff).toMatchObject({ a: '8.0.0', b: '3.1.3', severity: 'critical' });
    expect(report.replays.every((r) => !r.reproduced)).toBe(true);
    const top = expectTopCause(report, 'dependency-mismatch');
    expect(top.confidence).toBe('high');
    expect(top.title).toContain('fast-png 8.0.0 → 3.1.3');
    expect(evidenceOf(top)).toMatch(/do not reproduce locally/);
    expect(top.explains.failures).toBe(top.explains.of);
  });
});
