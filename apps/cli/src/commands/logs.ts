import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { LoggerError } from '@prodprobe/logger';
import {
  byModelVersion,
  errorSummary,
  exportParquet,
  failureProfile,
  type LogDatabase,
  latencyPercentiles,
  memoryTrend,
  openLogDatabase,
} from '@prodprobe/logger/query';
import type { Command } from 'commander';
import { CliError, colorEnabled, ExitCode, type Io, painter, printJson } from '../output.js';
import { type RegisterCommand, setExitCode } from '../program.js';
import { registerLogsRuntime } from './logs-runtime.js';

/** Package errors a user can fix (missing folder, bad SQL, bad bucket) become usage errors (exit 2). */
async function userErrors<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof LoggerError && error.code !== 'WRITE_FAILED') {
      const what = error.code === 'QUERY_FAILED' ? `query failed: ${error.message}` : error.message;
      throw new CliError(what, ExitCode.usage, { cause: error });
    }
    throw error;
  }
}

/** Opens the log folder, runs `fn`, closes; warns on stderr about torn lines the readers skipped. */
export async function withLogs<T>(io: Io, dir: string, fn: (db: LogDatabase) => Promise<T>): Promise<T> {
  const abs = resolve(io.cwd, dir);
  if (!existsSync(abs)) throw new CliError(`log directory ${dir} does not exist`);
  if (!statSync(abs).isDirectory()) throw new CliError(`log directory ${dir} is not a directory`);
  return userErrors(async () => {
    const db = await openLogDatabase(abs);
    try {
      if (db.scan.tornLines > 0) {
        io.stderr.write(
          `note: skipped ${db.scan.tornLines} torn last line(s) (a crash cut a write short) in ${db.scan.tornFiles.join(', ')}\n`,
        );
      }
      return await fn(db);
    } finally {
      db.close();
    }
  });
}

function cell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || Number.isInteger(value)) return String(value);
    return String(Number(value.toPrecision(4)));
  }
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'string') return value;
  return JSON.stringify(value, (_k, v) =>
    typeof v === 'number' && !Number.isFinite(v) ? String(v) : typeof v === 'bigint' ? v.toString() : v,
  );
}

/** Rows as a plain-text table with aligned columns. */
export function table(header: string[], rows: unknown[][]): string {
  const cells = [header, ...rows.map((r) => r.map(cell))];
  const widths = header.map((_, c) => Math.max(...cells.map((r) => (r[c] ?? '').length)));
  return `${cells
    .map((r) =>
      r
        .map((v, c) => (v ?? '').padEnd(widths[c] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')}\n`;
}

/** A share as a percentage with one decimal. */
export const pct = (x: number | null) => (x === null ? '' : `${(x * 100).toFixed(1)}%`);

/** Whether `--json` was given. */
export const json = (command: Command) => command.optsWithGlobals().json === true;

export const registerLogs: RegisterCommand = (program, io) => {
  const paint = painter(colorEnabled(io.stdout, io.env));
  const logs = program
    .command('logs')
    .description(
      'query prediction logs written by @prodprobe/logger (SQL over the JSONL segments with DuckDB)',
    );

  logs
    .command('query')
    .description(
      'run SQL over the logs; views: predictions, input_values, gaps, log_lines; macro pp_double(json)',
    )
    .argument('<dir>', 'log directory (the logger `dir`)')
    .argument('<sql>', 'SQL, e.g. "SELECT errorName, count(*) FROM predictions WHERE NOT ok GROUP BY 1"')
    .action(async (dir: string, sql: string, _opts: unknown, command: Command) => {
      const result = await withLogs(io, dir, async (db) => ({
        ...(await db.query(sql)),
        tornLines: db.scan.tornLines,
      }));
      if (json(command)) {
        printJson(io, result);
        return;
      }
      io.stdout.write(
        table(
          result.columns.map((c) => c.name),
          result.rows.map((r) => result.columns.map((c) => r[c.name])),
        ),
      );
      io.stdout.write(paint('dim', `(${result.rows.length} row${result.rows.length === 1 ? '' : 's'})\n`));
    });

  logs
    .command('errors')
    .description('errors grouped by type and message: counts, first/last seen, model versions')
    .argument('<dir>', 'log directory')
    .option('--limit <n>', 'most groups shown', '50')
    .action(async (dir: string, opts: { limit: string }, command: Command) => {
      const limit = Number(opts.limit);
      if (!Number.isInteger(limit) || limit < 1)
        throw new CliError(`--limit ${opts.limit}: expected a positive integer`);
      const summary = await withLogs(io, dir, (db) => errorSummary(db, { limit }));
      if (json(command)) {
        printJson(io, summary);
        return;
      }
      io.stdout.write(
        `${paint('bold', `${summary.errors} error(s)`)} in ~${Math.round(summary.estimatedRequests)} requests (${pct(summary.errorRate)})\n`,
      );
      if (summary.groups.length === 0) return;
      io.stdout.write(
        table(
          ['count', 'error', 'message', 'first seen', 'last seen', 'versions', 'hosts'],
          summary.groups.map((g) => [
            g.count,
            g.errorName,
            g.errorMessage.length > 60 ? `${g.errorMessage.slice(0, 57)}...` : g.errorMessage,
            g.firstSeen,
            g.lastSeen,
            g.modelVersions.join(','),
            g.hosts,
          ]),
        ),
      );
    });

  logs
    .command('failures')
    .description('input statistics of requests failing with one error type next to succeeding requests')
    .argument('<dir>', 'log directory')
    .requiredOption('--error <type>', 'error name, e.g. TypeError (see `prodprobe logs errors`)')
    .option('--top <n>', 'most fields shown', '20')
    .action(async (dir: string, opts: { error: string; top: string }, command: Command) => {
      const top = Number(opts.top);
      if (!Number.isInteger(top) || top < 1)
        throw new CliError(`--top ${opts.top}: expected a positive integer`);
      const profile = await withLogs(io, dir, (db) => failureProfile(db, opts.error));
      if (profile.failing.entries === 0) {
        throw new CliError(
          `no ${opts.error} errors in ${dir} (see \`prodprobe logs errors ${dir}\` for the error names)`,
        );
      }
      if (json(command)) {
        printJson(io, profile);
        return;
      }
      const f = profile.failing;
      const s = profile.succeeding;
      io.stdout.write(
        `${paint('bold', opts.error)}: ${f.entries} failing vs ~${Math.round(s.requests)} succeeding requests\n` +
          `per request: nulls ${cell(f.meanNullCount)} vs ${cell(s.meanNullCount)}, NaN ${cell(f.meanNanCount)} vs ${cell(s.meanNanCount)}, ` +
          `Inf ${cell(f.meanInfCount)} vs ${cell(s.meanInfCount)}\n\n`,
      );
      io.stdout.write(
        table(
          ['field', 'kind', 'present', 'NaN/Inf', 'mean', 'min..max', 'KS', 'score'],
          profile.fields
            .slice(0, top)
            .map((c) => [
              c.path,
              c.kind,
              `${pct(c.failing.present)} vs ${pct(c.succeeding.present)}`,
              `${pct(c.failing.nanShare + c.failing.infShare)} vs ${pct(c.succeeding.nanShare + c.succeeding.infShare)}`,
              `${cell(c.failing.mean) || '-'} vs ${cell(c.succeeding.mean) || '-'}`,
              `${cell(c.failing.min)}..${cell(c.failing.max)} vs ${cell(c.succeeding.min)}..${cell(c.succeeding.max)}`,
              c.ks === null ? '-' : `${c.ks.toFixed(3)}${c.ksSignificant ? '*' : ''}`,
              c.score,
            ]),
        ),
      );
      io.stdout.write(
        `\nKS: largest gap between the failing and succeeding value distributions (weighted); * beyond its 5% critical value, and then part of the score.\n`,
      );
    });

  logs
    .command('latency')
    .description(
      'requests, errors, error rate and p50/p95/p99 latency per time bucket (weighted by sampling weight)',
    )
    .argument('<dir>', 'log directory')
    .option(
      '--bucket <interval>',
      'bucket width, e.g. "5 minutes", "1 hour", "1 day", or 5m, 1h, 1d',
      '1 hour',
    )
    .action(async (dir: string, opts: { bucket: string }, command: Command) => {
      const buckets = await withLogs(io, dir, (db) => latencyPercentiles(db, { bucket: opts.bucket }));
      if (json(command)) {
        printJson(io, buckets);
        return;
      }
      io.stdout.write(
        table(
          ['bucket', 'entries', '~requests', 'errors', 'error %', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms'],
          buckets.map((b) => [
            b.bucket,
            b.entries,
            Math.round(b.requests),
            b.errors,
            +(b.errorRate * 100).toPrecision(3),
            b.p50,
            b.p95,
            b.p99,
            b.max,
          ]),
        ),
      );
    });

  logs
    .command('memory')
    .description('rss slope per 1,000 requests per process and a leak verdict (exit 1 on a leak)')
    .argument('<dir>', 'log directory')
    .option('--leak-bytes-per-1k <bytes>', 'slope that counts as a leak', String(256 * 1024))
    .action(async (dir: string, opts: { leakBytesPer1k: string }, command: Command) => {
      const leakBytesPer1k = Number(opts.leakBytesPer1k);
      if (!Number.isFinite(leakBytesPer1k) || leakBytesPer1k <= 0) {
        throw new CliError(`--leak-bytes-per-1k ${opts.leakBytesPer1k}: expected a positive number of bytes`);
      }
      const trend = await withLogs(io, dir, (db) => memoryTrend(db, { leakBytesPer1k }));
      if (trend.verdict === 'leak') setExitCode(command, ExitCode.finding);
      if (json(command)) {
        printJson(io, trend);
        return;
      }
      const mib = (b: number | null) => (b === null ? '' : `${(b / 1024 / 1024).toFixed(2)} MiB`);
      const verdict = trend.verdict === 'leak' ? paint('red', 'leak') : trend.verdict;
      io.stdout.write(`verdict: ${verdict}\n`);
      io.stdout.write(
        table(
          [
            'host',
            'pid',
            'points',
            '~requests',
            'rss first',
            'rss last',
            'rss / 1k req',
            'r2',
            'heap peak',
            'of limit',
            'replaced',
            'verdict',
          ],
          trend.processes.map((p) => [
            p.host,
            p.pid,
            p.points,
            Math.round(p.requests),
            mib(p.firstRss),
            mib(p.lastRss),
            mib(p.rssSlopePer1k),
            p.r2,
            mib(p.maxHeapUsed),
            pct(p.peakHeapShare),
            p.replaced ? 'yes' : '',
            p.verdict,
          ]),
        ),
      );
    });

  registerLogsRuntime(logs, io);

  logs
    .command('versions')
    .description('requests, errors, error rate and latency per model version')
    .argument('<dir>', 'log directory')
    .action(async (dir: string, _opts: unknown, command: Command) => {
      const rows = await withLogs(io, dir, (db) => byModelVersion(db));
      if (json(command)) {
        printJson(io, rows);
        return;
      }
      io.stdout.write(
        table(
          [
            'version',
            'entries',
            '~requests',
            'errors',
            'error rate',
            'mean ms',
            'p95 ms',
            'first seen',
            'last seen',
          ],
          rows.map((r) => [
            r.modelVersion,
            r.entries,
            Math.round(r.requests),
            r.errors,
            pct(r.errorRate),
            r.meanLatencyMs,
            r.p95LatencyMs,
            r.firstSeen,
            r.lastSeen,
          ]),
        ),
      );
    });

  logs
    .command('export')
    .description('export the predictions view to Parquet (for ClickHouse, Spark, BigQuery)')
    .argument('<dir>', 'log directory')
    .requiredOption('--parquet <file>', 'output .parquet file')
    .action(async (dir: string, opts: { parquet: string }, command: Command) => {
      const out = resolve(io.cwd, opts.parquet);
      const { rows } = await withLogs(io, dir, (db) => exportParquet(db, out));
      if (json(command)) {
        printJson(io, { out, rows });
        return;
      }
      io.stdout.write(`wrote ${rows} row(s) to ${opts.parquet}\n`);
    });
};
