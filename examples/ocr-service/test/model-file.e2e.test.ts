import { beforeAll, describe, expect, it } from 'vitest';
import type { ScenarioResult } from '../src/scenario.js';
import { diagnose, expectTopCause, type Report, scenario } from './helpers.js';

// Production ships a re-export of the classifier with one weight broken.
let run: ScenarioResult;
let report: Report;
beforeAll(async () => {
  run = await scenario(['model-file']);
  report = await diagnose(run);
});

describe('model file mismatch', () => {
  it('every production request fails, no staging one does', () => {
    expect(run.staging.traffic.failed).toBe(0);
    expect(run.production.traffic.ok).toBe(0);
    expect(report.failures[0]?.message).toBe('the classifier returned NaN probabilities');
  });

  it("diagnose ranks the model file first: the hashes differ and staging's file replays fine", () => {
    expect(report.replays.every((r) => !r.reproduced && r.verdict === 'environment')).toBe(true);
    const top = expectTopCause(report, 'model-mismatch');
    expect(top.confidence).toBe('high');
    expect(top.title).toContain('models.classifier.sha256');
    const [a, b] = top.evidence.filter((e) => /^sha256 in [AB]: "?[0-9a-f]{64}/.test(e));
    expect(a).toBeDefined();
    expect(b).toBeDefined();
    expect(a!.slice(-64)).not.toBe(b!.slice(-64));
    expect(top.explains.failures).toBe(top.explains.of);
  });
});
