/**
 * End to end: the built CLI runs `prodprobe drift compare` with vega-datasets' flights-3m.parquet
 * as the reference (and 300k- and 1M-row slices of it, so growth shows) against flights-200k.json
 * (targets: < 15 s, < 1.5 GB peak RSS, memory flat as rows grow). Each run is a child process;
 * peak RSS from /usr/bin/time -v when present, else by polling its /proc/<pid>/status VmHWM.
 * Baseline in the same run: the same CLI doing nothing but `prodprobe --version` (process start-up
 * and module loading). Needs `pnpm build` first (the CLI's dist).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BenchOptions, type BenchRow, count, row, runMain } from '../../../bench/rows.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../../..');
const cli = join(root, 'apps/cli/dist/bin.js');
const data = resolve(here, '../node_modules/vega-datasets/data');
const flights3m = join(data, 'flights-3m.parquet');

// DuckDB is a CLI dependency (the drift package itself never depends on it).
interface DuckDb {
  DuckDBInstance: {
    create(path: string): Promise<{
      connect(): Promise<{ run(sql: string): Promise<unknown>; closeSync(): void }>;
      closeSync(): void;
    }>;
  };
}

async function slice(rows: number, to: string): Promise<void> {
  const { DuckDBInstance } = createRequire(join(root, 'apps/cli/package.json'))('@duckdb/node-api') as DuckDb;
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  await conn.run(
    `COPY (SELECT * FROM read_parquet('${flights3m}') LIMIT ${rows}) TO '${to}' (FORMAT parquet)`,
  );
  conn.closeSync();
  db.closeSync();
}

const hasTime = existsSync('/usr/bin/time');

interface Run {
  seconds: number;
  peakMb: number;
  status: number | null;
  out: string;
}

/** Runs the CLI as a child process: wall time, peak RSS, exit status, stdout. */
function measure(args: string[]): Promise<Run> {
  const start = performance.now();
  const [cmd, argv] = hasTime
    ? ['/usr/bin/time', ['-v', process.execPath, cli, ...args]]
    : [process.execPath, [cli, ...args]];
  const child = spawn(cmd, argv as string[], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => {
    out += s;
  });
  child.stderr.setEncoding('utf8').on('data', (s: string) => {
    err += s;
  });
  let hwmKb = 0;
  const poll = hasTime
    ? undefined
    : setInterval(() => {
        try {
          const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
          if (m) hwmKb = Math.max(hwmKb, Number(m[1]));
        } catch {
          // exited between polls
        }
      }, 20);
  return new Promise((resolvePromise, reject) => {
    child.on('error', reject);
    child.on('close', (status) => {
      if (poll) clearInterval(poll);
      const seconds = (performance.now() - start) / 1000;
      const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(err);
      const peakMb = (m ? Number(m[1]) : hwmKb || Number.NaN) / 1024;
      if (status !== 0 && status !== 1) reject(new Error(`CLI ${args.join(' ')} exited ${status}: ${err}`));
      else resolvePromise({ seconds, peakMb, status, out });
    });
  });
}

/** drift compare at 300k, 1M and 3M reference rows against flights-200k.json. */
export async function bench({ quick }: BenchOptions): Promise<BenchRow[]> {
  if (!existsSync(cli)) throw new Error(`build the CLI first: ${cli} is missing (pnpm build)`);
  const dir = mkdtempSync(join(tmpdir(), 'drift-bench-'));
  try {
    const current = join(data, quick ? 'flights-20k.json' : 'flights-200k.json');
    const sizes = quick ? [30_000] : [300_000, 1_000_000, 3_000_000];
    const base = await measure(['--version']);
    const rss = 'peak RSS, /usr/bin/time -v' + (hasTime ? '' : ' absent: VmHWM polled every 20 ms');
    const rows: BenchRow[] = [];
    const peaks: number[] = [];
    for (const n of sizes) {
      let reference = flights3m;
      if (n !== 3_000_000) {
        reference = join(dir, `flights-${count(n)}.parquet`);
        await slice(n, reference);
      }
      const run = await measure(['--json', 'drift', 'compare', reference, current]);
      const report = JSON.parse(run.out) as {
        fields: { name: string; drift: boolean }[];
        approximate: boolean;
        reference: { rowCount: number };
      };
      peaks.push(run.peakMb);
      console.log(
        `drift compare ${count(n)} rows of flights-3m.parquet vs ${current.split('/').pop()}: ${run.seconds.toFixed(2)} s (target < 15 s), peak RSS ${run.peakMb.toFixed(0)} MB (target < 1536 MB) | baseline CLI start-up ${base.seconds.toFixed(2)} s, ${base.peakMb.toFixed(0)} MB`,
      );
      console.log(
        `  fields: ${report.fields.map((f) => `${f.name}${f.drift ? ' (drift)' : ''}`).join(', ')}; approximate=${report.approximate}`,
      );
      const size = `${count(n)} rows vs ${quick ? '20k' : '200k'}`;
      rows.push(
        row({
          measure: 'drift: `drift compare` flights-3m vs flights-200k.json, time',
          size,
          unit: 's',
          baselineName: 'CLI start-up (--version)',
          baseline: base.seconds,
          prodprobe: run.seconds,
          target: '< 15 s',
          ok: run.seconds < 15,
          note: `child process, --json, piped; ${report.fields.filter((f) => f.drift).length} of ${report.fields.length} fields drifted`,
        }),
        row({
          measure: 'drift: `drift compare` flights-3m vs flights-200k.json, peak RSS',
          size,
          unit: 'MB',
          baselineName: 'CLI start-up (--version)',
          baseline: base.peakMb,
          prodprobe: run.peakMb,
          target: '< 1.5 GB, flat as rows grow (≤ 1.25× the smallest size)',
          ok: run.peakMb < 1536 && run.peakMb <= 1.25 * peaks[0]!,
          note: `${rss}; both files streamed in DuckDB chunks into profiles (the 200k side is kept as rows only up to 100k rows)`,
        }),
      );
    }
    return rows;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await runMain(import.meta.url, bench);
