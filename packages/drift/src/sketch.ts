/**
 * A deterministic, mergeable quantile sketch. Below `exactThreshold` distinct values it stores every
 * distinct value with its count (exact). Above, it switches to log-spaced buckets (DDSketch-style):
 * bucket i of a sign holds magnitudes in (γ^(i-1), γ^i] with γ = (1+α)/(1-α), so every value is
 * known to relative accuracy α, and each sign keeps at most `maxBuckets` buckets (the smallest
 * magnitudes fold into the lowest kept bucket). Bucketing is a fixed function of the value and
 * folding depends only on the largest index, so merge is exactly associative and commutative and
 * the result does not depend on insertion or merge order.
 */
import type { Sample } from './stats/sample.js';

/** Sketch settings; both sides of a merge must agree. */
export interface SketchOptions {
  /** Distinct values kept exactly before switching to buckets. @default 4096 */
  exactThreshold: number;
  /** Relative accuracy α of a bucketed value. @default 0.01 */
  relativeAccuracy: number;
  /** Buckets kept per sign once bucketed. @default 2048 */
  maxBuckets: number;
}

/** Serialized sketch (part of a Profile). */
export type SketchJSON =
  | { mode: 'exact'; values: number[]; counts: number[] }
  | {
      mode: 'buckets';
      zeros: number;
      /** Index of `positive[0]` (bucket index of the smallest kept positive bucket). */
      positiveOffset: number;
      positive: number[];
      negativeOffset: number;
      negative: number[];
    };

/**
 * A dense window of bucket counts for one sign. Invariant: the window spans at most `maxBuckets`
 * indices and every count lies in [max - maxBuckets + 1, max], lower ones folded into the lowest
 * kept bucket, so the stored state is a function of the multiset of indices added.
 */
class Store {
  counts = new Float64Array(0);
  offset = 0;
  empty = true;
  constructor(private readonly maxBuckets: number) {}

  add(index: number, count: number): void {
    if (this.empty) {
      this.empty = false;
      this.counts = new Float64Array(Math.min(64, this.maxBuckets));
      this.offset = index - Math.floor(this.counts.length / 2);
    }
    const i = index - this.offset;
    if (i >= 0 && i < this.counts.length) {
      this.counts[i]! += count;
      return;
    }
    const hi = Math.max(index, this.maxIndex());
    const keepLo = Math.max(Math.min(index, this.minIndex()), hi - this.maxBuckets + 1);
    const span = hi - keepLo + 1;
    const size = Math.min(this.maxBuckets, Math.max(span * 2, 64));
    const newOffset = Math.max(hi - this.maxBuckets + 1, keepLo - Math.floor((size - span) / 2));
    const next = new Float64Array(size);
    for (let k = 0; k < this.counts.length; k++) {
      const c = this.counts[k]!;
      if (c !== 0) next[Math.max(this.offset + k, keepLo) - newOffset]! += c;
    }
    next[Math.max(index, keepLo) - newOffset]! += count;
    this.counts = next;
    this.offset = newOffset;
  }

  maxIndex(): number {
    for (let i = this.counts.length - 1; i >= 0; i--) if (this.counts[i]! > 0) return this.offset + i;
    return this.offset;
  }

  minIndex(): number {
    for (let i = 0; i < this.counts.length; i++) if (this.counts[i]! > 0) return this.offset + i;
    return this.offset;
  }

  toJSON(): { offset: number; counts: number[] } {
    if (this.empty) return { offset: 0, counts: [] };
    const lo = this.minIndex();
    const hi = this.maxIndex();
    const out: number[] = [];
    for (let i = lo; i <= hi; i++) out.push(this.counts[i - this.offset]!);
    return { offset: lo, counts: out };
  }
}

/** Integers below this are counted in {@link denseCounts} by the exact sketch's hot loop. */
const DENSE_LIMIT = 1 << 16;
/** Scratch counters shared by every sketch (addMany runs to the end without yielding; all zero between calls). */
const denseCounts = new Uint32Array(DENSE_LIMIT);

/** Mutable sketch used while building a profile. */
export class QuantileSketch {
  private exact: Map<number, number> | null = new Map();
  private zeros = 0;
  private readonly positive: Store;
  private readonly negative: Store;
  private readonly logGamma: number;
  /** 1 / ln γ; every path computes an index as ceil(ln|x| * invLogGamma) so a value's bucket never depends on the path. */
  private readonly invLogGamma: number;
  constructor(readonly options: SketchOptions) {
    this.positive = new Store(options.maxBuckets);
    this.negative = new Store(options.maxBuckets);
    const a = options.relativeAccuracy;
    this.logGamma = Math.log((1 + a) / (1 - a));
    this.invLogGamma = 1 / this.logGamma;
  }

  /** True once the sketch holds buckets rather than exact values. */
  get approximate(): boolean {
    return this.exact === null;
  }

  /** Bucket index of a positive magnitude. */
  index(magnitude: number): number {
    return Math.ceil(Math.log(magnitude) * this.invLogGamma);
  }

  /** Representative value of bucket `i` (relative error at most α for every value in it). */
  representative(i: number): number {
    const gamma = Math.exp(this.logGamma);
    return (2 * gamma ** i) / (gamma + 1);
  }

  /** Adds a finite value `count` times. */
  add(x: number, count = 1): void {
    if (this.exact) {
      this.exact.set(x, (this.exact.get(x) ?? 0) + count);
      if (this.exact.size > this.options.exactThreshold) this.toBuckets();
      return;
    }
    this.addBucketed(x, count);
  }

  private addBucketed(x: number, count: number): void {
    if (x === 0) {
      this.zeros += count;
      return;
    }
    if (x > 0) this.positive.add(this.index(x), count);
    else this.negative.add(this.index(-x), count);
  }

  /** Adds many finite values (the hot loop of `addColumns`). */
  addMany(values: ArrayLike<number>, start: number, end: number): void {
    let k = start;
    if (this.exact) {
      const map = this.exact;
      const limit = this.options.exactThreshold;
      // Small non-negative integers (codes, counts, ages, ...) are counted in a shared array first
      // and added to the map once per distinct value: two Map lookups per value were most of the
      // time of this loop. `fresh` counts the distinct ones the map does not hold yet.
      const dense = denseCounts;
      const touched: number[] = [];
      let fresh = 0;
      let over = false;
      for (; k < end; k++) {
        const x = values[k]!;
        if (x >= 0 && x < DENSE_LIMIT && (x | 0) === x) {
          const seen = dense[x]!;
          dense[x] = seen + 1;
          if (seen === 0) {
            touched.push(x);
            if (!map.has(x) && map.size + ++fresh > limit) {
              over = true;
              k++;
              break;
            }
          }
          continue;
        }
        if (!Number.isFinite(x)) continue;
        map.set(x, (map.get(x) ?? 0) + 1);
        if (map.size + fresh > limit) {
          over = true;
          k++;
          break;
        }
      }
      for (const v of touched) {
        map.set(v, (map.get(v) ?? 0) + dense[v]!);
        dense[v] = 0;
      }
      if (!over) return;
      this.toBuckets();
    }
    const inv = this.invLogGamma;
    const pos = this.positive;
    const neg = this.negative;
    for (; k < end; k++) {
      const x = values[k]!;
      if (x > 0) {
        if (x === Number.POSITIVE_INFINITY) continue;
        const i = Math.ceil(Math.log(x) * inv) - pos.offset;
        if (i >= 0 && i < pos.counts.length) pos.counts[i]! += 1;
        else this.addBucketed(x, 1);
      } else if (x < 0) {
        if (x === Number.NEGATIVE_INFINITY) continue;
        const i = Math.ceil(Math.log(-x) * inv) - neg.offset;
        if (i >= 0 && i < neg.counts.length) neg.counts[i]! += 1;
        else this.addBucketed(x, 1);
      } else if (x === 0) this.zeros++;
    }
  }

  private toBuckets(): void {
    const exact = this.exact!;
    this.exact = null;
    for (const [v, c] of exact) this.addBucketed(v, c);
  }

  /** Merges another sketch (same options) into this one. */
  merge(other: QuantileSketch): void {
    const o = other.toJSON();
    if (o.mode === 'exact') {
      for (let i = 0; i < o.values.length; i++) this.add(o.values[i]!, o.counts[i]!);
      return;
    }
    if (this.exact) this.toBuckets();
    this.zeros += o.zeros;
    o.positive.forEach((c, i) => {
      if (c > 0) this.positive.add(o.positiveOffset + i, c);
    });
    o.negative.forEach((c, i) => {
      if (c > 0) this.negative.add(o.negativeOffset + i, c);
    });
  }

  /** Serializes (exact values sorted ascending; bucket windows trimmed to non-zero ends). */
  toJSON(): SketchJSON {
    if (this.exact) {
      const values = [...this.exact.keys()].sort((a, b) => a - b);
      return { mode: 'exact', values, counts: values.map((v) => this.exact!.get(v)!) };
    }
    const p = this.positive.toJSON();
    const n = this.negative.toJSON();
    return {
      mode: 'buckets',
      zeros: this.zeros,
      positiveOffset: p.offset,
      positive: p.counts,
      negativeOffset: n.offset,
      negative: n.counts,
    };
  }

  /** Rebuilds a sketch from its JSON form. */
  static fromJSON(json: SketchJSON, options: SketchOptions): QuantileSketch {
    const s = new QuantileSketch(options);
    if (json.mode === 'exact') {
      for (let i = 0; i < json.values.length; i++) s.add(json.values[i]!, json.counts[i]!);
      return s;
    }
    s.exact = null;
    s.zeros = json.zeros;
    json.positive.forEach((c, i) => {
      if (c > 0) s.positive.add(json.positiveOffset + i, c);
    });
    json.negative.forEach((c, i) => {
      if (c > 0) s.negative.add(json.negativeOffset + i, c);
    });
    return s;
  }
}

/**
 * The sketch as a counted sample: exact values, or each bucket's representative value with its
 * count. Tests run on this sample when only profiles are available.
 */
export function sketchToSample(json: SketchJSON, relativeAccuracy: number): Sample {
  if (json.mode === 'exact') {
    return { values: Float64Array.from(json.values), counts: Float64Array.from(json.counts) };
  }
  const gamma = (1 + relativeAccuracy) / (1 - relativeAccuracy);
  const rep = (i: number) => (2 * gamma ** i) / (gamma + 1);
  const values: number[] = [];
  const counts: number[] = [];
  for (let i = json.negative.length - 1; i >= 0; i--) {
    const c = json.negative[i]!;
    if (c > 0) {
      values.push(-rep(json.negativeOffset + i));
      counts.push(c);
    }
  }
  if (json.zeros > 0) {
    values.push(0);
    counts.push(json.zeros);
  }
  for (let i = 0; i < json.positive.length; i++) {
    const c = json.positive[i]!;
    if (c > 0) {
      values.push(rep(json.positiveOffset + i));
      counts.push(c);
    }
  }
  return { values: Float64Array.from(values), counts: Float64Array.from(counts) };
}
