/**
 * End to end: the built CLI runs `prodprobe drift compare` on vega-datasets' flights-3m.parquet
 * (3M rows) against a 200k-row slice of itself (target < 15 s, peak RSS < 1.5 GB), measured as a
 * child process with /usr/bin/time -v when present. Baseline in the same run: the same CLI doing
 * nothing but `prodprobe --version` (process start-up and module loading).
 * Needs `pnpm build` first (the CLI's dist).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../../..');
const cli = join(root, 'apps/cli/dist/bin.js');
const flights = resolve(here, '../node_modules/vega-datasets/data/flights-3m.parquet');
if (!existsSync(cli)) throw new Error(`build the CLI first: ${cli} is missing (pnpm build)`);

const dir = mkdtempSync(join(tmpdir(), 'drift-bench-'));
const slice = join(dir, 'flights-200k.parquet');
// DuckDB is a CLI dependency (the drift package itself never depends on it).
interface DuckDb {
  DuckDBInstance: {
    create(path: string): Promise<{
      connect(): Promise<{ run(sql: string): Promise<unknown>; closeSync(): void }>;
      closeSync(): void;
    }>;
  };
}
const { DuckDBInstance } = createRequire(join(root, 'apps/cli/package.json'))('@duckdb/node-api') as DuckDb;
const db = await DuckDBInstance.create(':memory:');
const conn = await db.connect();
await conn.run(
  `COPY (SELECT * FROM read_parquet('${flights}') LIMIT 200000 OFFSET 1000000) TO '${slice}' (FORMAT parquet)`,
);
conn.closeSync();
db.closeSync();

const hasTime = existsSync('/usr/bin/time');
function measure(args: string[]): { seconds: number; maxRssMb: number; status: number | null; out: string } {
  const start = performance.now();
  const r = hasTime
    ? spawnSync('/usr/bin/time', ['-v', process.execPath, cli, ...args], {
        encoding: 'utf8',
        maxBuffer: 1 << 28,
      })
    : spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const seconds = (performance.now() - start) / 1000;
  const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr ?? '');
  return { seconds, maxRssMb: m ? Number(m[1]) / 1024 : Number.NaN, status: r.status, out: r.stdout };
}

const base = measure(['--version']);
const run = measure(['--json', 'drift', 'compare', flights, slice, '--html', join(dir, 'report.html')]);
if (run.status !== 0 && run.status !== 1) throw new Error(`CLI failed with status ${run.status}`);
const report = JSON.parse(run.out) as { fields: { name: string; drift: boolean }[]; approximate: boolean };
console.log(
  `drift compare flights-3m.parquet vs 200k slice: ${run.seconds.toFixed(2)} s (target < 15 s), peak RSS ${run.maxRssMb.toFixed(0)} MB (target < 1536 MB) | baseline CLI start-up ${base.seconds.toFixed(2)} s, ${base.maxRssMb.toFixed(0)} MB | ratio ${(run.seconds / base.seconds).toFixed(1)}x`,
);
console.log(
  `  fields: ${report.fields.map((f) => `${f.name}${f.drift ? ' (drift)' : ''}`).join(', ')}; approximate=${report.approximate}`,
);
