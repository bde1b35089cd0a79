/**
 * `prodprobe drift timeline`: the drift of logged production inputs against a reference, window by
 * window, to find when it started (a deploy, an upstream change) rather than only that it happened.
 */
import { compare, createProfileBuilder, type Profile, type ProfileBuilder } from '@prodprobe/drift';
import { barChart, esc, page, table } from './html.js';
import { CliError } from './output.js';

/** Most windows a timeline holds: each is a profile in memory, and a table past this is unreadable. */
export const MAX_WINDOWS = 1000;

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** A window length such as `30m`, `1h`, `6h` or `1d`, in milliseconds. */
export function parseWindow(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(s|m|h|d)$/.exec(text.trim());
  const ms = m ? Number(m[1]) * UNITS[m[2]!]! : Number.NaN;
  if (!(ms >= 1000))
    throw new CliError(`--window ${text}: expected a length such as 30m, 1h, 6h or 1d (at least 1s)`);
  return ms;
}

/** Rows profiled per time window (windows aligned on multiples of the length, from the epoch: UTC). */
export class TimeWindows {
  private readonly builders = new Map<number, ProfileBuilder>();
  /** Rows without a readable time, left out. */
  undated = 0;

  constructor(readonly windowMs: number) {}

  add(row: Record<string, unknown>, at: number): void {
    if (!Number.isFinite(at)) {
      this.undated++;
      return;
    }
    const start = Math.floor(at / this.windowMs) * this.windowMs;
    let builder = this.builders.get(start);
    if (!builder) {
      if (this.builders.size >= MAX_WINDOWS)
        throw new CliError(
          `the logs span more than ${MAX_WINDOWS} windows of ${formatWindow(this.windowMs)}: give a longer --window`,
        );
      builder = createProfileBuilder();
      this.builders.set(start, builder);
    }
    builder.add(row);
  }

  /** The windows with rows, oldest first. */
  profiles(): { start: number; profile: Profile }[] {
    return [...this.builders.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([start, builder]) => ({ start, profile: builder.toJSON() }));
  }
}

/** One window of a timeline. */
export interface TimelineWindow {
  start: string;
  end: string;
  rows: number;
  /** Fields compared (present on both sides, not skipped). */
  compared: number;
  datasetDrift: boolean;
  /** The drifted fields, most severe first, with the codes of their warnings. */
  drifted: { name: string; severity: string; warnings: string[] }[];
}

/** What `drift timeline` reports. */
export interface DriftTimeline {
  kind: 'prodprobe.drift.timeline';
  reference: string;
  current: string;
  /** What the current rows stand for (the uniform sample of requests, or every logged entry). */
  source: string;
  windowMs: number;
  windows: TimelineWindow[];
  /** Start of the first window with dataset drift (the share of drifted fields over the threshold). */
  firstDatasetDrift: string | null;
  /** The first window where any field drifted, and those fields. */
  firstFieldDrift: { start: string; fields: string[] } | null;
  /**
   * Start of the run of windows with dataset drift that reaches the last window: the onset of a
   * drift still going on, robust to an earlier one-window blip. Null when the last window has none.
   */
  datasetDriftSince: string | null;
  /** Logged rows without a readable time, left out. */
  undated: number;
}

export function formatWindow(ms: number): string {
  for (const [unit, size] of [
    ['d', UNITS.d!],
    ['h', UNITS.h!],
    ['m', UNITS.m!],
  ] as const)
    if (ms % size === 0) return `${ms / size}${unit}`;
  return `${ms / 1000}s`;
}

/** Compares each window's rows with the reference profile. */
export function driftTimeline(
  reference: Profile,
  windows: TimeWindows,
  meta: { reference: string; current: string; source: string; fields?: string[] },
): DriftTimeline {
  const out: TimelineWindow[] = windows.profiles().map(({ start, profile }) => {
    const report = compare(reference, profile, meta.fields ? { fields: meta.fields } : {});
    return {
      start: new Date(start).toISOString(),
      end: new Date(start + windows.windowMs).toISOString(),
      rows: profile.rowCount,
      compared: report.fields.filter((f) => f.status === 'ok').length,
      datasetDrift: report.datasetDrift,
      // compare ranks fields by score, so the drifted ones come most severe first.
      drifted: report.fields
        .filter((f) => f.drift)
        .map((f) => ({ name: f.name, severity: f.severity, warnings: f.warnings.map((w) => w.code) })),
    };
  });
  const firstData = out.find((w) => w.datasetDrift);
  const firstField = out.find((w) => w.drifted.length > 0);
  let since: string | null = null;
  for (let i = out.length - 1; i >= 0 && out[i]!.datasetDrift; i--) since = out[i]!.start;
  return {
    kind: 'prodprobe.drift.timeline',
    reference: meta.reference,
    current: meta.current,
    source: meta.source,
    windowMs: windows.windowMs,
    windows: out,
    firstDatasetDrift: firstData?.start ?? null,
    firstFieldDrift: firstField
      ? { start: firstField.start, fields: firstField.drifted.map((d) => d.name) }
      : null,
    datasetDriftSince: since,
    undated: windows.undated,
  };
}

/** Fewer rows than this in a window: only large shifts can be told from noise there. */
const FEW_ROWS = 30;

const minute = (iso: string) => `${iso.slice(0, 10)} ${iso.slice(11, 16)}`;

/** The timeline as a terminal table, drifted windows in red when `color`. */
export function renderTimelineText(t: DriftTimeline, color: boolean): string {
  const red = (s: string) => (color ? `\u001b[31m${s}\u001b[39m` : s);
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
    lines.push(w.drifted.length > 0 ? red(line) : line);
  }
  lines.push('');
  if (t.firstFieldDrift === null) lines.push('no window drifted from the reference');
  else {
    if (t.datasetDriftSince !== null) {
      const since = t.datasetDriftSince;
      const n = t.windows.filter((w) => w.start >= since).length;
      lines.push(`dataset drift in every window since ${minute(since)} (${n} of ${t.windows.length})`);
    }
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
  return `${lines.join('\n')}\n`;
}

/** The timeline as a self-contained HTML page: the drifted share per window, then the table. */
export function renderTimelineHtml(t: DriftTimeline): string {
  const bars = t.windows.map((w) => ({
    label: minute(w.start),
    value: w.compared > 0 ? Math.round((1000 * w.drifted.length) / w.compared) / 10 : 0,
    color: w.datasetDrift ? '#e45756' : w.drifted.length > 0 ? '#f2a541' : '#4c78a8',
  }));
  const summary = renderTimelineText(t, false).split('\n\n').at(-1)!.trim().split('\n');
  return page(
    'prodprobe drift timeline',
    `<p>${esc(t.current)} vs ${esc(t.reference)}, ${esc(formatWindow(t.windowMs))} windows (UTC). Rows: ${esc(t.source)}.</p>
<section id="summary"><h2>When</h2><ul>${summary.map((l) => `<li>${esc(l)}</li>`).join('')}</ul></section>
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
