/**
 * The logger's queue of serialised lines, kept as UTF-8 bytes in one growing buffer (a slab)
 * instead of an array of strings. A line is encoded into the slab when it is logged, so its
 * string dies young (a cheap minor GC) rather than surviving until the next write (the queued
 * strings used to be most of the collector's work); a batch is the slab itself, handed to the
 * file as it is, with no conversion on the write path. Successes can still be evicted one by
 * one to make room for errors: an evicted line is marked and left out when the batch is taken.
 */

const SUCCESS = 0;
const ERROR = 1;
const EVICTED = 2;

const INITIAL_BYTES = 64 * 1024;
/** A slab larger than this is let go after a write rather than kept for the next batch. */
const MAX_SPARE_BYTES = 16 * 1024 * 1024;

/** Lines taken from the queue as one write. */
export interface Batch {
  /** The bytes to write: every line taken except the evicted ones, in order. */
  readonly data: Buffer;
  /** Lines taken, evicted ones included (each was counted when it was pushed). */
  readonly lineCount: number;
  /** Lines in `data`. */
  readonly kept: number;
  /** `[start, end)` byte ranges in `data` of the error lines, for a retry after a failed write. */
  readonly errorRanges: readonly number[];
  /** Successes in `data`. */
  readonly successes: number;
  /** The whole slab `data` is a view of, reused once the batch is written. */
  readonly slab: Buffer;
}

/**
 * Lines (each ends in `\n`: a JSON line holds no raw newline) that the first `bytes` of `data`
 * put on disk. A line cut just before its newline counts: it is the file's last line (the segment
 * is never appended to after a failed write) and every reader takes it, as a valid entry.
 */
export function completeLines(data: Uint8Array, bytes: number): number {
  if (bytes <= 0) return 0;
  let n = 0;
  for (let i = data.indexOf(0x0a); i !== -1 && i <= bytes; i = data.indexOf(0x0a, i + 1)) n++;
  return n;
}

export class LineQueue {
  private slab: Buffer = Buffer.allocUnsafe(INITIAL_BYTES);
  private spare: Buffer | undefined;
  private used = 0;
  /** End offset in the slab of each line pushed since the last take. */
  private ends: number[] = [];
  private kinds: number[] = [];
  private evictCursor = 0;
  private evictedCount = 0;
  /** Lines queued, evicted ones not included. */
  count = 0;
  /** Successes queued (the ones an error can evict). */
  successes = 0;
  /** UTF-8 bytes of the queued lines, evicted ones not included. */
  bytes = 0;

  /** Lines pushed since the last take, evicted ones included. */
  get pushedCount(): number {
    return this.ends.length;
  }

  /** Appends a line (a string ending in `\n`); returns its size in bytes. */
  push(line: string, error: boolean): number {
    // At most 3 bytes per UTF-16 code unit: the exact size is only needed near the end of the slab.
    if (this.used + line.length * 3 > this.slab.length) this.reserve(Buffer.byteLength(line));
    const n = this.slab.write(line, this.used);
    this.note(n, error);
    return n;
  }

  /** Appends a line already encoded as UTF-8 (ending in `\n`); returns its size in bytes. */
  pushBytes(line: Uint8Array, error: boolean): number {
    if (this.used + line.length > this.slab.length) this.reserve(line.length);
    this.slab.set(line, this.used);
    this.note(line.length, error);
    return line.length;
  }

  private note(n: number, error: boolean): void {
    this.used += n;
    this.ends.push(this.used);
    this.kinds.push(error ? ERROR : SUCCESS);
    this.count++;
    this.bytes += n;
    if (!error) this.successes++;
  }

  /** Evicts the oldest queued success; returns false when there is none. */
  evictOldestSuccess(): boolean {
    if (this.successes === 0) return false;
    const kinds = this.kinds;
    let i = this.evictCursor;
    while (i < kinds.length && kinds[i] !== SUCCESS) i++;
    this.evictCursor = i;
    if (i >= kinds.length) return false;
    kinds[i] = EVICTED;
    this.evictedCount++;
    this.count--;
    this.successes--;
    this.bytes -= this.lineLength(i);
    return true;
  }

  /** Takes everything queued as one batch; the queue starts again empty. */
  take(): Batch {
    const slab = this.slab;
    const ends = this.ends;
    const kinds = this.kinds;
    const lineCount = ends.length;
    let size = this.used;
    const errorRanges: number[] = [];
    let successes = 0;
    let kept = 0;
    if (this.evictedCount > 0) {
      // Close the gaps left by evicted lines, in place: the slab is no longer written to.
      size = 0;
      let start = 0;
      for (let i = 0; i < lineCount; i++) {
        const end = ends[i] as number;
        if (kinds[i] !== EVICTED) {
          if (start !== size) slab.copyWithin(size, start, end);
          if (kinds[i] === ERROR) errorRanges.push(size, size + end - start);
          else successes++;
          size += end - start;
          kept++;
        }
        start = end;
      }
    } else {
      let start = 0;
      for (let i = 0; i < lineCount; i++) {
        const end = ends[i] as number;
        if (kinds[i] === ERROR) errorRanges.push(start, end);
        else successes++;
        start = end;
      }
      kept = lineCount;
    }
    const spare = this.spare;
    this.spare = undefined;
    // Sized for twice this batch: under steady load the next one fits without growing (copying).
    this.slab = spare ?? Buffer.allocUnsafe(Math.min(MAX_SPARE_BYTES, Math.max(INITIAL_BYTES, 2 * size)));
    this.used = 0;
    this.ends = [];
    this.kinds = [];
    this.evictCursor = 0;
    this.evictedCount = 0;
    this.count = 0;
    this.successes = 0;
    this.bytes = 0;
    return { data: slab.subarray(0, size), lineCount, kept, errorRanges, successes, slab };
  }

  /**
   * Gives back the slab of a batch once it is written (or copied), for the next batch; a slab far
   * larger than the batch it held (a burst is over) is let go, so idle memory shrinks back.
   */
  release(batch: Batch): void {
    const slab = batch.slab;
    if (
      this.spare === undefined &&
      slab.length <= MAX_SPARE_BYTES &&
      slab.length <= 4 * Math.max(INITIAL_BYTES, batch.data.length)
    ) {
      this.spare = slab;
    }
  }

  /**
   * Puts the error lines of a failed batch back at the front of the queue, before anything queued
   * since; with `reached`, only those the first `reached` bytes of `batch.data` (the part of a
   * short write that is on disk) did not put on disk, as `completeLines` counts them.
   */
  requeueErrors(batch: Batch, reached = 0): number {
    let ranges = batch.errorRanges;
    if (reached > 0) {
      let first = 0;
      // A line [start, end) is on disk once its bytes before the newline are: end - 1 <= reached.
      while (first < ranges.length && (ranges[first + 1] as number) <= reached + 1) first += 2;
      ranges = ranges.slice(first);
    }
    if (ranges.length === 0) return 0;
    const oldSlab = this.slab;
    const oldUsed = this.used;
    const oldEnds = this.ends;
    const oldKinds = this.kinds;
    let errorBytes = 0;
    for (let i = 0; i < ranges.length; i += 2)
      errorBytes += (ranges[i + 1] as number) - (ranges[i] as number);
    const slab = Buffer.allocUnsafe(Math.max(INITIAL_BYTES, 2 * (errorBytes + oldUsed)));
    const ends: number[] = [];
    const kinds: number[] = [];
    let at = 0;
    for (let i = 0; i < ranges.length; i += 2) {
      at += batch.data.copy(slab, at, ranges[i] as number, ranges[i + 1] as number);
      ends.push(at);
      kinds.push(ERROR);
    }
    oldSlab.copy(slab, at, 0, oldUsed);
    for (let i = 0; i < oldEnds.length; i++) {
      ends.push(at + (oldEnds[i] as number));
      kinds.push(oldKinds[i] as number);
    }
    this.slab = slab;
    this.used = at + oldUsed;
    this.ends = ends;
    this.kinds = kinds;
    this.evictCursor = 0;
    const lines = ranges.length / 2;
    this.count += lines;
    this.bytes += errorBytes;
    return lines;
  }

  private lineLength(i: number): number {
    return (this.ends[i] as number) - (i === 0 ? 0 : (this.ends[i - 1] as number));
  }

  /** Makes room for `bytes` more: a new slab twice as large, or just large enough. */
  private reserve(bytes: number): void {
    const need = this.used + bytes;
    if (need <= this.slab.length) return;
    const next = Buffer.allocUnsafe(Math.max(need, 2 * this.slab.length));
    this.slab.copy(next, 0, 0, this.used);
    this.slab = next;
  }
}
