import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MODEL_DIR, trainFraudModel } from '@prodprobe/fraud-model';
import { ENVIRONMENTS_DIR } from '@prodprobe/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RootCause } from '../diagnose/root-causes.js';
import { run } from '../program.js';
import { chromiumAvailable, inChromium } from '../test-browser.js';
import { memoryIo } from '../test-io.js';
import { writeRegressionTest } from './regression.js';
import { runScenario, type ScenarioResult } from './scenario.js';

// End to end: staging and a production with every planted fault, as real processes on loopback,
// then diagnose must name each fault as a root cause with the right evidence.
const work = mkdtempSync(join(tmpdir(), 'prodprobe-e2e-'));
let result: ScenarioResult;
const cause = (kind: RootCause['kind']) => result.report.rootCauses.filter((c) => c.kind === kind);

beforeAll(async () => {
  // Planted: a model file retrained with another seed but still called fraud-v1 (hash mismatch),
  // the stale zero-std scaler, an unbounded request history (leak), production traffic (unseen
  // category, missing user_age, "NaN" amounts, ages of 150).
  const otherModel = join(work, 'fraud-v1-retrained.onnx');
  writeFileSync(otherModel, trainFraudModel({ seed: 7 }).onnx);
  const production = JSON.parse(readFileSync(join(ENVIRONMENTS_DIR, 'production.json'), 'utf8'));
  const planted = {
    ...production,
    modelPath: otherModel,
    preprocessPath: join(ENVIRONMENTS_DIR, 'production-preprocess.json'),
    trainingProfilePath: join(MODEL_DIR, 'training-profile.json'),
  };
  const plantedFile = join(work, 'production-planted.json');
  writeFileSync(plantedFile, JSON.stringify(planted));
  result = await runScenario({ out: join(work, 'out'), requests: 1000, production: plantedFile, cwd: work });
}, 120_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('diagnose names every planted fault', () => {
  it('production is worse than staging and its failures were captured and logged', () => {
    const [staging, production] = result.traffic;
    expect(staging!.accuracy).toBeGreaterThan(0.9);
    expect(production!.accuracy).toBeLessThan(staging!.accuracy - 0.2);
    expect(production!.nullPredictions).toBeGreaterThan(0);
    expect(result.report.totals.captures).toBe(production!.nullPredictions);
    expect(result.report.failures[0]!.logged).toBe(production!.nullPredictions);
  });

  it('an unseen category: buy_now_pay_later in payment_method', () => {
    const [c] = cause('unseen-category');
    expect(c?.title).toContain('payment_method');
    expect(c?.title).toContain('buy_now_pay_later');
  });

  it('dataset drift from the logs: the next command asks when it started (drift timeline)', () => {
    const [c] = cause('distribution-drift');
    expect(c?.next).toMatch(/^prodprobe drift timeline \S+training-profile\.json \S+production\/logs$/);
  });

  it('a missing field: user_age, reproduced locally, NaN first produced by preprocessing', () => {
    const c = cause('missing-field').find((x) => x.title.includes('user_age'));
    expect(c?.confidence).toBe('high');
    expect(c?.evidence.join('\n')).toMatch(/reproduced/);
    expect(c?.evidence.join('\n')).toContain('first non-finite value in preprocess');
  });

  it('a NaN: the string "NaN" amount passes validation', () => {
    const c = cause('non-finite-input').find((x) => x.title.includes('amount'));
    expect(c?.evidence.join('\n')).toContain('first non-finite value in validate');
    expect(c?.next).toMatch(/^prodprobe capture replay /);
  });

  it('a zero-std scaler: failures that do not reproduce locally, explained by the env diff', () => {
    const [c] = cause('zero-std-scaler');
    expect(c?.title).toContain('n_prior_purchases');
    expect(c?.evidence.join('\n')).toMatch(/std is [\d.]+ in A and 0 in B/);
    expect(c?.evidence.join('\n')).toMatch(/do not reproduce locally/);
    const envOnly = result.report.replays.find((r) => !r.reproduced);
    expect(envOnly?.verdict).toBe('environment');
    // Why those and not others: every one has the value the zero std turns into 0/0.
    expect(envOnly?.shared).toEqual([
      { field: 'n_prior_purchases', value: 0, referenceShare: expect.closeTo(0.04, 2) },
    ]);
    expect(c?.evidence.join('\n')).toMatch(
      /All \d+ of them have n_prior_purchases = 0 \(4\.0% of training values\): B's scaler has mean 0, so standardising gives \(0 − 0\) \/ 0 = NaN/,
    );
    // The other groups share nothing chance does not explain (the signature names their field).
    for (const r of result.report.replays.filter((x) => x.reproduced)) expect(r.shared).toEqual([]);
  });

  it('a model file hash mismatch', () => {
    const [c] = cause('model-mismatch');
    expect(c?.title).toContain('models.model.sha256');
    const shas = c?.evidence.filter((e) => /sha256 in [AB]: [0-9a-f]{64}/.test(e)) ?? [];
    expect(shas).toHaveLength(2);
  });

  it('drift is measured on the uniform sample of requests, so where failures cluster is not drift', () => {
    // Every zero-std failure has n_prior_purchases = 0, and every error is logged: over all the
    // logged entries n_prior_purchases looks drifted although production traffic has the
    // training distribution for it.
    expect(result.report.driftSource).toMatch(/the uniform 10% sample of requests/);
    const field = (name: string) => result.report.drift!.fields.find((f) => f.name === name)!;
    expect(field('n_prior_purchases').drift).toBe(false);
    // The shifts the generator does make are found.
    for (const name of ['payment_method', 'amount', 'account_age_days'])
      expect(field(name).drift, name).toBe(true);
  });

  it('a memory leak: rss grows with traffic in production', () => {
    const [c] = cause('memory-leak');
    expect(c?.evidence.join('\n')).toMatch(/per 1,000 requests/);
    expect(result.report.memory?.verdict).toBe('leak');
  });

  it("every root cause's next command runs as printed", async () => {
    const causes = result.report.rootCauses;
    expect(causes.length).toBeGreaterThan(5);
    for (const c of causes) {
      expect(c.next, c.title).toMatch(/^prodprobe /);
      expect(c.next, c.title).not.toContain('<');
      // Paths are JSON-quoted when they hold spaces; the temp folder holds none.
      const argv = c.next.split(' ').slice(1);
      const m = memoryIo({ cwd: work });
      const code = await run(['node', 'prodprobe', ...argv], m.io);
      // 0, or 1 for a finding (a failure that reproduces, a leak); never a usage error.
      expect([0, 1], `${c.next}\n${m.stderr()}`).toContain(code);
      expect(m.stdout().length, c.next).toBeGreaterThan(0);
    }
  }, 60_000);

  it('the failures that reproduce become a regression test that fails until they are fixed', async () => {
    const reg = result.regression!;
    const reproduced = result.report.replays.filter((r) => r.reproduced);
    expect(reproduced.length).toBeGreaterThanOrEqual(2);
    expect(reg.recordIds).toEqual(reproduced.map((r) => r.recordId));
    expect(reg.tests.map((t) => t.status)).toEqual(reproduced.map(() => 'failed'));
    for (const [i, t] of reg.tests.entries()) {
      expect(t.title.startsWith(reg.recordIds[i]!)).toBe(true);
      expect(t.message).toMatch(/still fails on model fraud-v1: model returned no probability/);
    }
    // The command the demo prints writes the same file.
    const written = readFileSync(reg.file, 'utf8');
    expect(written).toContain('import * as model from "@prodprobe/server/pipeline";');
    const m = memoryIo({ cwd: work });
    expect(await run(['node', 'prodprobe', ...reg.exportArgs], m.io), m.stderr()).toBe(0);
    expect(readFileSync(reg.file, 'utf8')).toBe(written);
    // The same test passes on a failure of production's environment: it does not reproduce here.
    const envOnly = result.report.replays.find((r) => !r.reproduced)!;
    const passing = await writeRegressionTest(
      [envOnly.recordId],
      join(work, 'out/production/captures'),
      join(work, 'env-only'),
    );
    expect(passing.tests).toEqual([expect.objectContaining({ status: 'passed' })]);
  }, 60_000);

  it.skipIf(!chromiumAvailable)(
    'the HTML report renders in headless Chromium with its charts and no console errors',
    async () => {
      const errors = await inChromium(result.html, async (page) => {
        expect(await page.title()).toBe('prodprobe diagnose');
        const charts = await page.$$eval('figure.chart svg', (els) =>
          els.map((e) => e.querySelectorAll('rect').length),
        );
        expect(charts.length).toBeGreaterThanOrEqual(3);
        expect(charts.every((rects) => rects > 0)).toBe(true);
        const causes = await page.$$eval('#root-causes li.cause', (els) => els.length);
        expect(causes).toBe(result.report.rootCauses.length);
        // The drift chart says what its score and colours mean, and the table shows what decided.
        expect(await page.textContent('#drift figcaption')).toMatch(
          /^Score: the largest effect size .* Red: drifted, a score of 1 or more with a significant difference \(adjusted p < 0\.05\)/,
        );
        const header = await page.$$eval('#drift table th', (els) => els.map((e) => e.textContent));
        expect(header).toEqual(['field', 'drift', 'severity', 'score', 'adjusted p', 'warnings']);
      });
      expect(errors).toEqual([]);
    },
  );
});
