import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statfsSync, statSync, unlinkSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listSegments, readPredictionLogs } from '@prodprobe/logger';
import { afterAll, describe, expect, it } from 'vitest';
import { fillDisk, recordFault, repoRoot } from './table.ts';

/**
 * Logger, full or read-only disk: a real service (a child process answering HTTP on 127.0.0.1)
 * logs every request it answers, 1 in 20 an error, into a tiny tmpfs. The disk is filled (or the
 * folder turned read-only) mid-run, then given back. The promises: memory stays bounded,
 * successes are dropped and counted (gap markers), no error is lost, the service keeps answering
 * fast, and logging resumes on its own when the disk takes writes again.
 */
const root = mkdtempSync(join(tmpdir(), 'pp-faults-disk-'));
const mounts: string[] = [];
const children = new Set<ChildProcess>();

afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
  // Innermost first (the read-only bind mount sits on a folder of its tmpfs).
  for (const mnt of mounts.reverse()) {
    if (spawnSync('umount', [mnt]).status !== 0) spawnSync('umount', ['-l', mnt]);
  }
  rmSync(root, { recursive: true, force: true });
});

const FLUSH_MS = 200;
const MAX_QUEUE = 500;
const BEFORE = 400;
const DURING = 4000;
const AFTER = 400;
const CONCURRENCY = 4;
/** The bound on the p99 of the service's answers while the disk refuses writes. */
const P99_BOUND_MS = 100;

function run(cmd: string, args: string[]): { ok: boolean; error: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return {
    ok: r.status === 0,
    error: `${cmd} ${args.join(' ')}: ${(r.stderr || r.error?.message || '').trim()}`,
  };
}

/** Mounts a 2 MiB tmpfs; the reason it could not, or undefined. */
function mountTmpfs(name: string): { dir: string; skip?: string } {
  const dir = join(root, name);
  mkdirSync(dir);
  const r = run('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', dir]);
  if (!r.ok) return { dir, skip: `cannot mount a tmpfs (needs root or CAP_SYS_ADMIN): ${r.error}` };
  mounts.push(dir);
  return { dir };
}

interface Service {
  child: ChildProcess;
  port: number;
  agent: Agent;
}

async function startService(dir: string, segmentMaxBytes: number): Promise<Service> {
  const child = spawn(
    process.execPath,
    ['faults/fixtures/disk-service.mjs', dir, String(FLUSH_MS), String(MAX_QUEUE), String(segmentMaxBytes)],
    { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  children.add(child);
  child.once('exit', () => children.delete(child));
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (c: string) => {
    stderr += c;
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout?.setEncoding('utf8').on('data', (c: string) => {
      out += c;
      const m = /READY (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`service exited ${code}: ${stderr}`)));
  });
  return { child, port, agent: new Agent({ keepAlive: true, maxSockets: CONCURRENCY }) };
}

function call<T>(svc: Service, path: string, method = 'GET'): Promise<T> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port: svc.port, path, method, agent: svc.agent, timeout: 30_000 },
      (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (c: string) => {
          body += c;
        });
        res.on('end', () => {
          if (res.statusCode !== 200) reject(new Error(`${path}: HTTP ${res.statusCode}`));
          else resolve(JSON.parse(body) as T);
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${path}: no answer in 30 s`)));
    req.on('error', reject);
    req.end();
  });
}

interface Stats {
  logged: number;
  dropped: number;
  errors: number;
  written: number;
  gapMarkers: number;
  queued: number;
  inFlight: number;
  maxBuffered: number;
  errorsOverBound: number;
  writeFailures: number;
  maxRss: number;
  rss: number;
  writeErrors: number;
  lastErrorCode: string;
}

/** Sends requests `from .. from+count-1`, CONCURRENCY at a time; the latency of each answer. */
async function traffic(svc: Service, from: number, count: number) {
  const latencies: number[] = [];
  const reasons: Record<string, number> = {};
  let next = from;
  const worker = async () => {
    while (next < from + count) {
      const seq = next++;
      const t = performance.now();
      const answer = await call<{ seq: number; reason: string }>(svc, `/p/${seq}`);
      latencies.push(performance.now() - t);
      if (answer.seq !== seq) throw new Error(`asked ${seq}, answered ${answer.seq}`);
      reasons[answer.reason] = (reasons[answer.reason] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return { latencies, reasons };
}

function p99(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))] as number;
}

/** Polls `/stats` until `done` holds (the logger's own timer at work, no flush asked). */
async function waitFor(svc: Service, done: (s: Stats) => boolean, timeoutMs: number): Promise<Stats> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await call<Stats>(svc, '/stats');
    if (done(s) || Date.now() > deadline) return s;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Fills the file system holding `dir` with one file until it refuses a page; its path. */

interface DiskCase {
  fault: string;
  /** Makes the disk refuse writes; returns a figure of what was done, or a reason it could not. */
  break(logs: string, mnt: string): { done: boolean; note: string };
  /** Gives the disk back. */
  restore(logs: string, mnt: string): void;
  segmentMaxBytes: number;
}

async function runCase(c: DiskCase, mntName: string): Promise<void> {
  const mnt = mountTmpfs(mntName);
  if (mnt.skip !== undefined) {
    recordFault({ fault: c.fault, cases: 0, lost: 0, figure: `skipped: ${mnt.skip}` }, import.meta.filename);
    console.warn(`${c.fault}: skipped: ${mnt.skip}`);
    return;
  }
  const logs = join(mnt.dir, 'logs');
  mkdirSync(logs);
  const svc = await startService(logs, c.segmentMaxBytes);
  try {
    const before = await traffic(svc, 0, BEFORE);
    expect(await call<{ ok: boolean }>(svc, '/flush', 'POST')).toEqual({ ok: true });
    const rssBefore = (await call<Stats>(svc, '/stats')).rss;

    const broken = c.break(logs, mnt.dir);
    if (!broken.done) {
      recordFault(
        { fault: c.fault, cases: 0, lost: 0, figure: `skipped: ${broken.note}` },
        import.meta.filename,
      );
      console.warn(`${c.fault}: skipped: ${broken.note}`);
      return;
    }
    const during = await traffic(svc, BEFORE, DURING);
    const full = await call<Stats>(svc, '/stats');
    const flushWhileBroken = await call<{ ok: boolean; error?: string }>(svc, '/flush', 'POST');
    // Errors logged so far that are not on disk must all be in the logger's buffer.
    const errorsLogged = (n: number) => Math.floor((n - 1) / 20) + 1;
    const onDiskWhileBroken = await readPredictionLogs(logs);
    const errorsOnDiskWhileBroken = new Set(
      onDiskWhileBroken.entries.filter((e) => !e.ok).map((e) => e.requestId),
    ).size;
    const bufferedWhileBroken = full.queued + full.inFlight;
    const missingWhileBroken = errorsLogged(BEFORE + DURING) - errorsOnDiskWhileBroken;

    c.restore(logs, mnt.dir);
    const restoredAt = Date.now();
    // The logger's own timer writes what waited (no flush asked): the buffer empties.
    const resumedAlone = await waitFor(
      svc,
      (s) => s.queued + s.inFlight === 0 && s.written > full.written,
      10_000,
    );
    const resumeMs = Date.now() - restoredAt;
    const after = await traffic(svc, BEFORE + DURING, AFTER);
    const flushAfter = await call<{ ok: boolean; error?: string }>(svc, '/flush', 'POST');
    const end = await call<Stats>(svc, '/stats');

    const total = BEFORE + DURING + AFTER;
    const disk = await readPredictionLogs(logs);
    const seen = new Map<string, number>();
    for (const e of disk.entries) seen.set(e.requestId, (seen.get(e.requestId) ?? 0) + 1);
    let errorsLost = 0;
    let duplicated = 0;
    let successesOnDisk = 0;
    let afterMissing = 0;
    for (let seq = 0; seq < total; seq++) {
      const n = seen.get(`r-${seq}`) ?? 0;
      if (n > 1) duplicated += n - 1;
      if (seq % 20 === 0) {
        if (n === 0) errorsLost++;
      } else if (n > 0) successesOnDisk++;
      if (seq >= BEFORE + DURING && n === 0) afterMissing++;
    }
    const successes = total - errorsLogged(total);
    const gapDropped = disk.gaps.reduce((n, g) => n + g.dropped, 0);
    // Every success is on disk or counted as dropped, once: on disk + counted = logged.
    const miscounted =
      Math.abs(successesOnDisk + end.dropped - successes) + Math.abs(gapDropped - end.dropped);
    const segments = await listSegments(logs);
    // A failed write must not leave a new empty segment per retry (an outage would leave thousands).
    const emptySegments = segments.filter((f) => statSync(f).size === 0).length;
    const fullP99 = p99(during.latencies);
    const resumed = flushAfter.ok && afterMissing === 0 && resumedAlone.queued + resumedAlone.inFlight === 0;
    const overBound = end.maxBuffered > MAX_QUEUE ? 1 : 0;
    const lost = errorsLost + duplicated + miscounted + (resumed ? 0 : 1) + overBound;
    recordFault(
      {
        fault: c.fault,
        cases: DURING,
        lost,
        figure:
          `${broken.note}; errors ${errorsLogged(total)} logged, ${errorsLogged(total) - errorsLost} on disk ` +
          `(while broken ${errorsOnDiskWhileBroken} on disk + ${missingWhileBroken} of ${bufferedWhileBroken} buffered), ` +
          `${duplicated} duplicated; successes ${end.dropped.toLocaleString('en')} of ${successes.toLocaleString('en')} dropped ` +
          `(${gapDropped.toLocaleString('en')} in ${disk.gaps.length} gap markers, ${miscounted} miscounted); ` +
          `${end.writeFailures} write failures (${full.lastErrorCode}), flush() while broken ${flushWhileBroken.ok ? 'resolved' : 'rejected'}, ` +
          `${segments.length} segments (${emptySegments} empty, ${disk.tornLines} torn lines); ` +
          `maxBuffered ${end.maxBuffered} of maxQueue ${MAX_QUEUE}, max RSS ${(end.maxRss / 2 ** 20).toFixed(0)} MiB ` +
          `(${((end.maxRss - rssBefore) / 2 ** 20).toFixed(1)} MiB over the start); answers p99 ${fullP99.toFixed(1)} ms while broken ` +
          `(${p99(before.latencies).toFixed(1)} ms before, bound ${P99_BOUND_MS} ms); resumed ${resumed ? 'yes' : 'no'} ` +
          `(buffer written ${resumeMs} ms after the disk came back, no flush asked)`,
      },
      import.meta.filename,
    );
    expect(full.writeFailures, 'the disk never refused a write: the fault was not injected').toBeGreaterThan(
      0,
    );
    expect(flushWhileBroken.ok).toBe(false);
    expect(missingWhileBroken).toBeLessThanOrEqual(bufferedWhileBroken);
    expect({ errorsLost, duplicated, miscounted, resumed, overBound }).toEqual({
      errorsLost: 0,
      duplicated: 0,
      miscounted: 0,
      resumed: true,
      overBound: 0,
    });
    expect(end.errorsOverBound).toBe(0);
    expect(during.reasons.kept ?? 0).toBeGreaterThan(0);
    expect(fullP99).toBeLessThanOrEqual(P99_BOUND_MS);
    expect(disk.invalidLines).toBe(0);
    // A write cut short is truncated back to its last whole line (packages/logger segment.ts).
    expect(disk.tornLines).toBe(0);
    expect(emptySegments).toBeLessThanOrEqual(1);
    expect(after.latencies.length).toBe(AFTER);
  } finally {
    await call(svc, '/close', 'POST').catch(() => undefined);
    svc.agent.destroy();
    if (svc.child.exitCode === null) {
      const exited = new Promise((r) => svc.child.once('exit', r));
      if (svc.child.exitCode === null) {
        svc.child.kill('SIGKILL');
        await exited;
      }
    }
  }
}

describe('logger: full or read-only disk', () => {
  it('disk full mid-run: errors kept, successes dropped and counted, service answers, logging resumes', async () => {
    let filler = '';
    await runCase(
      {
        fault: 'logger: disk full',
        segmentMaxBytes: 64 * 1024 * 1024,
        break: (_logs, mnt) => {
          filler = fillDisk(mnt);
          const free = statfsSync(mnt);
          return { done: true, note: `2 MiB tmpfs filled (${free.bavail} blocks left)` };
        },
        restore: () => unlinkSync(filler),
      },
      'full',
    );
  });

  it('folder read-only mid-run, then writable again: same promises', async () => {
    let bound: string | undefined;
    await runCase(
      {
        fault: 'logger: folder read-only mid-run',
        // Small segments: the open one keeps taking writes (see below), the next one is refused.
        segmentMaxBytes: 16 * 1024,
        break: (logs) => {
          // The kernel refuses to remount a file system read-only while a file is open for writing
          // on it (EBUSY: the logger's open segment), so the folder gets a read-only bind mount of
          // itself: every new segment (open, mkdir) is refused with EROFS.
          const bind = run('mount', ['--bind', logs, logs]);
          if (!bind.ok) return { done: false, note: bind.error };
          bound = logs;
          mounts.push(logs);
          const ro = run('mount', ['-o', 'remount,bind,ro', logs]);
          if (!ro.ok) return { done: false, note: ro.error };
          return { done: true, note: 'folder remounted read-only (bind mount), open segment kept' };
        },
        restore: (logs) => {
          const rw = run('mount', ['-o', 'remount,bind,rw', logs]);
          if (!rw.ok) throw new Error(rw.error);
        },
      },
      'ro',
    );
    if (bound !== undefined && spawnSync('umount', [bound]).status === 0)
      mounts.splice(mounts.indexOf(bound), 1);
  });
});
