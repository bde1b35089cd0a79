import { type LogScan, scanLogLines } from './read.js';
import type { PredictionLogEntry } from './schema.js';

/**
 * Deterministic sampling on the request id, so every service that logs the same request keeps or
 * drops it alike. The spec, to reproduce in any language:
 *
 * 1. h = MurmurHash3 x86 32-bit (`murmur3_32`, seed 0) of the UTF-8 bytes of the request id
 *    (Python `mmh3.hash(id, 0, signed=False)`, Guava `murmur3_32_fixed(0)`, Go `murmur3.Sum32`);
 * 2. u = h / 2^32, uniform in [0, 1);
 * 3. keep the request when u < sampleRate.
 */

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

function mixBlock(h: number, k: number): number {
  k = Math.imul(k, C1);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, C2);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

function finish(h: number, k: number, tailBytes: number, length: number): number {
  if (tailBytes > 0) {
    k = Math.imul(k, C1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, C2);
    h ^= k;
  }
  h ^= length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 4294967296;
}

/** Ids with non-ASCII characters: hash their UTF-8 bytes (lone surrogates become U+FFFD). */
function sampleUnitBytes(requestId: string): number {
  const bytes = Buffer.from(requestId, 'utf8');
  const blocks = bytes.length >>> 2;
  let h = 0;
  for (let b = 0; b < blocks; b++) h = mixBlock(h, bytes.readInt32LE(b << 2));
  let k = 0;
  const tail = bytes.length & 3;
  for (let j = 0; j < tail; j++) k |= (bytes[(blocks << 2) + j] as number) << (j << 3);
  return finish(h, k, tail, bytes.length);
}

/**
 * The sampling position of a request id: murmur3_32 (seed 0) of its UTF-8 bytes divided by 2^32.
 * Uniform in [0, 1); keep the request when the result is below the sample rate. ASCII ids (UUIDs,
 * trace ids) are hashed four characters at a time without allocating.
 */
export function sampleUnit(requestId: string): number {
  const n = requestId.length;
  let h = 0;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const a = requestId.charCodeAt(i);
    const b = requestId.charCodeAt(i + 1);
    const c = requestId.charCodeAt(i + 2);
    const d = requestId.charCodeAt(i + 3);
    if ((a | b | c | d) >= 0x80) return sampleUnitBytes(requestId);
    h = mixBlock(h, a | (b << 8) | (c << 16) | (d << 24));
  }
  let k = 0;
  for (let j = 0; i < n; i++, j += 8) {
    const c = requestId.charCodeAt(i);
    if (c >= 0x80) return sampleUnitBytes(requestId);
    k |= c << j;
  }
  return finish(h, k, n & 3, n);
}

/** Whether a success with this request id is kept at `sampleRate` (see `sampleUnit` for the spec). */
export function isSampled(requestId: string, sampleRate: number): boolean {
  return sampleUnit(requestId) < sampleRate;
}

/** The fields of a log entry that the sampling rule reads. */
type Sampled = { requestId: string; keptBy: string; samplingWeight: number; host: string; pid: number };

/**
 * The rate of a log's uniform sample, learnt from its sampled successes: each process's rate is
 * `1 / samplingWeight` of its `keptBy: "sample"` entries, and the sample uses the lowest, since an
 * id kept at a rate is kept at every higher one.
 */
class SampleRate {
  private readonly known = new Set<string>();
  rate: number | null = null;

  see(e: Sampled): void {
    if (e.keptBy !== 'sample') return;
    this.known.add(`${e.host}\u0000${e.pid}`);
    const r = 1 / e.samplingWeight;
    if (this.rate === null || r < this.rate) this.rate = r;
  }

  /** Whether the entry's request is in the sample, outside it, or from a process of unknown rate. */
  place(e: Sampled): 'sampled' | 'leftOut' | 'unknownRate' {
    if (!this.known.has(`${e.host}\u0000${e.pid}`)) return 'unknownRate';
    return this.rate !== null && isSampled(e.requestId, this.rate) ? 'sampled' : 'leftOut';
  }
}

/** How a uniform sample was drawn from a log. */
export interface UniformSampleCounts {
  /** The sample's rate: the lowest rate of the processes (host, pid) that logged; null without any. */
  rate: number | null;
  /** Entries in the sample. */
  sampled: number;
  /** Entries left out: errors, keep-rule entries and (at a process's higher rate) successes the sample does not pick. */
  leftOut: number;
  /** Entries of processes with no sampled success, whose rate is unknown (rate 0, or no success). */
  unknownRate: number;
}

/** What {@link uniformSample} found: the entries of the sample and how it was drawn. */
export interface UniformSample<E> extends UniformSampleCounts {
  /** The entries whose request the sampler picked at `rate`, in their original order. */
  entries: E[];
}

/**
 * The logged entries that form a uniform sample of all requests. A log keeps every error but only
 * a sample of successes, so statistics over all of its entries describe the failures more than
 * the traffic. The sampler's choice depends on the request id alone (`sampleUnit(id) < rate`),
 * not on the outcome, so the entries whose id passes that test are the requests it picked:
 * successes and failures in their true proportion. A process's rate is `1 / samplingWeight` of its
 * sampled successes; with several, the lowest is used, since an id kept at a rate is kept at every
 * higher one: every process then contributes at the same rate. Successes dropped by a full queue
 * (gap markers) are missing from any sample. `scanUniformSample` does the same over a folder
 * without holding its entries.
 */
export function uniformSample<E extends Sampled>(entries: readonly E[]): UniformSample<E> {
  const rate = new SampleRate();
  for (const e of entries) rate.see(e);
  const out: UniformSample<E> = { entries: [], rate: rate.rate, sampled: 0, leftOut: 0, unknownRate: 0 };
  for (const e of entries) {
    const place = rate.place(e);
    out[place]++;
    if (place === 'sampled') out.entries.push(e);
  }
  return out;
}

/**
 * {@link uniformSample} over a log folder, streaming: a first pass learns the rate, a second calls
 * `onSampled` with each entry of the sample, in file order (no second pass when nothing was
 * sampled). Memory stays at one file chunk.
 * @throws LoggerError `NO_SEGMENTS` when `dir` does not exist.
 */
export async function scanUniformSample(
  dir: string,
  onSampled: (entry: PredictionLogEntry) => void,
): Promise<UniformSampleCounts & LogScan & { entries: number }> {
  const rate = new SampleRate();
  let entries = 0;
  const first = await scanLogLines(dir, (line) => {
    if (line.kind !== 'prediction') return;
    entries++;
    rate.see(line);
  });
  // No sampled success: every entry is of unknown rate, and a second pass would find nothing.
  if (rate.rate === null)
    return { rate: null, sampled: 0, leftOut: 0, unknownRate: entries, ...first, entries };
  const counts: UniformSampleCounts = { rate: rate.rate, sampled: 0, leftOut: 0, unknownRate: 0 };
  const scan = await scanLogLines(dir, (line) => {
    if (line.kind !== 'prediction') return;
    const place = rate.place(line);
    counts[place]++;
    if (place === 'sampled') onSampled(line);
  });
  return { ...counts, ...scan, entries };
}
