import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect } from 'vitest';
import type { FaultName } from '../src/faults.js';
import {
  type DiagnoseOptions,
  runDiagnose,
  runScenario,
  type ScenarioOptions,
  type ScenarioResult,
} from '../src/scenario.js';

// End to end, as a team would run it: the built service deployed twice and started as two real
// processes on 127.0.0.1, real traffic, then the built `prodprobe diagnose` in a process of its own
// over what production left (captures, logs, env snapshots), replaying on src/pipeline.ts.

/** The parts of diagnose's JSON report these tests read. */
export interface Cause {
  rank: number;
  kind: string;
  title: string;
  confidence: 'high' | 'medium' | 'low';
  evidence: string[];
  explains: { failures: number; of: number };
  /** Requests affected, when known. */
  affected: number;
  next: string;
}
export interface Report {
  notChecked: string[];
  failures: { key: string; name: string; message: string; count: number; captured: number; logged: number }[];
  replays: { reproduced: boolean; verdict: string; isolation?: { failedStage: string | null } }[];
  concurrency: {
    raceSuspected: boolean;
    reproducedAlone: number;
    records: number;
    differences: unknown[];
  } | null;
  envDiff: { differences: { path: string; a: unknown; b: unknown; severity: string }[] } | null;
  memory: { processes: { replaced: boolean; maxHeapUsed: number }[] } | null;
  resources: { verdict: string } | null;
  sources: { name: string; version: string | null; hit: boolean | null; errors: number }[] | null;
  rootCauses: Cause[];
}

const dirs: string[] = [];
const runs: ScenarioResult[] = [];
afterAll(async () => {
  for (const r of runs) await r.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Runs the staging/production scenario with `faults` planted, in a temporary folder removed after the file's tests. */
export async function scenario(
  faults: FaultName[],
  options: Omit<ScenarioOptions, 'dir' | 'faults'> = {},
): Promise<ScenarioResult> {
  const dir = mkdtempSync(join(tmpdir(), `ocr-e2e-${faults.join('-')}-`));
  dirs.push(dir);
  const run = await runScenario({ dir, faults, ...options });
  runs.push(run);
  return run;
}

/** `prodprobe --json diagnose …` over the scenario's production, its report parsed (exit 0 or 1, never a usage error). */
export async function diagnose(
  r: ScenarioResult,
  options: Omit<DiagnoseOptions, 'json'> = {},
): Promise<Report> {
  const { code, stdout, stderr } = await runDiagnose(r, { ...options, json: true });
  expect([0, 1], `prodprobe diagnose exited ${code}: ${stderr}`).toContain(code);
  return JSON.parse(stdout) as Report;
}

/** The top-ranked root cause, with the whole ranking in the failure message when it is not `kind`. */
export function expectTopCause(report: Report, kind: string): Cause {
  const ranking = report.rootCauses
    .map((c) => `${c.rank}. ${c.kind} [${c.confidence}]: ${c.title}`)
    .join('\n');
  expect(report.rootCauses[0]?.kind, `ranking:\n${ranking}`).toBe(kind);
  return report.rootCauses[0]!;
}

/** Everything a cause says for itself, one string, for matching. */
export const evidenceOf = (c: Cause) => [c.title, ...c.evidence].join('\n');
