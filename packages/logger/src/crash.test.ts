import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { readPredictionLogs } from './read.js';

const pkgDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const root = mkdtempSync(join(tmpdir(), 'pp-logger-crash-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Runs the fixture with tsx; a test tsconfig maps @prodprobe/sanitize to its source, so no build is needed. */
function startChild(dir: string, mode: string, flushIntervalMs: number, worker: boolean): ChildProcess {
  return spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'test/fixtures/load-child.ts',
      dir,
      mode,
      String(flushIntervalMs),
      worker ? 'worker' : 'main',
    ],
    {
      cwd: pkgDir,
      env: { ...process.env, TSX_TSCONFIG_PATH: 'test/fixtures/tsconfig.json' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
}

function collectLines(child: ChildProcess, onLine: (line: string) => void): () => string {
  let buffer = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    buffer += chunk;
    let i = buffer.indexOf('\n');
    while (i >= 0) {
      onLine(buffer.slice(0, i));
      buffer = buffer.slice(i + 1);
      i = buffer.indexOf('\n');
    }
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  return () => stderr;
}

const exited = (child: ChildProcess) =>
  new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );

describe.each([
  ['on the calling thread', false],
  ['on the worker thread (serializeInWorker)', true],
])('crash safety, serializing %s', (_, worker) => {
  it('after SIGKILL under load, every entry logged more than one flush interval before the kill is on disk', async () => {
    const dir = join(root, `sigkill-${worker}`);
    const flushIntervalMs = 100;
    const child = startChild(dir, 'load', flushIntervalMs, worker);
    const bursts: { first: number; last: number; at: number }[] = [];
    let firstBurstAt = 0;
    const stderr = collectLines(child, (line) => {
      const [tag, first, last, at] = line.split(' ');
      if (tag !== 'L') return;
      bursts.push({ first: Number(first), last: Number(last), at: Number(at) });
      if (firstBurstAt === 0) firstBurstAt = Date.now();
    });
    const exit = exited(child);
    // Let it log for ~700 ms (several flush intervals), then kill it mid-load.
    const deadline = Date.now() + 30_000;
    while ((firstBurstAt === 0 || Date.now() - firstBurstAt < 700) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    const killAt = Date.now();
    child.kill('SIGKILL');
    const { signal } = await exit;
    expect(signal, stderr()).toBe('SIGKILL');

    const logs = await readPredictionLogs(dir);
    const onDisk = new Set(logs.entries.map((e) => e.requestId));
    const due = bursts.filter((b) => b.at < killAt - flushIntervalMs);
    expect(due.length).toBeGreaterThan(20);
    const missing: number[] = [];
    for (const b of due) for (let s = b.first; s <= b.last; s++) if (!onDisk.has(`c-${s}`)) missing.push(s);
    expect(missing).toEqual([]);
    // Nothing invented: everything on disk was reported as logged.
    const lastSeq = bursts.at(-1)?.last ?? -1;
    for (const id of onDisk) expect(Number(id.slice(2))).toBeLessThanOrEqual(lastSeq + 25);
    expect(logs.invalidLines).toBe(0);
  });

  it('installExitHandlers flushes on SIGTERM and then lets the signal end the process', async () => {
    const dir = join(root, `sigterm-${worker}`);
    // A long flush interval: only the exit handler can have written these entries.
    const child = startChild(dir, 'sigterm', 60_000, worker);
    const ready = new Promise<void>((resolve) => {
      const stderr = collectLines(child, (line) => {
        if (line.startsWith('READY')) resolve();
      });
      child.once('exit', () => resolve(void stderr));
    });
    const exit = exited(child);
    await ready;
    child.kill('SIGTERM');
    const { signal } = await exit;
    expect(signal).toBe('SIGTERM');
    const logs = await readPredictionLogs(dir);
    expect(logs.entries).toHaveLength(300);
    expect(logs.tornLines).toBe(0);
  });
});
