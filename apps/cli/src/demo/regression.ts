import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { type CaptureRecord, createFileCaptureStore, exportRegressionTest } from '@prodprobe/capture';

/** The module the generated test replays through: the service declared with defineService. */
export const SERVICE_MODULE = '@prodprobe/server/pipeline';

/** One generated test and how it ran. */
export interface RegressionTestCase {
  title: string;
  status: 'passed' | 'failed' | 'skipped';
  /** First line of the failure message, for a failed test. */
  message?: string;
}

/** The regression test the demo wrote from the reproduced failures, and its first run. */
export interface RegressionRun {
  /** The folder the test runs in (`vitest run --root <dir>` runs it again). */
  dir: string;
  /** The test file. */
  file: string;
  /** Capture records it replays. */
  recordIds: string[];
  /** The command that writes the same file (`prodprobe capture export-test …`). */
  exportArgs: string[];
  tests: RegressionTestCase[];
}

const require = createRequire(import.meta.url);
const packageDir = (name: string) => dirname(require.resolve(`${name}/package.json`));

/**
 * The last step of the method: captured failures become a vitest file (`exportRegressionTest`,
 * what `prodprobe capture export-test` writes) in `<out>/regression`, run once here. Each test
 * replays a captured production input through the service's model and asserts it no longer fails,
 * so a failure that reproduces keeps its test red until the bug is fixed, then guards against it
 * coming back. The demo passes the failures diagnose reproduced; the ones that did not reproduce
 * belong to production's environment, not to the model.
 *
 * The test folder is made a small project of its own (a package.json, a vitest config and links
 * to the packages the test imports), so it runs wherever `out` is; in a service's repository the
 * file would go under its own tests.
 */
export async function writeRegressionTest(
  recordIds: readonly string[],
  capturesDir: string,
  out: string,
): Promise<RegressionRun> {
  const store = createFileCaptureStore(capturesDir);
  const records: CaptureRecord[] = [];
  for (const id of recordIds) {
    const record = await store.get(id);
    if (!record) throw new Error(`capture record ${id} is not in ${capturesDir}`);
    records.push(record);
  }
  const dir = join(out, 'regression');
  rmSync(dir, { recursive: true, force: true });
  const file = join(dir, 'captured.test.ts');
  await exportRegressionTest(records, { out: file, modelImport: SERVICE_MODULE });
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ private: true, type: 'module' }, null, 2)}\n`);
  // Its own config, so vitest does not pick up a config of a folder above (the monorepo's).
  writeFileSync(join(dir, 'vitest.config.mjs'), 'export default { test: { include: ["*.test.ts"] } };\n');
  for (const name of ['@prodprobe/capture', '@prodprobe/server', 'vitest']) {
    const link = join(dir, 'node_modules', name);
    mkdirSync(dirname(link), { recursive: true });
    symlinkSync(packageDir(name), link, 'dir');
  }
  const tests = await runVitest(dir);
  return {
    dir,
    file,
    recordIds: [...recordIds],
    exportArgs: [
      'capture',
      'export-test',
      capturesDir,
      '--id',
      ...recordIds,
      '--pipeline',
      SERVICE_MODULE,
      '--out',
      file,
    ],
    tests,
  };
}

/** Runs vitest once in `dir` (a child process) and reads its JSON report. */
async function runVitest(dir: string, timeoutMs = 60_000): Promise<RegressionTestCase[]> {
  const bin = join(packageDir('vitest'), 'vitest.mjs');
  const report = join(dir, 'vitest-report.json');
  const child = spawn(
    process.execPath,
    [bin, 'run', '--root', dir, '--reporter=json', `--outputFile=${report}`],
    { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, NO_COLOR: '1' } },
  );
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (s: string) => {
    stderr = (stderr + s).slice(-4000);
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('exit', (c) => {
      clearTimeout(timer);
      resolve(c);
    });
  });
  let parsed: {
    testResults: {
      status: string;
      message?: string;
      assertionResults: { title: string; status: string; failureMessages: string[] }[];
    }[];
  };
  try {
    parsed = JSON.parse(readFileSync(report, 'utf8'));
  } catch {
    throw new Error(`vitest (exit code ${code}) wrote no report for ${dir}: ${stderr.trim()}`);
  }
  const broken = parsed.testResults.find((f) => f.status === 'failed' && f.assertionResults.length === 0);
  if (broken) throw new Error(`vitest could not run the regression test in ${dir}: ${broken.message}`);
  return parsed.testResults.flatMap((f) =>
    f.assertionResults.map((t) => ({
      title: t.title,
      status: t.status === 'passed' ? 'passed' : t.status === 'failed' ? 'failed' : 'skipped',
      ...(t.failureMessages.length ? { message: t.failureMessages[0]!.split('\n')[0] } : {}),
    })),
  );
}
