/**
 * Drift window by window: rows with times go into fixed windows (aligned on multiples of the
 * window length from the epoch, so in UTC), each window is profiled, then compared with a
 * reference. It dates a drift (a deploy, an upstream change) instead of only finding it.
 */
import { type CompareOptions, compare, type Rows } from './compare.js';
import { DriftError } from './errors.js';
import { createProfileBuilder, type ProfileBuilder, type ProfileOptions, profile } from './profile.js';
import type { Profile } from './profile-schema.js';
import type { DriftWarning, FieldReport } from './report-schema.js';

/** Options of {@link createTimelineBuilder}. */
export interface TimelineOptions {
  /** Most windows kept: each is a profile in memory. @default 1000 */
  maxWindows?: number;
  /** Options of each window's profile builder. */
  profile?: ProfileOptions;
}

/** Rows grouped into time windows, each profiled as it comes. */
export interface TimelineBuilder {
  readonly windowMs: number;
  /** Rows whose time was not a finite number or a valid Date: left out. */
  readonly undated: number;
  /**
   * Adds a row to the window holding `at` (epoch milliseconds or a Date).
   * @throws DriftError `INVALID_OPTIONS` when the row would open a window past `maxWindows`.
   */
  add(row: Readonly<Record<string, unknown>>, at: number | Date): void;
  /** The windows that hold rows, oldest first. */
  windows(): { start: number; profile: Profile }[];
}

/**
 * Groups rows into windows of `windowMs` milliseconds (aligned on multiples of it from the epoch).
 * @throws DriftError `INVALID_OPTIONS` for a window length under 1 ms or a bad `maxWindows`.
 */
export function createTimelineBuilder(windowMs: number, options: TimelineOptions = {}): TimelineBuilder {
  if (!(Number.isFinite(windowMs) && windowMs >= 1))
    throw new DriftError(
      'INVALID_OPTIONS',
      `windowMs: expected a number of milliseconds >= 1, got ${windowMs}`,
    );
  const maxWindows = options.maxWindows ?? 1000;
  if (!(Number.isInteger(maxWindows) && maxWindows >= 1))
    throw new DriftError('INVALID_OPTIONS', `maxWindows: expected an integer >= 1, got ${maxWindows}`);
  const builders = new Map<number, ProfileBuilder>();
  let undated = 0;
  return {
    windowMs,
    get undated() {
      return undated;
    },
    add(row, at) {
      const t = at instanceof Date ? at.getTime() : at;
      if (typeof t !== 'number' || !Number.isFinite(t)) {
        undated++;
        return;
      }
      const start = Math.floor(t / windowMs) * windowMs;
      let builder = builders.get(start);
      if (!builder) {
        if (builders.size >= maxWindows)
          throw new DriftError(
            'INVALID_OPTIONS',
            `more than ${maxWindows} windows of ${windowMs} ms: use a longer window (or raise maxWindows)`,
          );
        builder = createProfileBuilder(options.profile);
        builders.set(start, builder);
      }
      builder.add(row);
    },
    windows() {
      return [...builders.entries()]
        .sort((a, b) => a[0] - b[0])
        .map(([start, b]) => ({ start, profile: b.toJSON() }));
    },
  };
}

/** One window of a timeline. */
export interface TimelineWindow {
  /** ISO 8601 start and end (exclusive) of the window. */
  start: string;
  end: string;
  rows: number;
  /** Fields compared (present on both sides, not skipped). */
  compared: number;
  datasetDrift: boolean;
  /** The drifted fields, most severe first, with the codes of their warnings. */
  drifted: { name: string; severity: FieldReport['severity']; warnings: DriftWarning['code'][] }[];
}

/** What {@link driftTimeline} finds. */
export interface DriftTimeline {
  kind: 'prodprobe.drift.timeline';
  windowMs: number;
  windows: TimelineWindow[];
  /** Start of the first window with dataset drift. */
  firstDatasetDrift: string | null;
  /** The first window where any field drifted, and those fields. */
  firstFieldDrift: { start: string; fields: string[] } | null;
  /**
   * Start of the run of windows with dataset drift that reaches the last window: the onset of a
   * drift still going on, robust to an earlier one-window blip. Null when the last window has none.
   */
  datasetDriftSince: string | null;
  /** Rows left out for want of a time. */
  undated: number;
}

/**
 * Compares each window of `timeline` with the reference (rows are profiled once). Each window is
 * judged as `compare` judges any sample, so a window of a few dozen rows only shows large shifts.
 */
export function driftTimeline(
  reference: Profile | Rows,
  timeline: TimelineBuilder,
  options: CompareOptions = {},
): DriftTimeline {
  const ref = isProfile(reference) ? reference : profile(reference, options.profile);
  const windows: TimelineWindow[] = timeline.windows().map(({ start, profile: current }) => {
    const report = compare(ref, current, options);
    return {
      start: new Date(start).toISOString(),
      end: new Date(start + timeline.windowMs).toISOString(),
      rows: current.rowCount,
      compared: report.fields.filter((f) => f.status === 'ok').length,
      datasetDrift: report.datasetDrift,
      // compare ranks fields by score, so the drifted ones come most severe first.
      drifted: report.fields
        .filter((f) => f.drift)
        .map((f) => ({ name: f.name, severity: f.severity, warnings: f.warnings.map((w) => w.code) })),
    };
  });
  const firstData = windows.find((w) => w.datasetDrift);
  const firstField = windows.find((w) => w.drifted.length > 0);
  let since: string | null = null;
  for (let i = windows.length - 1; i >= 0 && windows[i]!.datasetDrift; i--) since = windows[i]!.start;
  return {
    kind: 'prodprobe.drift.timeline',
    windowMs: timeline.windowMs,
    windows,
    firstDatasetDrift: firstData?.start ?? null,
    firstFieldDrift: firstField
      ? { start: firstField.start, fields: firstField.drifted.map((d) => d.name) }
      : null,
    datasetDriftSince: since,
    undated: timeline.undated,
  };
}

function isProfile(value: Profile | Rows): value is Profile {
  return (value as Profile).kind === 'prodprobe.drift.profile';
}
