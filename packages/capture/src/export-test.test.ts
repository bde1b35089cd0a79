import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { exportRegressionTest, renderRegressionTest } from './export-test.js';
import { createMemoryCaptureStore } from './store.js';
import { withCapture } from './with-capture.js';

const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const vitestBin = join(dirname(createRequire(import.meta.url).resolve('vitest/package.json')), 'vitest.mjs');

// The generated file must run under a real vitest, resolving @prodprobe/capture, so it is written
// to a temp folder inside this package (whose vitest config maps workspace packages to src/).
const work = mkdtempSync(join(packageDir, '.regression-tmp-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const buggyModel = `export async function loadModel(version) {
  // bug: no guard for amount <= 0, so log() gives NaN or -Infinity
  return (input) => ({ version, score: Math.log(input.amount) });
}
`;
const fixedModel = `export async function loadModel(version) {
  return (input) => ({ version, score: Math.log(Math.max(input.amount, 1e-6)) });
}
`;

function runVitest(dir: string): Promise<{ code: number; output: string }> {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('VITEST') && k !== 'TEST') env[k] = v;
  env.NO_COLOR = '1';
  return new Promise((done) => {
    execFile(
      process.execPath,
      [vitestBin, 'run', '--root', dir, '--config', join(dir, 'vitest.config.ts')],
      { env, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 99) : 0;
        done({ code, output: `${stdout}\n${stderr}` });
      },
    );
  });
}

describe('exportRegressionTest', () => {
  it('writes a vitest file that fails while the bug exists and passes once it is fixed', async () => {
    // Capture real failures through the buggy model.
    const store = createMemoryCaptureStore();
    const predict = withCapture((x: { amount: number }) => ({ score: Math.log(x.amount) }), {
      store,
      modelVersion: 'fraud-1.0.0',
    });
    for (const amount of [12, -3, 0, 40]) predict({ amount });
    await predict.flush();
    const records = await store.list();
    expect(records).toHaveLength(2);

    writeFileSync(
      join(work, 'vitest.config.ts'),
      "import { defineWorkspaceProject } from '../../../vitest.shared.ts';\n" +
        "export default defineWorkspaceProject('capture-regression', { include: ['*.test.ts'] });\n",
    );
    writeFileSync(join(work, 'model.mjs'), buggyModel);
    const out = join(work, 'captured.test.ts');
    const written = await exportRegressionTest(records, { out, modelImport: './model.mjs' });
    expect(written).toEqual({ path: out, tests: 2 });

    const failing = await runVitest(work);
    expect(failing.output).toMatch(/2 failed/);
    expect(failing.output).toMatch(/still fails on model fraud-1\.0\.0: output\.score is (NaN|-Infinity)/);
    expect(failing.code).toBe(1);

    writeFileSync(join(work, 'model.mjs'), fixedModel);
    const passing = await runVitest(work);
    expect(passing.output).toMatch(/2 passed/);
    expect(passing.code).toBe(0);

    // A service (what defineService of @prodprobe/layers returns) as the default export: its
    // loadModel replays, and its own failure check judges (here a negative score fails).
    writeFileSync(
      join(work, 'model.mjs'),
      `${fixedModel.replace('export async function', 'async function')}
export default { kind: 'prodprobe.service', name: 'scorer', loadModel,
  isFailure: (out) => (out.score < 0 ? 'negative score' : false) };
`,
    );
    const judged = await runVitest(work);
    expect(judged.output).toMatch(/2 failed/);
    expect(judged.output).toMatch(/still fails on model fraud-1\.0\.0: negative score/);
  });

  it('leaves sealed raw inputs out of the file and honours modelVersion', async () => {
    const store = createMemoryCaptureStore();
    const predict = withCapture((_x: { email: string }) => null, {
      store,
      modelVersion: 'v1',
      encryptionKey: new Uint8Array(32).fill(1),
    });
    predict({ email: 'secret.person@example.com' });
    await predict.flush();
    const records = await store.list();
    expect(records[0]?.sealedInput).toBeDefined();
    const source = renderRegressionTest(records, { modelImport: 'my-model', modelVersion: 'v2' });
    expect(source).not.toContain('sealedInput');
    expect(source).not.toContain(records[0]!.sealedInput!.ciphertext);
    expect(source).not.toContain('secret.person');
    expect(source).toContain('const modelVersion: string | undefined = "v2";');
    expect(() => renderRegressionTest([], { modelImport: 'x' })).toThrow(/at least one record/);
    expect(() => renderRegressionTest(records, { modelImport: '' })).toThrow(/modelImport/);
  });
});
