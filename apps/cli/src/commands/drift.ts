/**
 * `prodprobe drift profile|compare|timeline|merge`: dataset profiles and drift reports from data
 * files (CSV, JSON, JSONL, Parquet via DuckDB), saved profiles, log and capture folders.
 */
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createFileCaptureStore, type FileCaptureStore } from '@prodprobe/capture';
import {
  compare,
  createProfileBuilder,
  createTimelineBuilder,
  DriftError,
  type DriftReport,
  driftTimeline,
  mergeProfiles,
  type Profile,
  parseIsoDate,
  parseProfile,
  renderHtml,
  renderMarkdown,
  renderText,
} from '@prodprobe/drift';
import type { Command } from 'commander';
import { readDataFile } from '../data-files.js';
import {
  type CliTimeline,
  formatWindow,
  parseWindow,
  renderTimelineHtml,
  renderTimelineText,
} from '../drift-timeline.js';
import { capturedRows, type LoggedInputs, scanLoggedInputs } from '../input-rows.js';
import { CliError, colorEnabled, ExitCode, type Io, printJson } from '../output.js';
import { type RegisterCommand, setExitCode } from '../program.js';

/** Inputs up to this many rows are also compared value by value (exact tests); larger ones by profile. */
const EXACT_ROWS = 100_000;
/** Most windows `drift timeline` keeps (each is a profile in memory; a longer table is unreadable). */
const MAX_WINDOWS = 1000;

interface Loaded {
  profile: Profile;
  rows?: Record<string, unknown>[];
}

/** Progress on stderr for long reads: only on a TTY, and never with --json (`quiet`). */
function progressBar(
  io: Io,
  label: string,
  quiet: boolean,
): ((read: number, total: number | undefined) => void) & { done(): void } {
  const tty = io.stderr.isTTY === true && !quiet;
  let last = 0;
  let shown = false;
  const fn = (read: number, total: number | undefined) => {
    if (!tty || read < 100_000) return;
    const now = Date.now();
    if (now - last < 100 && read !== total) return;
    last = now;
    shown = true;
    const width = 30;
    const frac = total ? Math.min(1, read / total) : 0;
    const bar = total
      ? `[${'#'.repeat(Math.round(frac * width)).padEnd(width, '.')}] ${Math.round(frac * 100)}% `
      : '';
    io.stderr.write(`\r${label} ${bar}${(read / 1e6).toFixed(2)}M rows`);
  };
  return Object.assign(fn, {
    done: () => {
      if (shown) io.stderr.write('\n');
    },
  });
}

function readProfileFile(file: string, cwd: string): Profile | undefined {
  if (!file.toLowerCase().endsWith('.json')) return undefined;
  let text: string;
  try {
    text = readFileSync(resolve(cwd, file), 'utf8');
  } catch (error) {
    throw new CliError(`${file}: cannot read (${(error as Error).message})`, undefined, { cause: error });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined; // not one JSON document: let DuckDB read it as data
  }
  if (
    typeof value !== 'object' ||
    value === null ||
    (value as { kind?: unknown }).kind !== 'prodprobe.drift.profile'
  )
    return undefined;
  try {
    return parseProfile(value);
  } catch (error) {
    throw new CliError(`${file}: ${(error as Error).message}`, undefined, { cause: error });
  }
}

/**
 * The inputs of a prediction log folder (`@prodprobe/logger`), as diagnose reads them: the uniform
 * sample of requests (every entry when the log has no sampled success, said so on stderr), with
 * their times. Streamed: the folder's size does not matter. `notLogs` is the error when the folder
 * holds no log entry.
 */
async function readLoggedRows(
  dir: string,
  io: Io,
  onRow: (row: Record<string, unknown>, timestamp: string) => void,
  notLogs: string,
): Promise<LoggedInputs> {
  let scan: LoggedInputs;
  try {
    scan = await scanLoggedInputs(dir, onRow);
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(`${dir}: cannot read prediction logs (${(error as Error).message})`, undefined, {
      cause: error,
    });
  }
  if (scan.entries === 0) throw new CliError(`${dir}: ${notLogs}`);
  if (scan.rows === 0) {
    throw new CliError(
      `${dir}: ${scan.entries} log entries, but no logged input is a row (an object of fields; the logger was run with includeInput: false, or the inputs are tensors), so there is nothing to profile`,
    );
  }
  io.stderr.write(`${dir}: ${scan.rows} logged inputs, ${scan.source} (sanitized as logged)\n`);
  return scan;
}

/** A log folder's inputs as one profile, and as rows when few enough for exact tests. */
async function loadLoggedInputs(dir: string, io: Io): Promise<Loaded> {
  const builder = createProfileBuilder();
  let rows: Record<string, unknown>[] | undefined = [];
  await readLoggedRows(
    dir,
    io,
    (row) => {
      builder.add(row);
      if (rows && rows.push(row) > EXACT_ROWS) rows = undefined;
    },
    'a folder, but neither a prediction log folder nor a capture folder (no log entries or capture records in it); give a data file, a profile, a log folder or a capture folder',
  );
  return { profile: builder.toJSON(), ...(rows ? { rows } : {}) };
}

/**
 * The inputs of a capture folder (`@prodprobe/capture`'s file store): failures only, so their drift
 * says what the failing inputs have in common, not how the traffic moved. `undefined` when the
 * folder holds no capture record.
 */
async function loadCapturedInputs(dir: string, io: Io): Promise<Loaded | undefined> {
  let scan: Awaited<ReturnType<FileCaptureStore['scan']>>;
  try {
    scan = await createFileCaptureStore(dir).scan();
  } catch (error) {
    throw new CliError(`${dir}: cannot read the folder (${(error as Error).message})`, undefined, {
      cause: error,
    });
  }
  const { records, skipped } = scan;
  if (records.length === 0) return undefined;
  const rows = capturedRows(records);
  const builder = createProfileBuilder();
  for (const row of rows) builder.add(row);
  const left = records.length - rows.length;
  if (rows.length === 0) {
    throw new CliError(
      `${dir}: ${records.length} captures, but no captured input is a row (an object of fields), so there is nothing to profile`,
    );
  }
  io.stderr.write(
    `${dir}: ${rows.length} captured inputs (failures only, so this is the drift of what failed; sanitized as captured)${left ? `, ${left} left out (not an object of fields)` : ''}${skipped.length ? `, ${skipped.length} unreadable record file(s) skipped` : ''}\n`,
  );
  return { profile: builder.toJSON(), ...(rows.length <= EXACT_ROWS ? { rows } : {}) };
}

async function load(file: string, io: Io, keepRows: boolean, json: boolean): Promise<Loaded> {
  const saved = readProfileFile(file, io.cwd);
  if (saved) return { profile: saved };
  const path = resolve(io.cwd, file);
  if (existsSync(path) && statSync(path).isDirectory())
    return (await loadCapturedInputs(path, io)) ?? loadLoggedInputs(path, io);
  const builder = createProfileBuilder();
  let chunks: { columns: Record<string, Float64Array | unknown[]>; n: number }[] | undefined = keepRows
    ? []
    : undefined;
  let kept = 0;
  let dateColumns: readonly string[] = [];
  const progress = progressBar(io, file, json);
  await readDataFile(
    file,
    io.cwd,
    (columns, n, dates) => {
      dateColumns = dates;
      builder.addColumns(columns, { dates });
      if (chunks) {
        kept += n;
        if (kept > EXACT_ROWS) chunks = undefined;
        else chunks.push({ columns, n });
      }
    },
    { onProgress: progress },
  );
  progress.done();
  if (builder.rowCount === 0)
    throw new CliError(`${file}: no rows, so there is nothing to profile or compare`);
  const profile = builder.toJSON();
  if (!chunks) return { profile };
  const rows: Record<string, unknown>[] = [];
  const isDate = new Set(dateColumns);
  for (const { columns, n } of chunks) {
    const names = Object.keys(columns);
    for (let i = 0; i < n; i++) {
      const row: Record<string, unknown> = {};
      for (const name of names) {
        const v = columns[name]![i];
        // Dates go back to Date values, so the exact comparison profiles them as dates too.
        row[name] = isDate.has(name) && typeof v === 'number' ? new Date(v) : v;
      }
      rows.push(row);
    }
  }
  return { profile, rows };
}

/**
 * The rows of a data file with their times from its `time` column (a DATE/TIMESTAMP column, or
 * ISO 8601 strings; a row whose time is missing or unreadable is counted as undated), streamed; the
 * time column itself is not a row field. Returns what the rows are.
 */
async function readTimedRows(
  file: string,
  time: string,
  io: Io,
  json: boolean,
  add: (row: Record<string, unknown>, at: number) => void,
): Promise<string> {
  let rows = 0;
  const progress = progressBar(io, file, json);
  await readDataFile(
    file,
    io.cwd,
    (columns, n, dates) => {
      const times = columns[time];
      if (times === undefined)
        throw new CliError(
          `--time ${time}: no such column in ${file} (columns: ${Object.keys(columns).join(', ')})`,
        );
      const isDate = new Set(dates);
      const timeIsDate = isDate.has(time);
      const names = Object.keys(columns).filter((name) => name !== time);
      for (let i = 0; i < n; i++) {
        const row: Record<string, unknown> = {};
        for (const name of names) {
          const v = columns[name]![i];
          row[name] = isDate.has(name) && typeof v === 'number' ? new Date(v) : v;
        }
        const t = times[i];
        if (typeof t === 'number' && !timeIsDate)
          throw new CliError(
            `--time ${time}: a numeric column; give a date or timestamp column (or ISO 8601 strings), not numbers whose unit is unknown`,
          );
        // Strings as the profiles read dates: ISO 8601, a date-time without a zone in UTC.
        add(row, typeof t === 'number' ? t : typeof t === 'string' ? parseIsoDate(t) : Number.NaN);
      }
      rows += n;
    },
    { onProgress: progress },
  );
  progress.done();
  return `${rows} rows of ${file} by their ${time} column`;
}

function wrapDrift<T>(fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    if (error instanceof DriftError) throw new CliError(error.message, undefined, { cause: error });
    throw error;
  }
}

function writeOut(io: Io, file: string, text: string): void {
  try {
    writeFileSync(resolve(io.cwd, file), text);
  } catch (error) {
    throw new CliError(`${file}: cannot write (${(error as Error).message})`, undefined, { cause: error });
  }
}

function summary(report: DriftReport): string {
  return `${report.datasetDrift ? 'dataset drift' : 'no dataset drift'} (${report.driftedFields.length} drifted: ${report.driftedFields.join(', ') || 'none'})`;
}

export const registerDrift: RegisterCommand = (program, io) => {
  const drift = program
    .command('drift')
    .description(
      'profile datasets and find drift between a reference (training) and current (production) dataset',
    );

  drift
    .command('profile')
    .description('profile a data file (CSV, JSON, JSONL, Parquet) into a mergeable JSON profile')
    .argument('<data>', 'data file')
    .requiredOption('-o, --out <file>', 'where to write the profile JSON')
    .action(async (data: string, opts: { out: string }, command: Command) => {
      const { profile } = await load(data, io, false, Boolean(command.optsWithGlobals().json));
      writeOut(io, opts.out, `${JSON.stringify(profile)}\n`);
      if (command.optsWithGlobals().json)
        printJson(io, { out: opts.out, rows: profile.rowCount, fields: Object.keys(profile.fields) });
      else
        io.stdout.write(
          `profiled ${profile.rowCount} rows, ${Object.keys(profile.fields).length} fields -> ${opts.out}\n`,
        );
    });

  drift
    .command('compare')
    .description('compare current data with a reference: per-field tests, warnings and a verdict')
    .argument('<reference>', 'reference data file or profile JSON')
    .argument(
      '<current>',
      'current data file, profile JSON, a prediction log folder (its sampled inputs) or a capture folder (the failing inputs)',
    )
    .option('--html <file>', 'write a self-contained HTML report')
    .option('--markdown <file>', 'write a markdown report')
    .option(
      '--fail-on <what>',
      'exit 1 when "drift" (any field drifted) or "warning" (drift or any warning) is found',
    )
    .option('--fields <names>', 'comma-separated fields to compare')
    .option(
      '--compare-dates',
      'test date fields too (by default they are skipped, with both date ranges: time moves on)',
    )
    .action(
      async (
        reference: string,
        current: string,
        opts: { html?: string; markdown?: string; failOn?: string; fields?: string; compareDates?: boolean },
        command: Command,
      ) => {
        if (opts.failOn !== undefined && opts.failOn !== 'drift' && opts.failOn !== 'warning') {
          throw new CliError(`--fail-on: expected "drift" or "warning", got "${opts.failOn}"`);
        }
        const json = Boolean(command.optsWithGlobals().json);
        const ref = await load(reference, io, true, json);
        const cur = await load(current, io, true, json);
        const fields = opts.fields
          ?.split(',')
          .map((s) => s.trim())
          .filter(Boolean);
        const report = wrapDrift(() =>
          compare(ref.rows ?? ref.profile, cur.rows ?? cur.profile, {
            ...(fields ? { fields } : {}),
            compareDates: opts.compareDates === true,
          }),
        );
        if (opts.html)
          writeOut(io, opts.html, renderHtml(report, `Drift report: ${current} vs ${reference}`));
        if (opts.markdown) writeOut(io, opts.markdown, renderMarkdown(report));
        if (command.optsWithGlobals().json) printJson(io, report);
        else io.stdout.write(renderText(report, { color: colorEnabled(io.stdout, io.env) }));
        const drifted = report.driftedFields.length > 0;
        if (
          (opts.failOn === 'drift' && drifted) ||
          (opts.failOn === 'warning' && (drifted || report.warningCount > 0))
        ) {
          if (!command.optsWithGlobals().json) io.stderr.write(`failing: ${summary(report)}\n`);
          setExitCode(command, ExitCode.finding);
        }
      },
    );

  drift
    .command('timeline')
    .description('drift of production inputs against a reference, window by window: when did it start?')
    .argument('<reference>', 'reference data file or profile JSON')
    .argument(
      '<current>',
      'a prediction log folder (its uniform sample of requests), or a data file with a time column (--time)',
    )
    .option('--window <length>', 'window length: 30m, 1h, 6h, 1d, ... (windows are aligned in UTC)', '1h')
    .option('--time <column>', 'for a data file: its date/timestamp column (or ISO 8601 strings)')
    .option('--fields <names>', 'comma-separated fields to compare')
    .option('--fail-on <what>', 'exit 1 when "drift" (a window with dataset drift) is found')
    .option('--html <file>', 'also write a self-contained HTML report')
    .action(
      async (
        reference: string,
        current: string,
        opts: { window: string; time?: string; fields?: string; failOn?: string; html?: string },
        command: Command,
      ) => {
        if (opts.failOn !== undefined && opts.failOn !== 'drift')
          throw new CliError(`--fail-on: expected "drift", got "${opts.failOn}"`);
        const windowMs = parseWindow(opts.window);
        const windows = createTimelineBuilder(windowMs, { maxWindows: MAX_WINDOWS });
        const path = resolve(io.cwd, current);
        if (!existsSync(path)) throw new CliError(`${current}: no such file or folder`);
        const isFolder = statSync(path).isDirectory();
        if (!isFolder && opts.time === undefined)
          throw new CliError(
            `${current}: a data file; name its time column with --time (or give a prediction log folder)`,
          );
        const json = Boolean(command.optsWithGlobals().json);
        const ref = await load(reference, io, false, json);
        const add = (row: Record<string, unknown>, at: number) => {
          try {
            windows.add(row, at);
          } catch (error) {
            if (!(error instanceof DriftError)) throw error;
            throw new CliError(
              `${current} spans more than ${MAX_WINDOWS} windows of ${formatWindow(windowMs)}: give a longer --window`,
            );
          }
        };
        const source = isFolder
          ? (
              await readLoggedRows(
                path,
                io,
                (row, timestamp) => add(row, Date.parse(timestamp)),
                'not a prediction log folder (no log entries in it)',
              )
            ).source
          : await readTimedRows(current, opts.time!, io, json, add);
        const fields = opts.fields
          ?.split(',')
          .map((s) => s.trim())
          .filter(Boolean);
        const timeline: CliTimeline = {
          ...wrapDrift(() => driftTimeline(ref.profile, windows, fields ? { fields } : {})),
          reference,
          current,
          source,
        };
        if (opts.html) writeOut(io, opts.html, renderTimelineHtml(timeline));
        if (command.optsWithGlobals().json) printJson(io, timeline);
        else io.stdout.write(renderTimelineText(timeline, colorEnabled(io.stdout, io.env)));
        if (opts.failOn === 'drift' && timeline.firstDatasetDrift !== null)
          setExitCode(command, ExitCode.finding);
      },
    );

  drift
    .command('merge')
    .description('merge profiles (e.g. one per replica) into one')
    .argument('<profiles...>', 'profile JSON files')
    .requiredOption('-o, --out <file>', 'where to write the merged profile')
    .action((files: string[], opts: { out: string }, command: Command) => {
      const profiles = files.map((f) => {
        const p = readProfileFile(f, io.cwd);
        if (!p)
          throw new CliError(
            `${f}: not a drift profile (expected JSON written by "prodprobe drift profile")`,
          );
        return p;
      });
      const merged = wrapDrift(() => profiles.reduce((a, b) => mergeProfiles(a, b)));
      writeOut(io, opts.out, `${JSON.stringify(merged)}\n`);
      if (command.optsWithGlobals().json)
        printJson(io, { out: opts.out, rows: merged.rowCount, profiles: files.length });
      else io.stdout.write(`merged ${files.length} profiles (${merged.rowCount} rows) -> ${opts.out}\n`);
    });
};
