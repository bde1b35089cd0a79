/**
 * `prodprobe drift timeline`: the window lengths it takes and how it prints a timeline
 * (`driftTimeline` of `@prodprobe/drift` does the windowing and the comparisons).
 */
import type { DriftTimeline } from '@prodprobe/drift';
import { barChart, esc, page, table } from './html.js';
import { CliError, painter } from './output.js';

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** A window length such as `30m`, `1h`, `6h` or `1d`, in milliseconds. */
export function parseWindow(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(s|m|h|d)$/.exec(text.trim());
  const ms = m ? Number(m[1]) * UNITS[m[2]!]! : Number.NaN;
  if (!(ms >= 1000))
    throw new CliError(`--window ${text}: expected a length such as 30m, 1h, 6h or 1d (at least 1s)`);
  return ms;
}

/** A window length as the reports write it: 5400000 → "90m". */
export function formatWindow(ms: number): string {
  for (const [unit, size] of [
    ['d', UNITS.d!],
    ['h', UNITS.h!],
    ['m', UNITS.m!],
  ] as const)
    if (ms % size === 0) return `${ms / size}${unit}`;
  return `${ms / 1000}s`;
}

/** A timeline of logged inputs as the CLI reports it: what was compared with what. */
export type CliTimeline = DriftTimeline & {
  reference: string;
  current: string;
  /** What the current rows stand for (the uniform sample of requests, or every logged entry). */
  source: string;
};

/** Fewer rows than this in a window: only large shifts can be told from noise there. */
const FEW_ROWS = 30;

const minute = (iso: string) => `${iso.slice(0, 10)} ${iso.slice(11, 16)}`;

/** How many windows, from the last back, the ongoing dataset drift covers (0 when there is none). */
function windowsSince(t: DriftTimeline): number {
  const since = t.datasetDriftSince;
  return since === null ? 0 : t.windows.filter((w) => w.start >= since).length;
}

/** A timeline in one sentence, for reports that show it beside other findings (diagnose). */
export function timelineSentence(t: DriftTimeline): string {
  const of = `${t.windows.length} windows of ${formatWindow(t.windowMs)}`;
  if (t.datasetDriftSince !== null)
    return `dataset drift in every window since ${minute(t.datasetDriftSince)} UTC (the last ${windowsSince(t)} of ${of})`;
  if (t.firstDatasetDrift !== null)
    return `dataset drift from ${minute(t.firstDatasetDrift)} UTC, but not in the last of ${of}`;
  if (t.firstFieldDrift !== null)
    return `no window reached dataset drift; the first drifted field came at ${minute(t.firstFieldDrift.start)} UTC (${t.firstFieldDrift.fields.join(', ')}), over ${of}`;
  return `no window drifted, over ${of}`;
}

/** What the timeline says about when, line by line (the text's closing lines, the HTML's list). */
function summaryLines(t: CliTimeline): string[] {
  const lines: string[] = [];
  if (t.firstFieldDrift === null) lines.push('no window drifted from the reference');
  else {
    if (t.datasetDriftSince !== null)
      lines.push(
        `dataset drift in every window since ${minute(t.datasetDriftSince)} (${windowsSince(t)} of ${t.windows.length})`,
      );
    lines.push(
      t.firstDatasetDrift === null
        ? 'no window reached dataset drift'
        : `first window with dataset drift: ${minute(t.firstDatasetDrift)}`,
    );
    lines.push(
      `first window with a drifted field: ${minute(t.firstFieldDrift.start)} (${t.firstFieldDrift.fields.join(', ')})`,
    );
  }
  if (t.undated > 0) lines.push(`${t.undated} logged rows without a readable time left out`);
  return lines;
}

/** The timeline as a terminal table, drifted windows in red when `color`. */
export function renderTimelineText(t: CliTimeline, color: boolean): string {
  const paint = painter(color);
  const lines = [
    `drift of ${t.current} vs ${t.reference}, ${formatWindow(t.windowMs)} windows (UTC)`,
    `rows: ${t.source}`,
    '',
    `${'window start'.padEnd(16)}  ${'rows'.padStart(7)}  drifted  fields`,
  ];
  for (const w of t.windows) {
    const fields = w.drifted.map((d) => `${d.name} (${d.severity})`).join(', ') || '-';
    const few = w.rows < FEW_ROWS ? '  (few rows: only large shifts show)' : '';
    const line = `${minute(w.start).padEnd(16)}  ${String(w.rows).padStart(7)}  ${`${w.drifted.length}/${w.compared}`.padEnd(7)}  ${w.datasetDrift ? 'DATASET DRIFT: ' : ''}${fields}${few}`;
    lines.push(w.drifted.length > 0 ? paint('red', line) : line);
  }
  return `${[...lines, '', ...summaryLines(t)].join('\n')}\n`;
}

/** The timeline as a self-contained HTML page: the drifted share per window, then the table. */
export function renderTimelineHtml(t: CliTimeline): string {
  const bars = t.windows.map((w) => ({
    label: minute(w.start),
    value: w.compared > 0 ? Math.round((1000 * w.drifted.length) / w.compared) / 10 : 0,
    color: w.datasetDrift ? '#e45756' : w.drifted.length > 0 ? '#f2a541' : '#4c78a8',
  }));
  return page(
    'prodprobe drift timeline',
    `<p>${esc(t.current)} vs ${esc(t.reference)}, ${esc(formatWindow(t.windowMs))} windows (UTC). Rows: ${esc(t.source)}.</p>
<section id="summary"><h2>When</h2><ul>${summaryLines(t)
      .map((l) => `<li>${esc(l)}</li>`)
      .join('')}</ul></section>
<section id="chart"><h2>Drifted fields per window</h2>${barChart(
      'Share of compared fields that drifted',
      bars,
      '%',
      'Red: dataset drift (the share of drifted fields reached the threshold). Orange: some fields drifted. Blue: none.',
    )}</section>
<section id="windows"><h2>Windows</h2>${table(
      ['window start (UTC)', 'rows', 'drifted', 'dataset drift', 'fields (most severe first)'],
      t.windows.map((w) => [
        minute(w.start),
        w.rows,
        `${w.drifted.length}/${w.compared}`,
        w.datasetDrift ? 'yes' : 'no',
        w.drifted
          .map((d) => `${d.name} (${d.severity}${d.warnings.length ? `: ${d.warnings.join(', ')}` : ''})`)
          .join('; ') || '-',
      ]),
    )}</section>`,
  );
}
