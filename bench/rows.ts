/**
 * The shape every benchmark returns to the report (`pnpm bench:report`, bench/report.ts): one row
 * per measure and size, the baseline measured in the same run beside prodprobe's figure.
 * Each `bench/*.bench.ts` of a package exports `bench(options)` returning these rows and keeps
 * its own command-line entry (`pnpm --filter <pkg> bench`), which prints its detail and the rows.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** One line of the report table. */
export interface BenchRow {
  /** What is measured, e.g. `logger: full entry to a file`. */
  measure: string;
  /** The size of the work (`100k entries`), or null for a per-call measure. */
  size: string | null;
  /** Unit of `baseline` and `prodprobe`, e.g. `entries/s`, `ns/call`, `s`, `MB`. */
  unit: string;
  /** What the baseline is (`pino`, `the bare call`), or null when the issue names none. */
  baselineName: string | null;
  /** The baseline's figure, measured in the same run; null when there is none. */
  baseline: number | null;
  /** prodprobe's figure. */
  prodprobe: number;
  /** prodprobe / baseline (in `unit`), or null without a baseline. */
  ratio: number | null;
  /** The target in words, e.g. `≥ 1.0× pino's entries/s`. */
  target: string;
  /** Whether the target holds at this size; null when the row has no target (context). */
  ok: boolean | null;
  /** Anything needed to read the row (method, other figures, why a target is not met). */
  note?: string;
}

/** What the report passes to a benchmark. */
export interface BenchOptions {
  /** Run once on small data: checks that the bench still works, not that targets hold. */
  quick: boolean;
}

/** A benchmark module's export. */
export type Bench = (options: BenchOptions) => Promise<BenchRow[]>;

/** A row with the ratio computed from the two figures. */
export function row(r: Omit<BenchRow, 'ratio'> & { ratio?: number | null }): BenchRow {
  const ratio = r.ratio !== undefined ? r.ratio : r.baseline === null ? null : r.prodprobe / r.baseline;
  return { ...r, ratio };
}

/** Median of a non-empty list. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** A figure with 3 significant digits (thousands separated), for tables. */
export function fmt(x: number | null): string {
  if (x === null) return '—';
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  if (a >= 1000) return Math.round(x).toLocaleString('en-US');
  if (a >= 100) return x.toFixed(0);
  if (a >= 10) return x.toFixed(1);
  if (a >= 1) return x.toFixed(2);
  if (a === 0) return '0';
  return x.toPrecision(3);
}

/** A count as 10k / 1.5M. */
export function count(n: number): string {
  if (n >= 1e6) return `${+(n / 1e6).toFixed(2)}M`;
  if (n >= 1e3) return `${+(n / 1e3).toFixed(1)}k`;
  return String(n);
}

const okText = (ok: boolean | null) => (ok === null ? '—' : ok ? 'yes' : 'NO');

/** The rows as a plain-text table: `measure | baseline | prodprobe | ratio | target | ok`. */
export function renderTable(rows: readonly BenchRow[]): string {
  const cells = rows.map((r) => [
    r.size ? `${r.measure} [${r.size}]` : r.measure,
    r.baseline === null ? '—' : `${fmt(r.baseline)} ${r.unit}${r.baselineName ? ` (${r.baselineName})` : ''}`,
    `${fmt(r.prodprobe)} ${r.unit}`,
    r.ratio === null ? '—' : `${r.ratio.toFixed(2)}×`,
    r.target,
    okText(r.ok),
  ]);
  const head = ['measure', 'baseline', 'prodprobe', 'ratio', 'target', 'ok'];
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => c.map((x, i) => x.padEnd(widths[i]!)).join(' | ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('-|-'), ...cells.map(line)].join('\n');
}

/** The rows as a Markdown table with a notes column. */
export function renderMarkdownTable(rows: readonly BenchRow[]): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  const lines = [
    '| measure | size | baseline | prodprobe | ratio | target | ok | note |',
    '| --- | --- | ---: | ---: | ---: | --- | --- | --- |',
  ];
  for (const r of rows) {
    lines.push(
      `| ${esc(r.measure)} | ${r.size ?? '—'} | ${r.baseline === null ? '—' : `${fmt(r.baseline)} ${r.unit}${r.baselineName ? ` (${esc(r.baselineName)})` : ''}`} | ${fmt(r.prodprobe)} ${r.unit} | ${r.ratio === null ? '—' : `${r.ratio.toFixed(2)}×`} | ${esc(r.target)} | ${r.ok === null ? '—' : r.ok ? 'yes' : '**no**'} | ${esc(r.note ?? '')} |`,
    );
  }
  return lines.join('\n');
}

/**
 * Problems that make a row malformed (empty when it is well formed): what the quick mode checks,
 * so a bench that rots (throws, prints NaN, loses its baseline) fails `pnpm test`.
 */
export function rowProblems(r: BenchRow): string[] {
  const problems: string[] = [];
  const finite = (x: unknown) => typeof x === 'number' && Number.isFinite(x);
  if (typeof r.measure !== 'string' || r.measure.length === 0) problems.push('no measure');
  if (r.size !== null && (typeof r.size !== 'string' || r.size.length === 0)) problems.push('bad size');
  if (typeof r.unit !== 'string' || r.unit.length === 0) problems.push('no unit');
  if (!finite(r.prodprobe)) problems.push(`prodprobe is ${r.prodprobe}`);
  if (r.baseline !== null && !finite(r.baseline)) problems.push(`baseline is ${r.baseline}`);
  if (r.baseline !== null && r.baselineName === null) problems.push('baseline without a name');
  if (r.ratio !== null && !finite(r.ratio)) problems.push(`ratio is ${r.ratio}`);
  if (typeof r.target !== 'string' || r.target.length === 0) problems.push('no target');
  if (r.ok !== null && typeof r.ok !== 'boolean') problems.push('ok is not a boolean');
  return problems.map((p) => `${r.measure}${r.size ? ` [${r.size}]` : ''}: ${p}`);
}

/** Whether the module at `url` is the script node was started with (a bench's own CLI entry). */
export function isMain(url: string): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(url));
  } catch {
    return false;
  }
}

/** A bench's own CLI entry: runs it (`--quick` for small data) and prints its rows. */
export async function runMain(url: string, bench: Bench): Promise<void> {
  if (!isMain(url)) return;
  const rows = await bench({ quick: process.argv.includes('--quick') });
  console.log(`\n${renderTable(rows)}`);
}
