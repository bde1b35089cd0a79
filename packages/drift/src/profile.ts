/**
 * Building profiles: `profile(rows)`, the streaming `createProfileBuilder()` and `mergeProfiles`.
 * A profile's size depends on the number of fields and the settings, never on the row count.
 */
import { DriftError } from './errors.js';
import { combineMoments, emptyMoments, type Moments } from './moments.js';
import {
  type FieldProfile,
  PROFILE_SCHEMA_VERSION,
  type Profile,
  type ProfileSettings,
  parseProfile,
} from './profile-schema.js';
import { QuantileSketch, type SketchJSON, sketchToSample } from './sketch.js';
import { parseIsoDate } from './time-format.js';

/** Profile settings; every field has a default. */
export interface ProfileOptions {
  /** Distinct numeric values kept exactly per field before the sketch switches to buckets. @default 4096 */
  exactThreshold?: number;
  /** Relative accuracy of a bucketed numeric value. @default 0.01 */
  relativeAccuracy?: number;
  /** Buckets per sign in a bucketed sketch (covers a 10^17 dynamic range at 1%). @default 2048 */
  maxBuckets?: number;
  /** Categories kept per field; less frequent ones are summed into `other`. @default 1000 */
  maxCategories?: number;
  /** Bins of the derived equal-width histogram. @default 20 */
  histogramBins?: number;
}

/** Defaults for {@link ProfileOptions}. */
export const DEFAULT_PROFILE_SETTINGS: Readonly<ProfileSettings> = Object.freeze({
  exactThreshold: 4096,
  relativeAccuracy: 0.01,
  maxBuckets: 2048,
  maxCategories: 1000,
  histogramBins: 20,
});

function resolveSettings(options: ProfileOptions = {}): ProfileSettings {
  const s = {
    ...DEFAULT_PROFILE_SETTINGS,
    ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)),
  };
  const positiveInt = (k: keyof ProfileSettings) => {
    if (!Number.isInteger(s[k]) || s[k] <= 0)
      throw new DriftError('INVALID_OPTIONS', `options.${k}: expected a positive integer, got ${s[k]}`);
  };
  positiveInt('exactThreshold');
  positiveInt('maxBuckets');
  positiveInt('maxCategories');
  positiveInt('histogramBins');
  if (!(s.relativeAccuracy > 0 && s.relativeAccuracy < 1)) {
    throw new DriftError(
      'INVALID_OPTIONS',
      `options.relativeAccuracy: expected a number in (0, 1), got ${s.relativeAccuracy}`,
    );
  }
  return s;
}

/** Column data accepted by `addColumns`: typed arrays take the fast numeric path. */
export type ColumnData =
  | Float64Array
  | Float32Array
  | Int32Array
  | Int16Array
  | Int8Array
  | Uint32Array
  | Uint16Array
  | Uint8Array
  | readonly unknown[];

const CHUNK = 65536;

class FieldAccumulator {
  seen = 0;
  nulls = 0;
  nan = 0;
  posInf = 0;
  negInf = 0;
  types = { number: 0, string: 0, boolean: 0, date: 0, other: 0 };
  moments: Moments = emptyMoments();
  min = Number.POSITIVE_INFINITY;
  max = Number.NEGATIVE_INFINITY;
  sketch: QuantileSketch | null = null;
  cats: Map<string, number> | null = null;
  catOther = 0;
  catTotal = 0;
  strLen: Moments = emptyMoments();
  strMin = Number.POSITIVE_INFINITY;
  strMax = Number.NEGATIVE_INFINITY;

  constructor(private readonly settings: ProfileSettings) {}

  private getSketch(): QuantileSketch {
    this.sketch ??= new QuantileSketch(this.settings);
    return this.sketch;
  }

  addValue(v: unknown): void {
    if (v === undefined) return;
    this.seen++;
    if (v === null) {
      this.nulls++;
      return;
    }
    switch (typeof v) {
      case 'number':
        this.types.number++;
        this.addNumber(v);
        return;
      case 'bigint':
        this.types.number++;
        this.addNumber(Number(v));
        return;
      case 'string': {
        // ISO 8601 dates and date-times (JSON has no date type) are dates, not categories.
        const ms = parseIsoDate(v);
        if (!Number.isNaN(ms)) {
          this.types.date++;
          this.addNumber(ms);
          return;
        }
        this.types.string++;
        this.addCategory(v);
        this.addLength(v.length);
        return;
      }
      case 'boolean':
        this.types.boolean++;
        this.addCategory(v ? 'true' : 'false');
        return;
      default:
        if (v instanceof Date) {
          this.types.date++;
          this.addNumber(v.getTime());
        } else this.types.other++;
    }
  }

  private addNumber(x: number): void {
    if (Number.isNaN(x)) this.nan++;
    else if (x === Number.POSITIVE_INFINITY) this.posInf++;
    else if (x === Number.NEGATIVE_INFINITY) this.negInf++;
    else {
      const m = this.moments;
      m.count++;
      const delta = x - m.mean;
      m.mean += delta / m.count;
      m.m2 += delta * (x - m.mean);
      if (x < this.min) this.min = x;
      if (x > this.max) this.max = x;
      this.getSketch().add(x);
    }
  }

  /** Fast path for a numeric typed array (epoch milliseconds of dates with `asDates`). */
  addNumbers(values: ArrayLike<number>, asDates = false): void {
    const len = values.length;
    this.seen += len;
    if (asDates) this.types.date += len;
    else this.types.number += len;
    const sketch = this.getSketch();
    for (let start = 0; start < len; start += CHUNK) {
      const end = Math.min(len, start + CHUNK);
      let k = 0;
      let sum = 0;
      let min = this.min;
      let max = this.max;
      for (let i = start; i < end; i++) {
        const x = values[i]!;
        if (x - x === 0) {
          k++;
          sum += x;
          if (x < min) min = x;
          if (x > max) max = x;
        } else if (Number.isNaN(x)) this.nan++;
        else if (x > 0) this.posInf++;
        else this.negInf++;
      }
      if (k === 0) continue;
      const mean = sum / k;
      let m2 = 0;
      for (let i = start; i < end; i++) {
        const d = values[i]! - mean;
        if (d - d === 0) m2 += d * d;
      }
      this.min = min;
      this.max = max;
      this.moments = combineMoments(this.moments, { count: k, mean, m2 });
      sketch.addMany(values, start, end);
    }
  }

  private addCategory(key: string): void {
    this.cats ??= new Map();
    this.catTotal++;
    this.cats.set(key, (this.cats.get(key) ?? 0) + 1);
    if (this.cats.size > 2 * this.settings.maxCategories) this.pruneCategories();
  }

  private pruneCategories(): void {
    if (!this.cats || this.cats.size <= this.settings.maxCategories) return;
    const sorted = sortCategories(this.cats);
    this.cats = new Map(sorted.slice(0, this.settings.maxCategories));
    for (const [, c] of sorted.slice(this.settings.maxCategories)) this.catOther += c;
  }

  private addLength(len: number): void {
    const m = this.strLen;
    m.count++;
    const delta = len - m.mean;
    m.mean += delta / m.count;
    m.m2 += delta * (len - m.mean);
    if (len < this.strMin) this.strMin = len;
    if (len > this.strMax) this.strMax = len;
  }

  merge(o: FieldAccumulator): void {
    this.seen += o.seen;
    this.nulls += o.nulls;
    this.nan += o.nan;
    this.posInf += o.posInf;
    this.negInf += o.negInf;
    for (const k of Object.keys(this.types) as (keyof typeof this.types)[]) this.types[k] += o.types[k];
    this.moments = combineMoments(this.moments, o.moments);
    this.min = Math.min(this.min, o.min);
    this.max = Math.max(this.max, o.max);
    if (o.sketch) this.getSketch().merge(o.sketch);
    if (o.cats) {
      this.cats ??= new Map();
      for (const [k, c] of o.cats) this.cats.set(k, (this.cats.get(k) ?? 0) + c);
    }
    this.catOther += o.catOther;
    this.catTotal += o.catTotal;
    this.pruneCategories();
    this.strLen = combineMoments(this.strLen, o.strLen);
    this.strMin = Math.min(this.strMin, o.strMin);
    this.strMax = Math.max(this.strMax, o.strMax);
  }

  toJSON(rowCount: number): FieldProfile {
    this.pruneCategories();
    let numeric: FieldProfile['numeric'] = null;
    if (this.moments.count > 0 && this.sketch) {
      const sketch = this.sketch.toJSON();
      numeric = {
        moments: { ...this.moments },
        min: this.min,
        max: this.max,
        sketch,
        histogram: deriveHistogram(sketch, this.min, this.max, this.settings),
      };
    }
    return {
      missing: rowCount - this.seen,
      nulls: this.nulls,
      nan: this.nan,
      positiveInfinity: this.posInf,
      negativeInfinity: this.negInf,
      types: { ...this.types },
      numeric,
      categorical:
        this.cats && this.catTotal > 0
          ? {
              counts: Object.fromEntries(sortCategories(this.cats)),
              other: this.catOther,
              total: this.catTotal,
            }
          : null,
      stringLength:
        this.strLen.count > 0 ? { moments: { ...this.strLen }, min: this.strMin, max: this.strMax } : null,
    };
  }

  static fromJSON(f: FieldProfile, rowCount: number, settings: ProfileSettings): FieldAccumulator {
    const a = new FieldAccumulator(settings);
    a.seen = rowCount - f.missing;
    a.nulls = f.nulls;
    a.nan = f.nan;
    a.posInf = f.positiveInfinity;
    a.negInf = f.negativeInfinity;
    a.types = { ...f.types };
    if (f.numeric) {
      a.moments = { ...f.numeric.moments };
      a.min = f.numeric.min;
      a.max = f.numeric.max;
      a.sketch = QuantileSketch.fromJSON(f.numeric.sketch, settings);
    }
    if (f.categorical) {
      a.cats = new Map(Object.entries(f.categorical.counts));
      a.catOther = f.categorical.other;
      a.catTotal = f.categorical.total;
    }
    if (f.stringLength) {
      a.strLen = { ...f.stringLength.moments };
      a.strMin = f.stringLength.min;
      a.strMax = f.stringLength.max;
    }
    return a;
  }
}

/** Categories by count descending, then key ascending (a deterministic order). */
function sortCategories(m: Map<string, number>): [string, number][] {
  return [...m].sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
}

function deriveHistogram(
  sketch: SketchJSON,
  min: number,
  max: number,
  settings: ProfileSettings,
): { edges: number[]; counts: number[] } {
  const bins = min === max ? 1 : settings.histogramBins;
  const width = (max - min) / bins;
  const edges = Array.from({ length: bins + 1 }, (_, i) => (i === bins ? max : min + i * width));
  const counts = new Array<number>(bins).fill(0);
  const s = sketchToSample(sketch, settings.relativeAccuracy);
  for (let i = 0; i < s.values.length; i++) {
    const v = s.values[i]!;
    const b = width > 0 ? Math.min(bins - 1, Math.max(0, Math.floor((v - min) / width))) : 0;
    counts[b]! += s.counts ? s.counts[i]! : 1;
  }
  return { edges, counts };
}

/** A streaming profile builder; see {@link createProfileBuilder}. */
export interface ProfileBuilder {
  /** Rows added so far (including merged profiles). */
  readonly rowCount: number;
  /** Adds one row (a plain object; absent keys count as missing). */
  add(row: Readonly<Record<string, unknown>>): ProfileBuilder;
  /**
   * Adds a batch of rows given column-wise. Every column must have the same length; typed arrays
   * take a fast numeric path (no per-value type dispatch). Typed-array columns named in `dates`
   * hold dates as epoch milliseconds: they are profiled as dates, as Date values would be.
   */
  addColumns(
    columns: Readonly<Record<string, ColumnData>>,
    options?: { dates?: readonly string[] },
  ): ProfileBuilder;
  /** Merges a profile (or another builder) with the same settings into this builder. */
  merge(other: Profile | ProfileBuilder): ProfileBuilder;
  /** The profile of everything added so far (the builder stays usable). */
  toJSON(): Profile;
}

class Builder implements ProfileBuilder {
  rowCount = 0;
  readonly fields = new Map<string, FieldAccumulator>();
  constructor(readonly settings: ProfileSettings) {}

  private field(name: string): FieldAccumulator {
    let f = this.fields.get(name);
    if (!f) {
      f = new FieldAccumulator(this.settings);
      this.fields.set(name, f);
    }
    return f;
  }

  add(row: Readonly<Record<string, unknown>>): ProfileBuilder {
    if (row === null || typeof row !== 'object' || Array.isArray(row)) {
      throw new DriftError(
        'INVALID_INPUT',
        `row ${this.rowCount}: expected a plain object, got ${row === null ? 'null' : Array.isArray(row) ? 'an array' : typeof row}`,
      );
    }
    this.rowCount++;
    for (const key in row) this.field(key).addValue(row[key]);
    return this;
  }

  addColumns(
    columns: Readonly<Record<string, ColumnData>>,
    options: { dates?: readonly string[] } = {},
  ): ProfileBuilder {
    let length: number | undefined;
    for (const [name, col] of Object.entries(columns)) {
      if (length === undefined) length = col.length;
      else if (col.length !== length) {
        throw new DriftError(
          'INVALID_INPUT',
          `columns.${name}: expected ${length} values like the other columns, got ${col.length}`,
        );
      }
    }
    if (length === undefined) return this;
    for (const [name, col] of Object.entries(columns)) {
      const f = this.field(name);
      const asDates = options.dates?.includes(name) ?? false;
      if (ArrayBuffer.isView(col)) f.addNumbers(col as ArrayLike<number>, asDates);
      else if (asDates) {
        for (let i = 0; i < length; i++) {
          const v = col[i];
          f.addValue(typeof v === 'number' ? new Date(v) : v);
        }
      } else for (let i = 0; i < length; i++) f.addValue(col[i]);
    }
    this.rowCount += length;
    return this;
  }

  merge(other: Profile | ProfileBuilder): ProfileBuilder {
    const p = other instanceof Builder ? other.toJSON() : parseProfile(other);
    assertSameSettings(this.settings, p.settings);
    for (const [name, f] of Object.entries(p.fields)) {
      const incoming = FieldAccumulator.fromJSON(f, p.rowCount, this.settings);
      const existing = this.fields.get(name);
      if (existing) existing.merge(incoming);
      else this.fields.set(name, incoming);
    }
    this.rowCount += p.rowCount;
    return this;
  }

  toJSON(): Profile {
    const fields: Record<string, FieldProfile> = {};
    for (const [name, f] of this.fields) fields[name] = f.toJSON(this.rowCount);
    return {
      schemaVersion: PROFILE_SCHEMA_VERSION,
      kind: 'prodprobe.drift.profile',
      rowCount: this.rowCount,
      settings: { ...this.settings },
      fields,
    };
  }
}

function assertSameSettings(a: ProfileSettings, b: ProfileSettings): void {
  for (const k of Object.keys(a) as (keyof ProfileSettings)[]) {
    if (a[k] !== b[k]) {
      throw new DriftError(
        'SCHEMA_MISMATCH',
        `profile.settings.${k}: cannot merge profiles built with ${a[k]} and ${b[k]}`,
      );
    }
  }
}

/** Creates a streaming profile builder. */
export function createProfileBuilder(options?: ProfileOptions): ProfileBuilder {
  return new Builder(resolveSettings(options));
}

/** Profiles an array (or any iterable) of row objects. */
export function profile(
  rows: Iterable<Readonly<Record<string, unknown>>>,
  options?: ProfileOptions,
): Profile {
  const b = createProfileBuilder(options);
  for (const row of rows) b.add(row);
  return b.toJSON();
}

/**
 * Merges two profiles built with the same settings into the profile of the union of their rows.
 * Associative and commutative: counts, min/max, categories (while under `maxCategories`) and the
 * sketch are exactly so; mean and M2 agree to floating-point rounding (~1e-15 relative).
 */
export function mergeProfiles(a: Profile, b: Profile): Profile {
  const pa = parseProfile(a);
  const pb = parseProfile(b);
  assertSameSettings(pa.settings, pb.settings);
  const builder = new Builder(pa.settings);
  builder.merge(pa);
  builder.merge(pb);
  return builder.toJSON();
}

/**
 * The share of a field's profiled values equal to `value`, when the profile holds it exactly: a
 * category's count (strings and booleans), or a number's count in an exact sketch (at most
 * `exactThreshold` distinct values). Null when it cannot tell (a bucketed sketch, a category
 * folded into `other`, another type); 0 for a value the profile never saw.
 */
export function valueShare(field: FieldProfile, value: unknown): number | null {
  const c = field.categorical;
  if ((typeof value === 'string' || typeof value === 'boolean') && c) {
    const count = c.counts[String(value)];
    if (count !== undefined) return c.total > 0 ? count / c.total : null;
    return c.other > 0 ? null : 0;
  }
  const sketch = field.numeric?.sketch;
  if (typeof value === 'number' && sketch?.mode === 'exact') {
    let total = 0;
    let count = 0;
    for (let i = 0; i < sketch.values.length; i++) {
      total += sketch.counts[i]!;
      if (sketch.values[i] === value) count = sketch.counts[i]!;
    }
    return total > 0 ? count / total : null;
  }
  return null;
}
