import { beforeAll, describe, expect, it } from 'vitest';
import type { ScenarioResult } from '../src/scenario.js';
import { diagnose, evidenceOf, expectTopCause, type Report, scenario } from './helpers.js';

// Production turns on keep-alive to the blob store, with a new agent per request.
let run: ScenarioResult;
let report: Report;
beforeAll(async () => {
  run = await scenario(['connection-leak']);
  report = await diagnose(run);
});

describe('resource exhaustion: connections that are never closed', () => {
  it('nothing fails yet', () => {
    expect(run.production.traffic.failed + run.staging.traffic.failed).toBe(0);
    expect(run.production.traffic.ok).toBe(run.production.traffic.sent);
  });

  it('diagnose ranks the leak first: open handles and descriptors climb with traffic', () => {
    expect(report.resources?.verdict).toBe('leak');
    const top = expectTopCause(report, 'resource-leak');
    expect(top.confidence).toBe('high');
    // About one connection per request stays open: hundreds over the run.
    const m = /(\d+) → (\d+) open (handles|file descriptors) over ~(\d+) requests/.exec(evidenceOf(top));
    expect(m, evidenceOf(top)).not.toBeNull();
    const growth = Number(m![2]) - Number(m![1]);
    expect(growth).toBeGreaterThan(0.5 * Number(m![4]));
    // Each connection left open is a request that opened it: that many requests are affected.
    expect(top.affected).toBeGreaterThanOrEqual(Math.min(growth, Number(m![4])) - 1);
  });
});
