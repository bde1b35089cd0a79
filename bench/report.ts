/**
 * `pnpm bench:report`: every benchmark of the repo, each beside its baseline measured in the same
 * run, as one table `measure | baseline | prodprobe | ratio | target | ok`, written to
 * bench/REPORT.json and bench/REPORT.md (regenerated, never hand-edited).
 *
 * Each bench runs in its own child process (so one bench's heap and JIT state do not skew
 * another), one after the other (they share 2 cores). `--quick` runs each once on small data and
 * writes to a temporary folder: it checks that the benches still produce well-formed rows, not
 * that targets hold (bench/quick.test.ts runs it in `pnpm test`).
 *
 * Usage: tsx bench/report.ts [--quick] [--out <dir>] [--only <name,...>]
 *        tsx bench/report.ts --render   (REPORT.md again from REPORT.json)
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BenchRow, fmt, renderMarkdownTable, renderTable, rowProblems } from './rows.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** One benchmark module of the repo and how to run it. */
interface BenchSpec {
  name: string;
  /** The package folder (the child's cwd, so its dependencies resolve). */
  cwd: string;
  file: string;
  env?: Record<string, string>;
}

/** Every bench of the report, in the order of the issue's table. */
export const BENCHES: readonly BenchSpec[] = [
  {
    name: 'logger',
    cwd: 'packages/logger',
    file: 'bench/logger.bench.ts',
    env: { TSX_TSCONFIG_PATH: 'test/fixtures/tsconfig.json' },
  },
  { name: 'capture', cwd: 'packages/capture', file: 'bench/with-capture.bench.ts' },
  { name: 'capture-store', cwd: 'packages/capture', file: 'bench/store.bench.ts' },
  { name: 'sanitize', cwd: 'packages/sanitize', file: 'bench/sanitize.bench.ts' },
  { name: 'drift-profile', cwd: 'packages/drift', file: 'bench/profile.bench.ts' },
  { name: 'drift-ks', cwd: 'packages/drift', file: 'bench/ks.bench.ts' },
  { name: 'drift-compare', cwd: 'packages/drift', file: 'bench/cli.bench.ts' },
  { name: 'layers', cwd: 'packages/layers', file: 'bench/inspect.bench.ts' },
  { name: 'env-snapshot', cwd: 'packages/env-snapshot', file: 'bench/snapshot.bench.ts' },
  {
    name: 'demo-load',
    cwd: 'apps/cli',
    file: 'bench/load.bench.ts',
    // A report-sized configuration of the ABBA load test (its own default is 12 pairs).
    env: { LOAD_PAIRS: '4', LOAD_SLICES: '4', LOAD_SLICE_SECONDS: '1', LOAD_WARMUP_SECONDS: '1.5' },
  },
  {
    name: 'demo-request-path',
    cwd: 'apps/server',
    file: 'bench/request-path.bench.ts',
    // What the instrumentation adds per prediction without HTTP: a steadier figure than the load test.
    env: { PATH_PROCESSES: '2', PATH_BLOCKS: '10' },
  },
  { name: 'demo', cwd: 'apps/cli', file: 'bench/demo.bench.ts' },
];

/** What one bench gave. */
export interface BenchRun {
  name: string;
  seconds: number;
  /** The child's stdout and stderr (its own detailed figures). */
  log: string;
  rows: BenchRow[];
  /** Why it failed (the child exited non-zero or wrote no rows). */
  error?: string;
}

/** The whole report. */
export interface Report {
  kind: 'prodprobe.bench-report';
  date: string;
  quick: boolean;
  machine: { cores: number; cpu: string; memoryGb: number; node: string; os: string; loadAtStart: number[] };
  runs: BenchRun[];
  rows: BenchRow[];
}

function runOne(spec: BenchSpec, quick: boolean, dir: string): Promise<BenchRun> {
  const out = join(dir, `${spec.name}.rows.json`);
  const cwd = join(root, spec.cwd);
  const args = ['--import', 'tsx', join(root, 'bench/run-one.ts'), join(cwd, spec.file), out];
  if (quick) args.push('--quick');
  const started = performance.now();
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, args, {
      cwd,
      env: { ...process.env, ...spec.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      log += s;
    });
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      log += s;
    });
    const done = (error?: string) => {
      const seconds = (performance.now() - started) / 1000;
      let rows: BenchRow[] = [];
      if (!error) {
        try {
          rows = JSON.parse(readFileSync(out, 'utf8')) as BenchRow[];
        } catch (e) {
          error = `no rows written (${(e as Error).message})`;
        }
      }
      resolvePromise({ name: spec.name, seconds, log, rows, ...(error ? { error } : {}) });
    };
    child.on('error', (e) => done(e.message));
    child.on('close', (code, signal) =>
      done(
        code === 0 ? undefined : `exited ${code ?? signal}: ${log.trim().split('\n').slice(-3).join(' / ')}`,
      ),
    );
  });
}

/** Runs the benches (all, or those named in `only`) one after another; `onRun` after each. */
export async function runReport(options: {
  quick: boolean;
  only?: readonly string[];
  onRun?: (run: BenchRun) => void;
}): Promise<Report> {
  const dir = mkdtempSync(join(tmpdir(), 'prodprobe-bench-'));
  const specs = options.only ? BENCHES.filter((b) => options.only!.includes(b.name)) : BENCHES;
  const loadAtStart = loadavg().map((x) => +x.toFixed(2));
  const runs: BenchRun[] = [];
  try {
    for (const spec of specs) {
      const run = await runOne(spec, options.quick, dir);
      runs.push(run);
      options.onRun?.(run);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return {
    kind: 'prodprobe.bench-report',
    date: new Date().toISOString(),
    quick: options.quick,
    machine: {
      cores: cpus().length,
      cpu: cpus()[0]?.model.trim() ?? 'unknown',
      memoryGb: +(totalmem() / 2 ** 30).toFixed(1),
      node: process.version,
      os: `${process.platform} ${release()}`,
      loadAtStart,
    },
    runs,
    rows: runs.flatMap((r) => r.rows),
  };
}

/** Every problem of a report: failed benches and malformed rows (what the quick test checks). */
export function reportProblems(report: Report): string[] {
  const problems: string[] = [];
  for (const run of report.runs) {
    if (run.error) problems.push(`${run.name}: ${run.error}`);
    else if (run.rows.length === 0) problems.push(`${run.name}: no rows`);
    for (const r of run.rows) problems.push(...rowProblems(r).map((p) => `${run.name}: ${p}`));
  }
  return problems;
}

const STREAMING = `## Large inputs, memory and progress

- \`prodprobe drift compare\` / \`drift profile\` / \`drift timeline\` stream data files: DuckDB reads
  CSV, JSON, JSONL and Parquet and hands over chunks of about 2k rows, which go into a fixed-size
  profile (the peak RSS rows above stay flat from 300k to 3M rows). A side of at most 100k rows is
  also kept as rows, for the exact tests. Prediction log folders are streamed line by line.
  **Not streamed:** a capture folder (\`drift compare <ref> <captures/>\`) is read whole
  (\`FileCaptureStore.scan()\`): captures are failures only, so far fewer than requests.
- \`prodprobe logs\` queries: DuckDB scans the JSONL segments itself (out of core); what a query
  returns is read whole (\`runAndReadAll\`), so its size is the size of the answer, not of the log.
- Progress: \`drift compare/profile/timeline\` on more than 100k rows and \`layers inspect\` on a model
  split into several parts print progress on stderr only when stderr is a TTY and \`--json\` is not
  given (tested in apps/cli/src/commands/drift.test.ts and layers.test.ts).
`;

/** The report as Markdown (bench/REPORT.md). */
export function renderMarkdown(report: Report): string {
  const m = report.machine;
  const failed = report.rows.filter((r) => r.ok === false);
  const lines = [
    '# prodprobe benchmark report',
    '',
    '<!-- Generated by `pnpm bench:report` (bench/report.ts). Do not edit by hand: rerun it. -->',
    '',
    `Run ${report.date.slice(0, 16).replace('T', ' ')} UTC${report.quick ? ' (quick mode: tiny sizes, figures meaningless)' : ''} on ${m.cores} cores (${m.cpu}), ${m.memoryGb} GiB, Node ${m.node}, ${m.os}; load average at start ${m.loadAtStart.join(' / ')}.`,
    'Every baseline is measured in the same run as prodprobe. The machine is shared, so figures move by',
    '10–20% from run to run; each bench alternates its baseline and prodprobe to see the same machine.',
    'ratio = prodprobe / baseline in the unit shown (for the demo server: the median paired ratio).',
    '',
    renderMarkdownTable(report.rows),
    '',
  ];
  const errors = report.runs.filter((r) => r.error);
  if (errors.length > 0) {
    lines.push('## Benches that failed', '');
    for (const r of errors) lines.push(`- ${r.name}: ${r.error}`);
    lines.push('');
  }
  lines.push('## Targets not met', '');
  if (failed.length === 0) lines.push('None in this run.', '');
  else {
    for (const r of failed)
      lines.push(
        `- ${r.measure}${r.size ? ` [${r.size}]` : ''}: ${fmt(r.prodprobe)} ${r.unit}, target ${r.target}. ${r.note ?? ''}`,
      );
    lines.push('');
    const why = readWhy();
    if (why) lines.push(why, '');
  }
  lines.push(STREAMING);
  lines.push('## Time per bench', '');
  for (const r of report.runs) lines.push(`- ${r.name}: ${r.seconds.toFixed(0)} s`);
  lines.push('');
  return lines.join('\n');
}

/** bench/WHY.md: the reasons for targets that cannot be met here, kept with the code (not measured). */
function readWhy(): string | undefined {
  const file = join(root, 'bench/WHY.md');
  return existsSync(file) ? readFileSync(file, 'utf8').trim() : undefined;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.includes('--render')) {
    // Only REPORT.md again, from REPORT.json (after bench/WHY.md or the renderer changed).
    const dir = join(root, 'bench');
    const saved = JSON.parse(readFileSync(join(dir, 'REPORT.json'), 'utf8')) as Report;
    writeFileSync(
      join(dir, 'REPORT.md'),
      renderMarkdown({ ...saved, runs: saved.runs.map((r) => ({ ...r, log: '' })) }),
    );
    console.log(`written: ${join(dir, 'REPORT.md')}`);
    return;
  }
  const quick = argv.includes('--quick');
  const at = (flag: string) => (argv.includes(flag) ? argv[argv.indexOf(flag) + 1] : undefined);
  const outDir = resolve(
    at('--out') ?? (quick ? mkdtempSync(join(tmpdir(), 'prodprobe-bench-quick-')) : join(root, 'bench')),
  );
  const only = at('--only')?.split(',');
  const report = await runReport({
    quick,
    ...(only ? { only } : {}),
    onRun: (run) =>
      process.stderr.write(
        `${run.name}: ${run.error ? `FAILED (${run.error})` : `${run.rows.length} rows`} in ${run.seconds.toFixed(0)} s\n`,
      ),
  });
  mkdirSync(outDir, { recursive: true });
  mkdirSync(join(outDir, 'logs'), { recursive: true });
  for (const run of report.runs) writeFileSync(join(outDir, 'logs', `${run.name}.log`), run.log);
  const { runs, ...rest } = report;
  const json = { ...rest, runs: runs.map(({ log: _log, ...r }) => r) };
  writeFileSync(join(outDir, 'REPORT.json'), `${JSON.stringify(json, null, 2)}\n`);
  writeFileSync(join(outDir, 'REPORT.md'), renderMarkdown(report));
  console.log(renderTable(report.rows));
  console.log(
    `\nwritten: ${join(outDir, 'REPORT.md')}, ${join(outDir, 'REPORT.json')} (bench logs in ${join(outDir, 'logs')})`,
  );
  const problems = reportProblems(report);
  if (problems.length > 0) {
    console.error(`\n${problems.length} problem(s):\n${problems.join('\n')}`);
    process.exitCode = 1;
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
