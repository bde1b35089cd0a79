import { spawnSync } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createFileCaptureStore,
  createMemoryCaptureStore,
  type SkippedFile,
  withCapture,
} from '@prodprobe/capture';
import { afterAll, describe, expect, it } from 'vitest';
import { fillDisk, recordFault, repoRoot } from './table.ts';

/**
 * Capture store, bad files and a broken disk. A capture folder holding truncated, corrupted and
 * foreign files beside good captures: every reader (the store's scan/list/get, `capture list`,
 * `show`, `replay --all`, `export-test`, `diagnose --captures`) skips and names each bad file,
 * never crashes or hangs, and still returns every good capture. Then the folder made read-only,
 * and the disk full: `withCapture` still returns what predict returns and rethrows what it
 * throws, unchanged; the store's failure is reported (onError, stats), never thrown, and the
 * wrapped call is no slower than with a working store (p99, within a stated bound).
 */
const root = mkdtempSync(join(tmpdir(), 'pp-faults-capture-'));
const mounts: string[] = [];
afterAll(() => {
  for (const mnt of mounts.reverse()) {
    if (spawnSync('umount', [mnt]).status !== 0) spawnSync('umount', ['-l', mnt]);
  }
  rmSync(root, { recursive: true, force: true });
});

type Input = { amount?: number; email: string };
/** The model the captures come from: throws without an amount, NaN score for a negative one. */
function model(x: Input): { score: number } {
  if (x.amount === undefined) throw new TypeError('amount is required');
  return { score: Math.log(x.amount) };
}
const failingInputs: Input[] = [
  { amount: -1, email: 'a@example.com' },
  { email: 'b@example.com' },
  { amount: -7.5, email: 'c@example.com' },
  { email: 'd@example.com' },
  { amount: -0.1, email: 'e@example.com' },
  { email: 'f@example.com' },
];

const PNG = Buffer.from(
  '89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6360f8cfc0000003010100c9fe92ef0000000049454e44ae426082',
  'hex',
);

function cli(args: string[]): { status: number | null; stdout: string; stderr: string; timedOut: boolean } {
  const r = spawnSync(process.execPath, [join(repoRoot, 'apps/cli/dist/bin.js'), ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, NO_COLOR: '1' },
  });
  return {
    status: r.status,
    stdout: r.stdout,
    stderr: r.stderr,
    timedOut: (r.error as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT',
  };
}

const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f]/;

function mountTmpfs(name: string, size: string): { dir: string; skip?: string } {
  const dir = join(root, name);
  mkdirSync(dir);
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { encoding: 'utf8' });
  if (r.status !== 0)
    return {
      dir,
      skip: `cannot mount a tmpfs (needs root or CAP_SYS_ADMIN): ${(r.stderr || r.error?.message || '').trim()}`,
    };
  mounts.push(dir);
  return { dir };
}

function p99(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))] as number;
}

describe('capture: bad files in the folder', () => {
  it('every reader skips and names each bad file and returns every good capture', async () => {
    const dir = join(root, 'captures');
    const store = createFileCaptureStore(dir);
    const predict = withCapture(model, { store, modelVersion: 'v1' });
    for (const x of failingInputs) {
      try {
        predict(x);
      } catch {
        // captured
      }
    }
    await predict.flush();
    expect(predict.stats()).toMatchObject({ failures: 6, written: 6, failed: 0 });
    const good = (await store.list()).map((r) => r.id).sort();
    expect(good).toHaveLength(6);
    const goodText = readFileSync(join(dir, `${good[0]}.json`), 'utf8');
    const renamed = (id: string) => goodText.replace(`"id":"${good[0]}"`, `"id":"${id}"`);

    // name -> what the reason must say
    const bad: Record<string, RegExp> = {
      'truncated-0001.json': /truncated/,
      'corrupt-0001.json': /not valid JSON/,
      'schema-0001.json': /invalid capture record/,
      'renamed-0001.json': /does not match its file name/,
      'binary-0001.json': /not valid JSON/,
      'empty-0001.json': /truncated/,
      'dir-0001.json': /a directory, not a record file/,
      'passwd-0001.json': /symbolic link, not a record file/,
      'dangling-0001.json': /symbolic link, not a record file/,
      'fifo-0001.json': /a FIFO, not a record file/,
      'notes.txt': /not a capture record file/,
      'image.png': /not a capture record file/,
    };
    const t = renamed('truncated-0001');
    writeFileSync(join(dir, 'truncated-0001.json'), t.slice(0, Math.floor(t.length / 2)));
    const c = renamed('corrupt-0001');
    writeFileSync(join(dir, 'corrupt-0001.json'), `${c.slice(0, 40)}\u001b[2J#${c.slice(41)}`);
    writeFileSync(join(dir, 'schema-0001.json'), '{"hello":"world"}\n');
    writeFileSync(join(dir, 'renamed-0001.json'), goodText);
    writeFileSync(join(dir, 'binary-0001.json'), PNG);
    writeFileSync(join(dir, 'empty-0001.json'), '');
    mkdirSync(join(dir, 'dir-0001.json'));
    writeFileSync(join(dir, 'dir-0001.json', 'inside.json'), goodText);
    symlinkSync('/etc/passwd', join(dir, 'passwd-0001.json'));
    symlinkSync(join(root, 'no-such-file'), join(dir, 'dangling-0001.json'));
    const fifo = spawnSync('mkfifo', [join(dir, 'fifo-0001.json')]);
    if (fifo.status !== 0) delete bad['fifo-0001.json'];
    writeFileSync(join(dir, 'notes.txt'), 'notes about these captures\n');
    writeFileSync(join(dir, 'image.png'), PNG);
    // The store's own temp file (a write in progress) and a hidden file: left alone, not named.
    writeFileSync(join(dir, `.tmp-${good[1]}-123-abcd1234`), goodText.slice(0, 20));
    writeFileSync(join(dir, '.DS_Store'), PNG);
    const badNames = Object.keys(bad).sort();

    const problems: string[] = [];
    /** Checks one reader's view: every good id, every bad file named (with a printable reason). */
    const check = (reader: string, ids: string[], skipped: readonly SkippedFile[] | string) => {
      const missing = good.filter((id) => !ids.includes(id));
      if (missing.length > 0) problems.push(`${reader}: good captures missing: ${missing.join(', ')}`);
      const extra = ids.filter((id) => !good.includes(id));
      if (extra.length > 0) problems.push(`${reader}: returned bad files as captures: ${extra.join(', ')}`);
      for (const name of badNames) {
        const reason =
          typeof skipped === 'string'
            ? new RegExp(`${name.replace(/\./g, '\\.')}: ([^\\n;]*)`).exec(skipped)?.[1]
            : skipped.find((s) => s.file === name)?.reason;
        if (reason === undefined) problems.push(`${reader}: did not name ${name}`);
        else if (!(bad[name] as RegExp).test(reason))
          problems.push(`${reader}: ${name}: reason ${JSON.stringify(reason)}`);
      }
      const text = typeof skipped === 'string' ? skipped : skipped.map((s) => s.reason).join('\n');
      if (CONTROL.test(text)) problems.push(`${reader}: printed control characters of a bad file`);
      if (text.includes('root:x:0')) problems.push(`${reader}: printed the content of /etc/passwd`);
    };

    const warnings: SkippedFile[] = [];
    const reading = createFileCaptureStore(dir, { onWarning: (w) => warnings.push(w) });
    const scan = await reading.scan();
    check('store.scan()', scan.records.map((r) => r.id).sort(), scan.skipped);
    check(
      'store onWarning',
      (await reading.list()).map((r) => r.id).sort(),
      warnings.slice(-badNames.length),
    );
    if (reading.stats().skipped !== 2 * badNames.length)
      problems.push(`store.stats().skipped ${reading.stats().skipped}, expected ${2 * badNames.length}`);
    for (const id of good) if ((await reading.get(id))?.id !== id) problems.push(`store.get(${id}) failed`);
    for (const name of badNames.filter((n) => n.endsWith('.json'))) {
      const id = name.slice(0, -5);
      const got = await reading.get(id).then(
        () => 'resolved',
        (e: { code?: string; message: string }) => e.code ?? e.message,
      );
      if (got !== 'CORRUPT_RECORD') problems.push(`store.get(${id}): ${got}`);
    }

    const list = cli(['capture', 'list', 'captures', '--json']);
    if (list.status !== 0 || list.timedOut)
      problems.push(
        `capture list --json: exit ${list.status}${list.timedOut ? ' (hung)' : ''}: ${list.stderr}`,
      );
    else {
      const out = JSON.parse(list.stdout) as { records: { id: string }[]; skipped: SkippedFile[] };
      check('capture list --json', out.records.map((r) => r.id).sort(), out.skipped);
      check('capture list --json (stderr)', out.records.map((r) => r.id).sort(), list.stderr);
    }
    const text = cli(['capture', 'list', 'captures']);
    if (text.status !== 0 || !text.stdout.includes(`${good.length} captured failure(s)`))
      problems.push(`capture list: exit ${text.status}: ${text.stdout.slice(-200)} ${text.stderr}`);
    else
      check(
        'capture list',
        good.filter((id) => text.stdout.includes(id)),
        text.stderr,
      );
    const show = cli(['capture', 'show', 'captures', good[0] as string, '--json']);
    if (show.status !== 0 || (JSON.parse(show.stdout) as { id: string }).id !== good[0])
      problems.push(`capture show <good>: exit ${show.status}: ${show.stderr}`);
    for (const id of ['fifo-0001', 'passwd-0001', 'truncated-0001']) {
      if (id === 'fifo-0001' && bad['fifo-0001.json'] === undefined) continue;
      const r = cli(['capture', 'show', 'captures', id]);
      if (r.status !== 2 || !r.stderr.includes(id) || r.stderr.includes('root:x:0') || r.timedOut)
        problems.push(`capture show ${id}: exit ${r.status}${r.timedOut ? ' (hung)' : ''}: ${r.stderr}`);
    }
    const modelModule = join(repoRoot, 'faults/fixtures/capture-model.mjs');
    const replay = cli(['capture', 'replay', 'captures', '--all', '--model', modelModule, '--json']);
    if (replay.status === null || replay.status > 1)
      problems.push(`capture replay --all: exit ${replay.status}: ${replay.stderr}`);
    else {
      const out = JSON.parse(replay.stdout) as { total: number; results: { recordId: string }[] };
      check('capture replay --all', out.results.map((r) => r.recordId).sort(), replay.stderr);
    }
    const exported = cli([
      'capture',
      'export-test',
      'captures',
      '--out',
      join(root, 'captured.test.ts'),
      '--model',
      modelModule,
      '--json',
    ]);
    if (exported.status !== 0)
      problems.push(`capture export-test: exit ${exported.status}: ${exported.stderr}`);
    else {
      const source = readFileSync(join(root, 'captured.test.ts'), 'utf8');
      check(
        'capture export-test',
        good.filter((id) => source.includes(id)),
        exported.stderr,
      );
    }
    const diagnose = cli(['diagnose', '--captures', 'captures', '--json']);
    if (diagnose.stdout.trim() === '' || diagnose.timedOut)
      problems.push(`diagnose --captures: exit ${diagnose.status}: ${diagnose.stderr}`);
    else {
      const report = JSON.parse(diagnose.stdout) as { totals: { captures: number }; notChecked: string[] };
      const note = report.notChecked.find((n) => n.startsWith('captures:')) ?? '';
      if (report.totals.captures !== good.length)
        problems.push(`diagnose --captures read ${report.totals.captures} captures of ${good.length}`);
      check('diagnose --captures', good, note);
    }

    recordFault(
      {
        fault: 'capture: bad files in the folder',
        cases: badNames.length,
        lost: problems.length,
        figure:
          `${badNames.length} bad files (truncated, corrupt JSON, not a record, renamed, binary, empty, a folder, ` +
          `symlinks to /etc/passwd and nowhere,${bad['fifo-0001.json'] ? ' a FIFO,' : ''} a .txt, a .png) beside ${good.length} good captures; ` +
          `readers: store scan/list/get/onWarning, capture list (--json, text), show, replay --all, export-test, ` +
          `diagnose --captures: ${problems.length} problems (a good capture missing, a bad file not named, a crash or hang)`,
      },
      import.meta.filename,
    );
    expect(problems).toEqual([]);
  });
});

/** p99 of an awaited wrapped async call (one turn of the event loop inside, where the store's writes settle). */
async function measure(store: ReturnType<typeof createFileCaptureStore>, calls: number) {
  const errors: unknown[] = [];
  const predict = withCapture(
    async (x: Input) => {
      await new Promise((r) => setImmediate(r));
      return model(x);
    },
    { store, modelVersion: 'v1', onError: (e) => errors.push(e) },
  );
  const latencies: number[] = [];
  let wrong = 0;
  for (let i = 0; i < calls; i++) {
    // 1 call in 3 fails (a throw or a NaN output): a record for the store each time.
    const x: Input =
      i % 3 === 0
        ? (failingInputs[i % failingInputs.length] as Input)
        : { amount: i + 1, email: 'z@example.com' };
    const t = performance.now();
    const expected = (() => {
      try {
        return { value: model(x) };
      } catch (error) {
        return { error: (error as Error).message };
      }
    })();
    try {
      const value = await predict(x);
      if ('error' in expected || JSON.stringify(value) !== JSON.stringify(expected.value)) wrong++;
    } catch (error) {
      if (
        !('error' in expected) ||
        (error as Error).message !== expected.error ||
        !(error instanceof TypeError)
      )
        wrong++;
    }
    latencies.push(performance.now() - t);
  }
  await predict.flush();
  return { p99: p99(latencies), stats: predict.stats(), errors, wrong };
}

/** The same checks for a synchronous predict: the same value returned, the very error object rethrown. */
async function syncCalls(store: ReturnType<typeof createFileCaptureStore>) {
  const thrown = new TypeError('planted');
  const errors: unknown[] = [];
  const predict = withCapture(
    (x: number) => {
      if (x < 0) throw thrown;
      return x < 1 ? Number.NaN : x * 2;
    },
    { store, modelVersion: 'v1', onError: (e) => errors.push(e) },
  );
  let wrong = 0;
  for (let i = 0; i < 30; i++) {
    const x = (i % 3) - 1; // -1 throws, 0 is a bad output (NaN), 1 is fine
    try {
      const value = predict(x);
      if (x === 0 ? !Number.isNaN(value) : value !== 2) wrong++;
    } catch (error) {
      if (error !== thrown) wrong++;
    }
  }
  await predict.flush();
  return { wrong, stats: predict.stats(), errors };
}

interface BrokenCase {
  fault: string;
  size: string;
  /** Breaks the store's disk; undefined, or why it could not. */
  break(mnt: string, dir: string): string | undefined;
  restore(mnt: string, dir: string): void;
  code: string;
}

const CALLS = 1500;
/** The bound on the p99 of the wrapped call with a failing store: the working store's p99 plus this. */
const ADDED_P99_BOUND_MS = 2;

async function brokenStore(c: BrokenCase): Promise<void> {
  const mnt = mountTmpfs(c.fault.replace(/\W+/g, '-'), c.size);
  if (mnt.skip !== undefined) {
    recordFault({ fault: c.fault, cases: 0, lost: 0, figure: `skipped: ${mnt.skip}` }, import.meta.filename);
    console.warn(`${c.fault}: skipped: ${mnt.skip}`);
    return;
  }
  const dir = join(mnt.dir, 'captures');
  // Warm-up (JIT) on a memory store, then the working store on the same disk, then broken.
  await measure(createMemoryCaptureStore() as unknown as ReturnType<typeof createFileCaptureStore>, 300);
  const working = await measure(createFileCaptureStore(dir), CALLS);
  const before = readdirSync(dir).length;
  const reason = c.break(mnt.dir, dir);
  if (reason !== undefined) {
    recordFault({ fault: c.fault, cases: 0, lost: 0, figure: `skipped: ${reason}` }, import.meta.filename);
    return;
  }
  const store = createFileCaptureStore(dir);
  const failing = await measure(store, CALLS);
  const sync = await syncCalls(store);
  const left = readdirSync(dir);
  c.restore(mnt.dir, dir);
  const again = await measure(createFileCaptureStore(dir), 30);

  const captured = failing.stats.failures + sync.stats.failures;
  const reported = [...failing.errors, ...sync.errors] as { code?: string; cause?: { code?: string } }[];
  const reportedRight = reported.filter((e) => e.code === 'STORE_IO' && e.cause?.code === c.code).length;
  const wrong = failing.wrong + sync.wrong;
  const notReported = captured - (failing.stats.failed + sync.stats.failed) + (captured - reportedRight);
  const leftBehind = left.length - before; // temp files or partial records a failed write left
  const added = failing.p99 - working.p99;
  const resumed = again.stats.written === again.stats.failures && again.stats.failures > 0;
  const lost = wrong + notReported + Math.max(0, leftBehind) + (resumed ? 0 : 1);
  recordFault(
    {
      fault: c.fault,
      cases: CALLS + 30,
      lost,
      figure:
        `${wrong} calls whose result or error changed; ${captured} records refused (${c.code}), ` +
        `${reportedRight} reported to onError as STORE_IO, ${failing.stats.failed + sync.stats.failed} counted failed, 0 thrown; ` +
        `${Math.max(0, leftBehind)} files left behind; wrapped call p99 ${failing.p99.toFixed(2)} ms failing vs ` +
        `${working.p99.toFixed(2)} ms working (+${added.toFixed(2)} ms, bound +${ADDED_P99_BOUND_MS} ms); ` +
        `writes again once restored: ${resumed ? 'yes' : 'no'}`,
    },
    import.meta.filename,
  );
  expect({ wrong, notReported, leftBehind: Math.max(0, leftBehind), resumed }).toEqual({
    wrong: 0,
    notReported: 0,
    leftBehind: 0,
    resumed: true,
  });
  expect(failing.stats.written + sync.stats.written).toBe(0);
  expect(added).toBeLessThanOrEqual(ADDED_P99_BOUND_MS);
}

describe('capture: a broken disk under withCapture', () => {
  it('read-only folder: results unchanged, failures reported not thrown, no slower', async () => {
    await brokenStore({
      fault: 'capture: read-only folder',
      size: '4m',
      code: 'EROFS',
      // The store holds no file open between writes, so the file system itself can go read-only.
      break: (mnt) => {
        const r = spawnSync('mount', ['-o', 'remount,ro', mnt], { encoding: 'utf8' });
        return r.status === 0 ? undefined : `mount -o remount,ro: ${r.stderr.trim()}`;
      },
      restore: (mnt) => {
        const r = spawnSync('mount', ['-o', 'remount,rw', mnt], { encoding: 'utf8' });
        if (r.status !== 0) throw new Error(`mount -o remount,rw: ${r.stderr}`);
      },
    });
  });

  it('full disk: results unchanged, failures reported not thrown, no slower', async () => {
    const filler = (mnt: string) => join(mnt, 'filler');
    await brokenStore({
      fault: 'capture: full disk',
      size: '4m',
      code: 'ENOSPC',
      break: (mnt) => {
        fillDisk(mnt);
        return undefined;
      },
      restore: (mnt) => unlinkSync(filler(mnt)),
    });
  });
});
