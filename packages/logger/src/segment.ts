import { mkdir, open } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** Where a segment's bytes go. `write` appends one batch; a failed write rotates to a new segment. */
export interface SegmentWriter {
  /** Appends `data` (whole lines) to the segment. */
  write(data: string): Promise<void>;
  /**
   * Appends `data` (whole lines, UTF-8). Optional: the logger queues lines as bytes and uses this
   * when present, else decodes the batch and calls `write`.
   */
  writeBytes?(data: Uint8Array): Promise<void>;
  close(): Promise<void>;
}

/**
 * Opens a new segment at `path` (never an existing file: `EEXIST` makes the logger try the next
 * sequence number). Replaceable for tests and for sinks other than the local disk.
 */
export type OpenSegment = (path: string) => Promise<SegmentWriter>;

/**
 * A batch write that failed after `bytesWritten` of its bytes reached the file (0: none did), as
 * the default writer reports it: a disk that fills up mid-batch takes a short write, then refuses
 * the rest. The complete lines among those bytes are on disk; `cause` is the system error.
 */
export class PartialWriteError extends Error {
  override readonly name = 'PartialWriteError';

  constructor(
    readonly bytesWritten: number,
    options: { cause: unknown },
  ) {
    super(`write failed after ${bytesWritten} bytes`, options);
  }
}

/** Failures where a write left nothing in the file and the same file can take the next batch. */
const NO_SPACE = new Set(['ENOSPC', 'EDQUOT']);

/**
 * The default: create the partition folder, open the file with `ax` (append, fail if it exists).
 * A batch cut short (a disk that filled up, a file size limit) is truncated back to its last whole
 * line, so a full disk leaves no torn line behind; if the truncate fails too, the torn bytes stay
 * and readers skip them.
 */
export const openFileSegment: OpenSegment = async (path) => {
  await mkdir(dirname(path), { recursive: true });
  const handle = await open(path, 'ax');
  // Bytes in the file: the logger is its only writer ('ax' created it).
  let size = 0;
  return {
    // FileHandle.appendFile loops until every byte is written, on the libuv thread pool.
    write: (data) => handle.appendFile(data, 'utf8'),
    writeBytes: async (data) => {
      // One write(2) per batch as a rule (appendFile would split it into 512 KiB chunks, each
      // waiting for a turn of the event loop); loop on a short write.
      let offset = 0;
      try {
        while (offset < data.byteLength) {
          const { bytesWritten } = await handle.write(data, offset, data.byteLength - offset);
          if (bytesWritten <= 0) throw new Error(`write to ${path} made no progress`);
          offset += bytesWritten;
        }
      } catch (cause) {
        const whole = offset === 0 ? 0 : data.lastIndexOf(0x0a, offset - 1) + 1;
        if (whole < offset) {
          // Shrinking a file takes no free space: this works on a full disk.
          try {
            await handle.truncate(size + whole);
            offset = whole;
          } catch {}
        }
        size += offset;
        // The logger keeps what reached the file and retries only the rest.
        throw new PartialWriteError(offset, { cause });
      }
      size += offset;
    },
    close: () => handle.close(),
  };
};

/** `dt=YYYY-MM-DD/hour=HH` (UTC) of a time in ms. */
export function partitionOf(timeMs: number): string {
  const iso = new Date(timeMs).toISOString();
  return `dt=${iso.slice(0, 10)}/hour=${iso.slice(11, 13)}`;
}

/** Host names go into file names: keep `[A-Za-z0-9._-]` and turn everything else into `_`. */
export function safeHost(host: string): string {
  const cleaned = host.replace(/[^A-Za-z0-9._-]/g, '_');
  return cleaned === '' ? 'host' : cleaned;
}

interface Current {
  writer: SegmentWriter;
  path: string;
  partition: string;
  openedAt: number;
  bytes: number;
}

/** Options of `SegmentSink`. */
export interface SegmentSinkOptions {
  dir: string;
  host: string;
  pid: number;
  maxBytes: number;
  maxAgeMs: number;
  openSegment: OpenSegment;
}

/**
 * Append-only JSONL segments `dir/dt=YYYY-MM-DD/hour=HH/<host>-<pid>-<seq>.jsonl`, rotated when
 * the hour changes, the segment is older than `maxAgeMs` or larger than `maxBytes`. One caller at
 * a time (the logger serialises its writes).
 */
export class SegmentSink {
  private current: Current | undefined;
  private seq = 0;
  /** Segments opened so far. */
  opened = 0;
  /** Bytes written so far. */
  bytesWritten = 0;

  constructor(private readonly options: SegmentSinkOptions) {}

  /** Path of the open segment, if any. */
  get currentPath(): string | undefined {
    return this.current?.path;
  }

  /** Appends whole lines (UTF-8), opening or rotating the segment first when needed. */
  async write(data: Uint8Array, nowMs: number): Promise<void> {
    const partition = partitionOf(nowMs);
    const cur = this.current;
    if (
      cur !== undefined &&
      (cur.partition !== partition ||
        nowMs - cur.openedAt >= this.options.maxAgeMs ||
        cur.bytes >= this.options.maxBytes)
    ) {
      await this.rotate();
    }
    const target = this.current ?? (await this.openNext(partition, nowMs));
    try {
      const writer = target.writer;
      if (writer.writeBytes !== undefined) await writer.writeBytes(data);
      else await writer.write(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8'));
    } catch (error) {
      const reached = error instanceof PartialWriteError ? error.bytesWritten : undefined;
      if (reached !== undefined) {
        target.bytes += reached;
        this.bytesWritten += reached;
      }
      // A full disk that took nothing of the batch: the same segment takes the next one (a new
      // segment per failed batch would leave an empty file per retry, thousands in an outage).
      const code = (error as { cause?: { code?: unknown } }).cause?.code;
      if (reached === 0 && typeof code === 'string' && NO_SPACE.has(code)) throw error;
      // A failed write may have left a torn line: never append after it; the next batch starts a new segment.
      await this.rotate().catch(() => undefined);
      throw error;
    }
    const bytes = data.byteLength;
    target.bytes += bytes;
    this.bytesWritten += bytes;
  }

  /** Closes the open segment; the next write opens a new one. */
  async rotate(): Promise<void> {
    const cur = this.current;
    this.current = undefined;
    if (cur !== undefined) await cur.writer.close();
  }

  private async openNext(partition: string, nowMs: number): Promise<Current> {
    const { dir, host, pid, openSegment } = this.options;
    for (let attempt = 0; ; attempt++) {
      const name = `${safeHost(host)}-${pid}-${String(this.seq).padStart(6, '0')}.jsonl`;
      const path = join(dir, partition, name);
      this.seq++;
      try {
        const writer = await openSegment(path);
        this.opened++;
        this.current = { writer, path, partition, openedAt: nowMs, bytes: 0 };
        return this.current;
      } catch (error) {
        // A restarted process can reuse a pid (pid 1 in containers): skip names already taken.
        if ((error as NodeJS.ErrnoException).code === 'EEXIST' && attempt < 100_000) continue;
        throw error;
      }
    }
  }
}
