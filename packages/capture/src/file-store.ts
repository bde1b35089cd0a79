import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, mkdir, open, readdir, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { decode } from '@prodprobe/sanitize';
import { CaptureError } from './errors.js';
import { type CaptureRecord, parseCaptureRecord } from './record.js';
import { encodeCaptureRecord } from './record-codec.js';
import { byTime, type CaptureFilter, type CaptureStore, compileFilter } from './store.js';

/** Retention and reporting options of `createFileCaptureStore`. */
export interface FileCaptureStoreOptions {
  /** Keep at most this many records; the oldest are deleted first. @default 10_000 */
  maxRecords?: number;
  /** Keep at most this many bytes of records; the oldest are deleted first. @default 104_857_600 (100 MiB) */
  maxBytes?: number;
  /**
   * Called for each file that is skipped while reading: a corrupt or truncated record, or anything
   * else in the folder (another file, a folder, a symbolic link, a FIFO).
   */
  onWarning?: (warning: SkippedFile) => void;
  /**
   * Flush each record to the disk (fsync) before it is renamed into place, so a power cut cannot
   * leave an empty record. Captures are rare, so the cost is small; turn it off on a disk where
   * fsync is slow and a storm of failures would fill the capture queue.
   * @default true
   */
  fsync?: boolean;
}

/** A file of the store's folder that could not be read as a `CaptureRecord`. */
export interface SkippedFile {
  /** File name inside the store directory. */
  file: string;
  /** Why it was skipped (JSON error or the fields that failed validation). */
  reason: string;
}

/** Counters of one file store since it was created. */
export interface FileCaptureStoreStats {
  /** Records written. */
  written: number;
  /** Record files deleted by retention. */
  deleted: number;
  /** Files skipped while reading (corrupt, truncated, or not a record file). */
  skipped: number;
}

/** A `CaptureStore` over one directory with one JSON file per record. */
export interface FileCaptureStore extends CaptureStore {
  /** The directory the records live in. */
  readonly dir: string;
  /** Like `list`, and also returns the files it had to skip. */
  scan(filter?: CaptureFilter): Promise<{ records: CaptureRecord[]; skipped: SkippedFile[] }>;
  /**
   * Lists the folder and deletes the oldest records until both limits hold. After each write the
   * store does the same from what it knows (the last listing plus its own writes since), and lists
   * the folder again every max(100, maxRecords / 10) writes, so records other processes add to a
   * shared folder are counted from then on.
   */
  enforceRetention(): Promise<{ deleted: number }>;
  /** Counters since creation. */
  stats(): FileCaptureStoreStats;
}

const RECORD_SUFFIX = '.json';
const TEMP_PREFIX = '.tmp-';
/** A temp file older than this belongs to a writer that died between write and rename. */
const STALE_TEMP_MS = 10 * 60_000;
const READ_CONCURRENCY = 16;
const ID_RE = /^[A-Za-z0-9_-]{1,128}$/;

function positiveInt(value: number | undefined, fallback: number, field: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1) {
    throw new CaptureError(
      'INVALID_OPTIONS',
      `createFileCaptureStore: ${field}: expected a positive integer, got ${value}`,
    );
  }
  return value;
}

function errnoCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : undefined;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Control characters escaped (`\u001b`), so a reason quoting a file's bytes (a JSON error shows
 * its first characters) cannot move the cursor or color the terminal it is printed on.
 */
function printable(text: string): string {
  return text.replace(
    /[\u0000-\u001f\u007f-\u009f]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** Opens a record file for reading: never through a symbolic link, never blocking on a FIFO. */
const READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/** What a directory entry that is not a regular file is, for the reason it is skipped. */
function kindOf(s: { isDirectory(): boolean; isFIFO(): boolean; isSocket(): boolean }): string {
  if (s.isDirectory()) return 'a directory';
  if (s.isFIFO()) return 'a FIFO';
  if (s.isSocket()) return 'a socket';
  return 'a device';
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/**
 * A capture store writing one file per record (`<id>.json`, lossless encoding of
 * `@prodprobe/sanitize`) into `dir`, created on first write. Writes are atomic (temp file, fsync,
 * rename), so a reader never sees half a record and a power cut leaves none empty; retention
 * deletes the oldest records beyond `maxRecords`/`maxBytes`; corrupt or truncated files, and
 * anything else in the folder (other files, folders, symbolic links, which are never followed),
 * are skipped, reported and counted.
 * @throws CaptureError `INVALID_OPTIONS` for a non-positive limit.
 */
export function createFileCaptureStore(dir: string, options: FileCaptureStoreOptions = {}): FileCaptureStore {
  const maxRecords = positiveInt(options.maxRecords, 10_000, 'maxRecords');
  const maxBytes = positiveInt(options.maxBytes, 100 * 1024 * 1024, 'maxBytes');
  const fsync = options.fsync ?? true;
  const counters: FileCaptureStoreStats = { written: 0, deleted: 0, skipped: 0 };
  let dirReady: Promise<unknown> | undefined;
  let retention: Promise<{ deleted: number }> | undefined;
  let retentionAgain = false;

  const ensureDir = () => {
    dirReady ??= mkdir(dir, { recursive: true }).catch((error: unknown) => {
      dirReady = undefined;
      throw new CaptureError('STORE_IO', `cannot create capture directory ${dir}: ${message(error)}`, {
        cause: error,
      });
    });
    return dirReady;
  };

  const readNames = async (): Promise<string[]> => {
    try {
      return await readdir(dir);
    } catch (error) {
      const code = errnoCode(error);
      if (code === 'ENOENT') {
        throw new CaptureError('DIR_NOT_FOUND', `capture directory ${dir} does not exist`, { cause: error });
      }
      if (code === 'ENOTDIR') {
        throw new CaptureError('DIR_NOT_FOUND', `capture directory ${dir} is not a directory`, {
          cause: error,
        });
      }
      throw new CaptureError('STORE_IO', `cannot read capture directory ${dir}: ${message(error)}`, {
        cause: error,
      });
    }
  };

  // What the last full pass found (oldest first) plus the records written since, so retention after
  // a write deletes from memory instead of listing the folder and stat-ing every file again (that
  // cost 2-3 ms of CPU per write with a full store of 5,000 records). Files other writers add (a
  // folder shared by processes) are seen at the next full pass, every `rescanEvery` writes.
  type Known = { name: string; size: number; mtimeMs: number };
  let known: Known[] | undefined;
  let knownBytes = 0;
  let writesSinceScan = 0;
  const rescanEvery = Math.max(100, Math.ceil(maxRecords / 10));

  const unlinkOldest = async (files: Known[]): Promise<number> => {
    let deleted = 0;
    while (files.length > 0 && (files.length > maxRecords || knownBytes > maxBytes)) {
      const f = files[0]!;
      try {
        await unlink(join(dir, f.name));
        deleted++;
      } catch (error) {
        if (errnoCode(error) !== 'ENOENT') throw error;
      }
      files.shift();
      knownBytes -= f.size;
    }
    counters.deleted += deleted;
    return deleted;
  };

  const runRetention = async (full: boolean): Promise<{ deleted: number }> => {
    if (!full && known !== undefined && writesSinceScan < rescanEvery) {
      return { deleted: await unlinkOldest(known) };
    }
    known = undefined;
    writesSinceScan = 0;
    const names = await readNames();
    const now = Date.now();
    const files = (
      await mapLimit(names, READ_CONCURRENCY, async (name) => {
        const isTemp = name.startsWith(TEMP_PREFIX);
        if (!isTemp && !name.endsWith(RECORD_SUFFIX)) return undefined;
        try {
          // Only regular files are records: a link or a folder named like one is neither counted nor deleted.
          const s = await lstat(join(dir, name));
          if (!s.isFile()) return undefined;
          if (isTemp) {
            if (now - s.mtimeMs > STALE_TEMP_MS) await unlink(join(dir, name)).catch(() => undefined);
            return undefined;
          }
          return { name, size: s.size, mtimeMs: s.mtimeMs };
        } catch {
          return undefined; // deleted meanwhile by another writer's retention
        }
      })
    ).filter((f): f is Known => f !== undefined);
    files.sort((a, b) => a.mtimeMs - b.mtimeMs || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    knownBytes = files.reduce((sum, f) => sum + f.size, 0);
    // Known before the deletes, so writes that finish while they run are counted too.
    known = files;
    return { deleted: await unlinkOldest(files) };
  };

  // Concurrent writes coalesce into one running pass plus at most one more after it. After a write
  // the pass works from what the store knows (see `known`); asked for by the caller, it is a full one.
  let fullAgain = false;
  const enforceRetention = (full: boolean): Promise<{ deleted: number }> => {
    if (retention) {
      retentionAgain = true;
      fullAgain ||= full;
      return retention;
    }
    retention = (async () => {
      let deleted = 0;
      let asFull = full;
      try {
        do {
          retentionAgain = false;
          deleted += (await runRetention(asFull)).deleted;
          asFull = fullAgain;
          fullAgain = false;
        } while (retentionAgain);
      } finally {
        retention = undefined;
      }
      return { deleted };
    })();
    return retention;
  };

  const readRecord = async (name: string): Promise<CaptureRecord | SkippedFile | undefined> => {
    let text: string;
    try {
      // The store writes regular files only: a symbolic link (to /etc/passwd, to /dev/zero) is
      // not followed, and a FIFO or a directory named like a record is not read.
      const handle = await open(join(dir, name), READ_FLAGS);
      try {
        const s = await handle.stat();
        if (!s.isFile()) return { file: name, reason: `${kindOf(s)}, not a record file` };
        text = await handle.readFile('utf8');
      } finally {
        await handle.close();
      }
    } catch (error) {
      const code = errnoCode(error);
      if (code === 'ENOENT') return undefined; // removed by retention while listing
      if (code === 'ELOOP')
        return { file: name, reason: 'a symbolic link, not a record file (links are not followed)' };
      return { file: name, reason: printable(`unreadable: ${message(error)}`) };
    }
    try {
      const record = parseCaptureRecord(decode(text), `capture record ${name}`);
      if (`${record.id}${RECORD_SUFFIX}` !== name) {
        return { file: name, reason: `record id ${record.id} does not match its file name` };
      }
      return record;
    } catch (error) {
      const truncated = text.length === 0 || !text.endsWith('\n') ? ' (file looks truncated)' : '';
      return { file: name, reason: printable(`${message(error)}${truncated}`) };
    }
  };

  const skip = (skipped: SkippedFile) => {
    counters.skipped++;
    options.onWarning?.(skipped);
  };

  const scan = async (filter?: CaptureFilter) => {
    const match = compileFilter(filter);
    // Hidden files are left alone: the store's temp files (writes in progress, or a dead writer's,
    // removed by retention) and the likes of .DS_Store or .gitkeep. Anything else is named.
    const names = (await readNames()).filter((n) => !n.startsWith('.'));
    const results = await mapLimit(names, READ_CONCURRENCY, async (name) =>
      name.endsWith(RECORD_SUFFIX)
        ? readRecord(name)
        : { file: name, reason: `not a capture record file (records are named <id>${RECORD_SUFFIX})` },
    );
    const records: CaptureRecord[] = [];
    const skipped: SkippedFile[] = [];
    for (const r of results) {
      if (r === undefined) continue;
      if ('file' in r) {
        skipped.push(r);
        skip(r);
      } else if (match(r)) records.push(r);
    }
    return { records: records.sort(byTime), skipped };
  };

  return {
    dir,
    async write(record) {
      const text = `${encodeCaptureRecord(record)}\n`;
      await ensureDir();
      const finalPath = join(dir, `${record.id}${RECORD_SUFFIX}`);
      const tempPath = join(
        dir,
        `${TEMP_PREFIX}${record.id}-${process.pid}-${randomBytes(4).toString('hex')}`,
      );
      try {
        const file = await open(tempPath, 'wx');
        try {
          await file.writeFile(text);
          if (fsync) await file.sync();
        } finally {
          await file.close();
        }
        await rename(tempPath, finalPath);
      } catch (error) {
        await unlink(tempPath).catch(() => undefined);
        throw new CaptureError('STORE_IO', `cannot write capture record ${finalPath}: ${message(error)}`, {
          cause: error,
        });
      }
      counters.written++;
      writesSinceScan++;
      if (known !== undefined) {
        const size = Buffer.byteLength(text);
        known.push({ name: `${record.id}${RECORD_SUFFIX}`, size, mtimeMs: Date.now() });
        knownBytes += size;
      }
      await enforceRetention(false);
    },
    async list(filter) {
      return (await scan(filter)).records;
    },
    scan,
    async get(id) {
      if (!ID_RE.test(id)) {
        throw new CaptureError(
          'INVALID_OPTIONS',
          `capture id ${JSON.stringify(id)}: expected 1-128 characters of A-Z, a-z, 0-9, "_" or "-"`,
        );
      }
      const name = `${id}${RECORD_SUFFIX}`;
      const result = await readRecord(name);
      if (result === undefined) {
        await readNames(); // a missing directory is a clearer error than a missing record
        return undefined;
      }
      if ('file' in result) {
        skip(result);
        throw new CaptureError(
          'CORRUPT_RECORD',
          `capture record ${join(dir, name)} is corrupt: ${result.reason}`,
        );
      }
      return result;
    },
    enforceRetention: () => enforceRetention(true),
    stats: () => ({ ...counters }),
  };
}
