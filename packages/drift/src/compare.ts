/**
 * `compare(reference, current)`: per-field drift tests, warnings and a dataset verdict.
 */
import { DriftError } from './errors.js';
import { stdOf } from './moments.js';
import { createProfileBuilder, type ProfileOptions } from './profile.js';
import { type FieldProfile, type Profile, parseProfile } from './profile-schema.js';
import {
  type CompareSettings,
  type DriftReport,
  type DriftWarning,
  type FieldReport,
  REPORT_SCHEMA_VERSION,
  type SideStats,
} from './report-schema.js';
import { sketchToSample } from './sketch.js';
import { binCounts, jensenShannon, PSI_EMPTY_BIN_FLOOR, psi, quantileEdges } from './stats/binned.js';
import { chiSquare } from './stats/chi-square.js';
import { ksTwoSample } from './stats/ks-test.js';
import { quantiles, type Sample, sampleSize } from './stats/sample.js';
import { wasserstein1 } from './stats/wasserstein.js';
import { formatDate, formatSpan } from './time-format.js';

/** Rows to compare: an array (or iterable) of plain objects. */
export type Rows = Iterable<Readonly<Record<string, unknown>>>;

/** Options of {@link compare}; every threshold has a default (see the README for sources). */
export interface CompareOptions {
  /** A p-value below this (after adjustment) is drift when p-values decide, and makes an effect size count. @default 0.05 */
  pValueThreshold?: number;
  /**
   * References with at most this many rows are judged by p-values, larger ones by effect sizes
   * (which must also be significant at `pValueThreshold`). @default 1000
   */
  pValueMaxRows?: number;
  /** Drift when Wasserstein-1 / max(reference std, 1e-3) reaches this. @default 0.1 */
  wassersteinThreshold?: number;
  /** Drift when the Jensen-Shannon distance (base 2) reaches this. @default 0.1 */
  jensenShannonThreshold?: number;
  /** Drift when PSI reaches this. @default 0.2 */
  psiThreshold?: number;
  /** Reference-quantile bins for numeric PSI and Jensen-Shannon. @default 10 */
  psiBins?: number;
  /** Proportion substituted for an empty bin in PSI. @default 1e-4 */
  psiFloor?: number;
  /** The dataset drifts when drifted fields / compared fields reaches this. @default 0.5 */
  datasetDriftShare?: number;
  /** Correction of p-values across fields. @default 'benjamini-hochberg' */
  multipleTesting?: 'benjamini-hochberg' | 'none';
  /** Compare only these fields. */
  fields?: readonly string[];
  /** Leave these fields out. */
  ignoreFields?: readonly string[];
  /**
   * Test date fields (Date values) like numbers. Off by default: a timestamp moves with time, so
   * any later window "drifts" and would count toward the dataset verdict; such a field is
   * skipped and its reason gives the two date ranges.
   * @default false
   */
  compareDates?: boolean;
  /** Profile settings used when rows are given. */
  profile?: ProfileOptions;
}

/** Defaults of {@link CompareOptions}. */
export const DEFAULT_COMPARE_SETTINGS: Readonly<CompareSettings> = Object.freeze({
  pValueThreshold: 0.05,
  pValueMaxRows: 1000,
  wassersteinThreshold: 0.1,
  jensenShannonThreshold: 0.1,
  psiThreshold: 0.2,
  psiBins: 10,
  psiFloor: PSI_EMPTY_BIN_FLOOR,
  datasetDriftShare: 0.5,
  multipleTesting: 'benjamini-hochberg',
});

/** Minimum scale for the normalised Wasserstein distance, so a constant reference does not divide by 0. */
export const WASSERSTEIN_MIN_SCALE = 1e-3;

const OTHER = '(other)';

interface Side {
  source: 'rows' | 'profile';
  profile: Profile;
  /** Exact numeric values per field (rows only). */
  numbers?: Map<string, number[]>;
  /** Exact category counts per field (rows only, never pruned). */
  categories?: Map<string, Map<string, number>>;
}

function isProfile(x: unknown): x is Profile {
  return typeof x === 'object' && x !== null && !Array.isArray(x) && 'schemaVersion' in x && 'fields' in x;
}

function toSide(input: Profile | Rows, options: ProfileOptions | undefined, which: string): Side {
  if (isProfile(input)) return { source: 'profile', profile: parseProfile(input) };
  if (input === null || typeof input !== 'object' || !(Symbol.iterator in input)) {
    throw new DriftError('INVALID_INPUT', `${which}: expected a drift profile or an array of row objects`);
  }
  const builder = createProfileBuilder(options);
  const numbers = new Map<string, number[]>();
  const categories = new Map<string, Map<string, number>>();
  let i = 0;
  for (const row of input) {
    if (row === null || typeof row !== 'object' || Array.isArray(row)) {
      throw new DriftError('INVALID_INPUT', `${which}[${i}]: expected a plain object`);
    }
    builder.add(row);
    for (const key in row) {
      const v = row[key];
      let x: number | undefined;
      if (typeof v === 'number') x = v;
      else if (typeof v === 'bigint') x = Number(v);
      else if (v instanceof Date) x = v.getTime();
      if (x !== undefined) {
        if (Number.isFinite(x)) {
          const arr = numbers.get(key);
          if (arr) arr.push(x);
          else numbers.set(key, [x]);
        }
      } else if (typeof v === 'string' || typeof v === 'boolean') {
        const k = typeof v === 'string' ? v : v ? 'true' : 'false';
        const m = categories.get(key);
        if (m) m.set(k, (m.get(k) ?? 0) + 1);
        else categories.set(key, new Map([[k, 1]]));
      }
    }
    i++;
  }
  return { source: 'rows', profile: builder.toJSON(), numbers, categories };
}

type TypeName = 'number' | 'string' | 'boolean' | 'date' | 'other';

function dominantType(f: FieldProfile): { type: TypeName | null; share: number } {
  let best: TypeName | null = null;
  let bestCount = 0;
  let total = 0;
  for (const [k, c] of Object.entries(f.types) as [TypeName, number][]) {
    total += c;
    if (c > bestCount) {
      best = k;
      bestCount = c;
    }
  }
  return { type: best, share: total ? bestCount / total : 0 };
}

const kindOf = (t: TypeName | null): FieldReport['kind'] =>
  t === 'number' || t === 'date' ? 'numeric' : t === 'string' || t === 'boolean' ? 'categorical' : 'unknown';

function numericSample(side: Side, name: string): { sample: Sample; approximate: boolean } | null {
  const raw = side.numbers?.get(name);
  if (raw) {
    const values = Float64Array.from(raw).sort();
    return { sample: { values }, approximate: false };
  }
  const n = side.profile.fields[name]?.numeric;
  if (!n) return null;
  return {
    sample: sketchToSample(n.sketch, side.profile.settings.relativeAccuracy),
    approximate: n.sketch.mode === 'buckets',
  };
}

function categoryCounts(side: Side, name: string): { counts: Map<string, number>; other: number } | null {
  const raw = side.categories?.get(name);
  if (raw) return { counts: raw, other: 0 };
  const c = side.profile.fields[name]?.categorical;
  if (!c) return null;
  return { counts: new Map(Object.entries(c.counts)), other: c.other };
}

const QS = [0.05, 0.25, 0.5, 0.75, 0.95];

function sideStats(side: Side, f: FieldProfile, sample: Sample | null, distinct: number | null): SideStats {
  const n = f.numeric;
  const tested = sample ? sampleSize(sample) : f.categorical ? f.categorical.total : 0;
  return {
    rows: side.profile.rowCount,
    values: tested,
    missing: f.missing,
    nulls: f.nulls,
    nan: f.nan,
    positiveInfinity: f.positiveInfinity,
    negativeInfinity: f.negativeInfinity,
    types: { ...f.types },
    dominantType: dominantType(f).type,
    mean: n ? n.moments.mean : null,
    std: n ? stdOf(n.moments) : null,
    min: n ? n.min : null,
    max: n ? n.max : null,
    quantiles: sample && sampleSize(sample) > 0 ? quantiles(sample, QS) : null,
    distinct,
  };
}

function emptyField(
  name: string,
  status: FieldReport['status'],
  reason: string,
  kind: FieldReport['kind'],
): FieldReport {
  return {
    name,
    status,
    reason,
    kind,
    drift: false,
    severity: 'none',
    score: 0,
    decidedBy: null,
    adjustedPValue: null,
    approximate: false,
    reference: null,
    current: null,
    tests: {},
    warnings: [],
    explanation: { psiBins: [], movedCategories: [], newCategoryMass: null },
    chart: null,
  };
}

const fmt = (x: number) =>
  Math.abs(x) >= 1e5 || (Math.abs(x) < 1e-3 && x !== 0) ? x.toExponential(3) : String(+x.toPrecision(4));

const pct = (x: number) => `${+(x * 100).toPrecision(3)}%`;

/** The chart histogram: equal-width bins over the 0.5%..99.5% range of both samples. */
function histogramChart(ref: Sample, cur: Sample): FieldReport['chart'] {
  const [rlo, rhi] = quantiles(ref, [0.005, 0.995]) as [number, number];
  const [clo, chi] = quantiles(cur, [0.005, 0.995]) as [number, number];
  let lo = Math.min(rlo, clo);
  let hi = Math.max(rhi, chi);
  if (!(hi > lo)) {
    lo -= 0.5;
    hi += 0.5;
  }
  const bins = 30;
  const width = (hi - lo) / bins;
  const edges = Array.from({ length: bins + 1 }, (_, i) => lo + i * width);
  const fill = (s: Sample) => {
    const out = new Array<number>(bins).fill(0);
    const n = sampleSize(s);
    for (let i = 0; i < s.values.length; i++) {
      const b = Math.min(bins - 1, Math.max(0, Math.floor((s.values[i]! - lo) / width)));
      out[b]! += (s.counts ? s.counts[i]! : 1) / n;
    }
    return out;
  };
  return { kind: 'histogram', edges, reference: fill(ref), current: fill(cur) };
}

interface Pending {
  report: FieldReport;
  /** The p-value that decides when p-values decide. */
  pValue: number | null;
  /** max(effect / threshold) over the effect sizes. */
  effectRatio: number;
}

function compareNumeric(
  name: string,
  ref: Side,
  cur: Side,
  rf: FieldProfile,
  cf: FieldProfile,
  s: CompareSettings,
): Pending {
  const r = numericSample(ref, name);
  const c = numericSample(cur, name);
  const report = emptyField(name, 'ok', '', 'numeric');
  delete report.reason;
  report.reference = sideStats(ref, rf, r?.sample ?? null, null);
  report.current = sideStats(cur, cf, c?.sample ?? null, null);
  // Dates are compared as epoch milliseconds and written as dates.
  const isDate = dominantType(rf).type === 'date';
  const fmtValue = isDate ? formatDate : fmt;
  const fmtStd = isDate ? formatSpan : fmt;
  if (!r || sampleSize(r.sample) === 0) return skip(report, 'no finite numeric values in reference');
  if (!c || sampleSize(c.sample) === 0) return skip(report, 'no finite numeric values in current');
  report.approximate = r.approximate || c.approximate;
  const ks = ksTwoSample(r.sample, c.sample);
  const w = wasserstein1(r.sample, c.sample);
  const refStd = report.reference.std ?? 0;
  const normalized = w / Math.max(refStd, WASSERSTEIN_MIN_SCALE);
  const edges = quantileEdges(r.sample, s.psiBins);
  const rc = binCounts(r.sample, edges);
  const cc = binCounts(c.sample, edges);
  const p = psi(rc, cc, s.psiFloor);
  const js = jensenShannon(rc, cc);
  report.tests = {
    ks: { statistic: ks.statistic, pValue: ks.pValue, method: ks.method },
    wasserstein: { value: w, normalized },
    psi: { value: p.value },
    jensenShannon: { value: js },
  };
  report.explanation.psiBins = p.bins.map((b, i) => ({
    label:
      i === 0
        ? `<= ${fmtValue(edges[0] ?? Number.NaN)}`
        : i === edges.length
          ? `> ${fmtValue(edges[i - 1]!)}`
          : `(${fmtValue(edges[i - 1]!)}, ${fmtValue(edges[i]!)}]`,
    ...b,
  }));
  if (edges.length === 0) report.explanation.psiBins[0]!.label = 'all values';
  report.chart = histogramChart(r.sample, c.sample);
  const rs = report.reference;
  const cs = report.current;
  if (refStd === 0) {
    report.warnings.push({
      code: 'constant_in_reference',
      message: `reference is constant (${fmtValue(rs.min!)})`,
    });
  }
  if (rs.mean !== null && cs.mean !== null && refStd > 0 && Math.abs(cs.mean - rs.mean) > refStd) {
    report.warnings.push({
      code: 'mean_shift',
      message: `mean moved from ${fmtValue(rs.mean)} to ${fmtValue(cs.mean)}, more than one reference std (${fmtStd(refStd)})`,
    });
  }
  if (rs.min !== null && rs.max !== null) {
    let outside = 0;
    for (let i = 0; i < c.sample.values.length; i++) {
      const v = c.sample.values[i]!;
      if (v < rs.min || v > rs.max) outside += c.sample.counts ? c.sample.counts[i]! : 1;
    }
    if (outside > 0) {
      const share = outside / sampleSize(c.sample);
      report.warnings.push({
        code: 'out_of_range',
        message: `${pct(share)} of current values fall outside the reference range [${fmtValue(rs.min)}, ${fmtValue(rs.max)}] (current [${fmtValue(cs.min!)}, ${fmtValue(cs.max!)}])`,
        share,
      });
    }
  }
  const effectRatio = Math.max(
    normalized / s.wassersteinThreshold,
    js / s.jensenShannonThreshold,
    p.value / s.psiThreshold,
  );
  return { report, pValue: ks.pValue, effectRatio };
}

function compareCategorical(
  name: string,
  ref: Side,
  cur: Side,
  rf: FieldProfile,
  cf: FieldProfile,
  s: CompareSettings,
): Pending {
  const r = categoryCounts(ref, name);
  const c = categoryCounts(cur, name);
  const report = emptyField(name, 'ok', '', 'categorical');
  delete report.reason;
  report.reference = sideStats(ref, rf, null, r ? r.counts.size : null);
  report.current = sideStats(cur, cf, null, c ? c.counts.size : null);
  if (!r || r.counts.size === 0) return skip(report, 'no categorical values in reference');
  if (!c || c.counts.size === 0) return skip(report, 'no categorical values in current');
  report.approximate = r.other > 0 || c.other > 0;
  const keys = [...new Set([...r.counts.keys(), ...c.counts.keys()])].sort();
  if (r.other > 0 || c.other > 0) keys.push(OTHER);
  const get = (x: { counts: Map<string, number>; other: number }, k: string) =>
    k === OTHER ? x.other : (x.counts.get(k) ?? 0);
  const rc = keys.map((k) => get(r, k));
  const cc = keys.map((k) => get(c, k));
  const chi = chiSquare(rc, cc);
  const p = psi(rc, cc, s.psiFloor);
  const js = jensenShannon(rc, cc);
  report.tests = {
    chiSquare: chi,
    psi: { value: p.value },
    jensenShannon: { value: js },
  };
  const rn = rc.reduce((a, b) => a + b, 0);
  const cn = cc.reduce((a, b) => a + b, 0);
  const moved = keys.map((k, i) => ({
    value: k,
    reference: rc[i]! / rn,
    current: cc[i]! / cn,
    delta: cc[i]! / cn - rc[i]! / rn,
  }));
  report.explanation.psiBins = p.bins
    .map((b, i) => ({ label: keys[i]!, ...b }))
    .sort((a, b) => b.contribution - a.contribution)
    .slice(0, 20);
  report.explanation.movedCategories = [...moved]
    .sort((a, b) => Math.abs(b.delta) - Math.abs(a.delta) || (a.value < b.value ? -1 : 1))
    .slice(0, 10);
  const unseen = keys.filter((k) => k !== OTHER && !r.counts.has(k) && (c.counts.get(k) ?? 0) > 0);
  const unseenMass = unseen.reduce((a, k) => a + (c.counts.get(k) ?? 0), 0) / cn;
  report.explanation.newCategoryMass = unseenMass;
  if (unseen.length > 0) {
    unseen.sort((a, b) => (c.counts.get(b) ?? 0) - (c.counts.get(a) ?? 0));
    report.warnings.push({
      code: 'unseen_categories',
      message: `${unseen.length} value${unseen.length > 1 ? 's' : ''} never seen in the reference (${pct(unseenMass)} of current${r.other > 0 ? '; reference categories were pruned, so some may hide in its "other" bucket' : ''}): ${unseen
        .slice(0, 5)
        .map((v) => JSON.stringify(v))
        .join(', ')}${unseen.length > 5 ? ', ...' : ''}`,
      values: unseen.slice(0, 50),
      share: unseenMass,
    });
  }
  const missing = keys.filter((k) => k !== OTHER && r.counts.has(k) && !c.counts.has(k) && c.other === 0);
  if (missing.length > 0) {
    missing.sort((a, b) => (r.counts.get(b) ?? 0) - (r.counts.get(a) ?? 0));
    const mass = missing.reduce((a, k) => a + (r.counts.get(k) ?? 0), 0) / rn;
    report.warnings.push({
      code: 'missing_categories',
      message: `${missing.length} reference value${missing.length > 1 ? 's' : ''} (${pct(mass)} of reference) absent from current: ${missing
        .slice(0, 5)
        .map((v) => JSON.stringify(v))
        .join(', ')}${missing.length > 5 ? ', ...' : ''}`,
      values: missing.slice(0, 50),
    });
  }
  if (r.counts.size === 1 && r.other === 0) {
    report.warnings.push({
      code: 'constant_in_reference',
      message: `reference has a single value ${JSON.stringify(keys.find((k) => r.counts.has(k)))}`,
    });
  }
  const top = [...moved].sort((a, b) => b.reference + b.current - (a.reference + a.current)).slice(0, 20);
  report.chart = {
    kind: 'bars',
    categories: top.map((m) => m.value),
    reference: top.map((m) => m.reference),
    current: top.map((m) => m.current),
  };
  const effectRatio = Math.max(js / s.jensenShannonThreshold, p.value / s.psiThreshold);
  return { report, pValue: chi.pValue, effectRatio };
}

/**
 * A date field left untested: it keeps its statistics and chart, loses the tests and the warnings
 * that only say time has passed, and its reason gives both ranges.
 */
function asTimeRange(pending: Pending): Pending {
  const r = pending.report;
  if (r.status !== 'ok') return pending;
  r.warnings = r.warnings.filter((w) => w.code !== 'mean_shift' && w.code !== 'out_of_range');
  const range = (x: SideStats | null) =>
    x?.min != null && x.max != null ? `${formatDate(x.min)} to ${formatDate(x.max)}` : 'no dates';
  return skip(
    r,
    `a date field, not tested (its values move with time; compareDates, or --compare-dates, tests it): reference ${range(r.reference)}, current ${range(r.current)}`,
  );
}

function skip(report: FieldReport, reason: string): Pending {
  report.status = 'skipped';
  report.reason = reason;
  report.tests = {};
  // No test ran on it, approximate or not.
  report.approximate = false;
  return { report, pValue: null, effectRatio: 0 };
}

/** Benjamini-Hochberg adjusted p-values (same order as input). */
export function benjaminiHochberg(pValues: readonly number[]): number[] {
  const m = pValues.length;
  const order = pValues.map((p, i) => [p, i] as const).sort((a, b) => a[0] - b[0]);
  const out = new Array<number>(m);
  let running = 1;
  for (let k = m - 1; k >= 0; k--) {
    const [p, i] = order[k]!;
    running = Math.min(running, (p * m) / (k + 1));
    out[i] = Math.min(1, running);
  }
  return out;
}

function resolveCompareSettings(options: CompareOptions): CompareSettings {
  const s: CompareSettings = { ...DEFAULT_COMPARE_SETTINGS };
  for (const k of Object.keys(DEFAULT_COMPARE_SETTINGS) as (keyof CompareSettings)[]) {
    const v = options[k];
    if (v === undefined) continue;
    if (k === 'multipleTesting') {
      if (v !== 'benjamini-hochberg' && v !== 'none') {
        throw new DriftError(
          'INVALID_OPTIONS',
          `options.multipleTesting: expected 'benjamini-hochberg' or 'none', got ${String(v)}`,
        );
      }
      s.multipleTesting = v;
    } else {
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
        throw new DriftError(
          'INVALID_OPTIONS',
          `options.${k}: expected a non-negative number, got ${String(v)}`,
        );
      }
      (s as Record<string, unknown>)[k] = v;
    }
  }
  if (!Number.isInteger(s.psiBins) || s.psiBins < 2)
    throw new DriftError('INVALID_OPTIONS', `options.psiBins: expected an integer >= 2, got ${s.psiBins}`);
  return s;
}

/**
 * Compares a current dataset with a reference. Each side is a {@link Profile} or rows; with rows the
 * tests use every value, with profiles they run on the sketches (the report says `approximate`).
 * A field that cannot be compared gets status `skipped` or `error` with a reason; it never fails the report.
 * @throws DriftError `EMPTY_SAMPLE` when either side has no rows; `INVALID_INPUT`, `INVALID_PROFILE`
 * or `INVALID_OPTIONS` for input that is not rows, a profile, or valid options.
 */
export function compare(
  reference: Profile | Rows,
  current: Profile | Rows,
  options: CompareOptions = {},
): DriftReport {
  const settings = resolveCompareSettings(options);
  const ref = toSide(reference, options.profile, 'reference');
  const cur = toSide(current, options.profile, 'current');
  // An empty side would give "no dataset drift" with every field "missing": an all-clear for nothing.
  for (const [side, which] of [
    [ref, 'reference'],
    [cur, 'current'],
  ] as const) {
    if (side.profile.rowCount === 0) {
      throw new DriftError('EMPTY_SAMPLE', `${which}: no rows, so there is nothing to compare`);
    }
  }
  const names = [...new Set([...Object.keys(ref.profile.fields), ...Object.keys(cur.profile.fields)])].filter(
    (n) => (!options.fields || options.fields.includes(n)) && !options.ignoreFields?.includes(n),
  );
  const compareDates = options.compareDates ?? false;
  if (typeof compareDates !== 'boolean') {
    throw new DriftError(
      'INVALID_OPTIONS',
      `options.compareDates: expected a boolean, got ${String(compareDates)}`,
    );
  }
  const pending: Pending[] = names.map((name) => {
    try {
      return compareField(name, ref, cur, settings, compareDates);
    } catch (error) {
      const r = emptyField(
        name,
        'error',
        `could not compare: ${error instanceof Error ? error.message : String(error)}`,
        'unknown',
      );
      return { report: r, pValue: null, effectRatio: 0 };
    }
  });
  // Verdicts: p-values (adjusted across fields) for small references, effect sizes for large ones.
  const usePValues = ref.profile.rowCount <= settings.pValueMaxRows;
  const tested = pending.filter(
    (p) => p.report.status === 'ok' && p.pValue !== null && Number.isFinite(p.pValue),
  );
  const adjusted =
    settings.multipleTesting === 'benjamini-hochberg'
      ? benjaminiHochberg(tested.map((p) => p.pValue!))
      : tested.map((p) => p.pValue!);
  tested.forEach((p, i) => {
    p.report.adjustedPValue = adjusted[i]!;
  });
  for (const p of pending) {
    const r = p.report;
    if (r.status !== 'ok') continue;
    r.score = p.effectRatio;
    if (usePValues && r.adjustedPValue !== null) {
      r.decidedBy = 'p-value';
      r.drift = r.adjustedPValue < settings.pValueThreshold;
    } else {
      r.decidedBy = 'effect-size';
      // The effect must also be significant: the effect sizes of a small current window carry
      // sampling noise about as large as their thresholds (the Jensen-Shannon distance between
      // two 150-row samples of one distribution is ~0.1), so alone they flag unchanged fields.
      r.drift =
        p.effectRatio >= 1 && (r.adjustedPValue === null || r.adjustedPValue < settings.pValueThreshold);
    }
    r.severity = !r.drift ? 'none' : p.effectRatio >= 3 ? 'high' : p.effectRatio >= 1.5 ? 'medium' : 'low';
  }
  const fields = pending.map((p) => p.report);
  fields.sort(
    (a, b) =>
      Number(b.drift) - Number(a.drift) ||
      b.score - a.score ||
      b.warnings.length - a.warnings.length ||
      (a.name < b.name ? -1 : 1),
  );
  const compared = fields.filter((f) => f.status === 'ok');
  const drifted = compared.filter((f) => f.drift);
  const driftedShare = compared.length ? drifted.length / compared.length : 0;
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    kind: 'prodprobe.drift.report',
    approximate: fields.some((f) => f.approximate),
    reference: { rows: ref.profile.rowCount, source: ref.source },
    current: { rows: cur.profile.rowCount, source: cur.source },
    settings,
    datasetDrift: compared.length > 0 && driftedShare >= settings.datasetDriftShare,
    driftedShare,
    driftedFields: drifted.map((f) => f.name),
    fields,
    warningCount: fields.reduce((a, f) => a + f.warnings.length, 0),
  };
}

function compareField(
  name: string,
  ref: Side,
  cur: Side,
  s: CompareSettings,
  compareDates: boolean,
): Pending {
  const rf = ref.profile.fields[name];
  const cf = cur.profile.fields[name];
  if (!rf) {
    const r = emptyField(
      name,
      'skipped',
      'field not in reference',
      kindOf(cf ? dominantType(cf).type : null),
    );
    r.warnings.push({
      code: 'field_added',
      message: `field "${name}" appears in current but not in reference`,
    });
    return { report: r, pValue: null, effectRatio: 0 };
  }
  const rt = dominantType(rf);
  if (!cf) {
    const r = emptyField(name, 'skipped', 'field not in current', kindOf(rt.type));
    r.warnings.push({
      code: 'field_missing',
      message: `field "${name}" is in reference but missing from current`,
    });
    return { report: r, pValue: null, effectRatio: 0 };
  }
  const ct = dominantType(cf);
  const warnings: DriftWarning[] = [];
  const refBad = rf.nulls + rf.nan + rf.missing;
  const curBad = cf.nulls + cf.nan + cf.missing;
  if (refBad === 0 && curBad > 0) {
    const total = cur.profile.rowCount;
    warnings.push({
      code: 'new_nulls',
      message: `current has ${cf.nulls} null, ${cf.nan} NaN and ${cf.missing} missing values (${pct(curBad / Math.max(total, 1))} of rows); the reference had none`,
      share: curBad / Math.max(total, 1),
    });
  }
  let pending: Pending;
  if (rt.type === null) {
    pending = skip(emptyField(name, 'ok', '', 'unknown'), 'reference has only null or missing values');
  } else if (rt.share < 0.95) {
    const mix = Object.entries(rf.types)
      .filter(([, c]) => c > 0)
      .map(([k, c]) => `${k} ${c}`)
      .join(', ');
    pending = skip(emptyField(name, 'ok', '', 'unknown'), `mixed types in reference (${mix})`);
  } else if (ct.type !== null && kindOf(ct.type) !== kindOf(rt.type)) {
    warnings.push({ code: 'type_changed', message: `type changed from ${rt.type} to ${ct.type}` });
    pending = skip(emptyField(name, 'ok', '', kindOf(rt.type)), `type changed from ${rt.type} to ${ct.type}`);
  } else if (ct.type === null) {
    pending = skip(emptyField(name, 'ok', '', kindOf(rt.type)), 'current has only null or missing values');
  } else {
    if (ct.type !== rt.type)
      warnings.push({ code: 'type_changed', message: `type changed from ${rt.type} to ${ct.type}` });
    pending =
      kindOf(rt.type) === 'numeric'
        ? compareNumeric(name, ref, cur, rf, cf, s)
        : compareCategorical(name, ref, cur, rf, cf, s);
    if (rt.type === 'date' && !compareDates) pending = asTimeRange(pending);
  }
  pending.report.warnings.unshift(...warnings);
  return pending;
}
