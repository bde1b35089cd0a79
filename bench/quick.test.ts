import { describe, expect, it } from 'vitest';
import { BENCHES, reportProblems, runReport } from './report.js';
import { renderTable } from './rows.js';

// Benchmarks are not timed tests: this runs each once on small data (`--quick`) and checks that it
// still produces well-formed rows with its baseline, so the benches cannot rot. Targets are not
// checked here (a quick run on a shared machine says nothing about them).
describe('pnpm bench:report --quick', () => {
  it('runs every bench and each gives well-formed rows', async () => {
    const report = await runReport({ quick: true });
    expect(report.runs.map((r) => r.name)).toEqual(BENCHES.map((b) => b.name));
    expect(reportProblems(report)).toEqual([]);
    // Every measure of the table is there.
    const measures = report.rows.map((r) => r.measure).join('\n');
    for (const m of [
      'logger: full entry to a file',
      'logger: a sampled-out log() call',
      'capture: withCapture success path',
      'sanitize: default sanitizer',
      'drift: profile build',
      'drift: KS two-sample',
      'drift compare` flights-3m vs flights-200k.json, time',
      'drift compare` flights-3m vs flights-200k.json, peak RSS',
      'layers: inspect every node, PaddleOCR classifier',
      'env-snapshot: snapshot',
      'env-snapshot: model hashing',
      'demo server: throughput',
      'demo server: p99 latency',
      'demo server: event-loop CPU per prediction',
      '`pnpm demo` end to end',
    ])
      expect(measures).toContain(m);
    expect(renderTable(report.rows).split('\n')[0]).toMatch(
      /^measure +\| baseline +\| prodprobe +\| ratio +\| target +\| ok/,
    );
  });
});
