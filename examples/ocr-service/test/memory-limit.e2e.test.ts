import { beforeAll, describe, expect, it } from 'vitest';
import type { ScenarioResult } from '../src/scenario.js';
import { diagnose, evidenceOf, expectTopCause, type Report, scenario } from './helpers.js';

// Both keep up to 1,000 tensors in memory; production's heap limit is 192 MB instead of 1 GB.
let run: ScenarioResult;
let report: Report;
beforeAll(async () => {
  run = await scenario(['memory-limit']);
  report = await diagnose(run);
});

describe('a lower memory limit', () => {
  it('production runs out of memory and is restarted; staging is not', () => {
    expect(run.staging.crashes).toEqual([]);
    expect(run.production.crashes.length).toBeGreaterThanOrEqual(1);
    expect(run.production.crashes[0]!.stderr).toMatch(/heap out of memory/);
  });

  it('diagnose ranks the memory limit first, from the env diff and the logged heap', () => {
    const limit = report.envDiff?.differences.find((d) => d.path === 'resources.heapLimitBytes');
    expect(limit).toBeDefined();
    expect(limit!.b as number).toBeLessThan(limit!.a as number);
    expect(report.memory?.processes.some((p) => p.replaced)).toBe(true);
    const top = expectTopCause(report, 'memory-limit');
    expect(top.confidence).toBe('high');
    expect(evidenceOf(top)).toMatch(/resources\.heapLimitBytes is [\d.]+ MB in A and [\d.]+ MB in B/);
    expect(evidenceOf(top)).toMatch(/heap peaked at [\d.]+ MB of its 192\.0 MB old-generation limit/);
    expect(evidenceOf(top)).toMatch(/a crash \(out of memory\) and a restart/);
  });
});
