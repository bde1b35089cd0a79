import { createReadStream } from 'node:fs';
import { type FileHandle, open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { decode } from '@prodprobe/sanitize';
import { LoggerError } from './errors.js';
import { type GapMarker, type LogLine, LogLineSchema, type PredictionLogEntry } from './schema.js';

/**
 * Every `*.jsonl` segment under `dir` (any depth), sorted by path.
 * @throws LoggerError `NO_SEGMENTS` when `dir` does not exist or is not a folder.
 */
export async function listSegments(dir: string): Promise<string[]> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(dir);
  } catch (cause) {
    throw new LoggerError('NO_SEGMENTS', `log folder ${dir} does not exist`, { cause });
  }
  if (!info.isDirectory()) throw new LoggerError('NO_SEGMENTS', `log folder ${dir} is not a folder`);
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && e.name.endsWith('.jsonl'))
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

/** What `scanSegments` found. */
export interface SegmentScan {
  files: number;
  bytes: number;
  /**
   * Segments whose last line has no newline and is not a valid line: cut by a crash or a full disk
   * mid-write; readers skip that line. (One cut just before its newline is whole: readers take it.)
   */
  tornLines: number;
  /** Paths of those segments. */
  tornFiles: string[];
}

/** The bytes after the last newline of a file of `size` bytes (read backwards, 64 KiB at a time). */
async function unterminatedTail(handle: FileHandle, size: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for (let end = size; end > 0; ) {
    const start = Math.max(0, end - TAIL_CHUNK);
    const chunk = Buffer.alloc(end - start);
    await handle.read(chunk, 0, chunk.length, start);
    const nl = chunk.lastIndexOf(0x0a);
    chunks.unshift(nl === -1 ? chunk : chunk.subarray(nl + 1));
    if (nl !== -1) break;
    end = start;
  }
  return Buffer.concat(chunks);
}
const TAIL_CHUNK = 64 * 1024;

/**
 * Counts segments and torn last lines without reading whole files (one byte per file, and the
 * last line of a file that does not end in a newline).
 * @throws LoggerError `NO_SEGMENTS` when `dir` does not exist.
 */
export async function scanSegments(dir: string): Promise<SegmentScan> {
  const files = await listSegments(dir);
  const scan: SegmentScan = { files: files.length, bytes: 0, tornLines: 0, tornFiles: [] };
  const last = Buffer.alloc(1);
  for (const file of files) {
    const handle = await open(file, 'r');
    try {
      const { size } = await handle.stat();
      scan.bytes += size;
      if (size === 0) continue;
      await handle.read(last, 0, 1, size - 1);
      if (last[0] === 0x0a) continue;
      if (parseLine((await unterminatedTail(handle, size)).toString('utf8')) === undefined) {
        scan.tornLines++;
        scan.tornFiles.push(file);
      }
    } finally {
      await handle.close();
    }
  }
  return scan;
}

/** One segment line, decoded losslessly and validated; undefined when it is not a log line. */
function parseLine(line: string): LogLine | undefined {
  try {
    const parsed = LogLineSchema.safeParse(decode(line));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** Line counts of a pass over a log folder. */
export interface LogScan {
  files: number;
  /** Last lines cut by a crash (no trailing newline, not a valid entry): skipped. */
  tornLines: number;
  /** Complete lines that are not valid entries (corruption, another writer): skipped. */
  invalidLines: number;
}

/** Everything `readPredictionLogs` read. */
export interface PredictionLogs extends LogScan {
  entries: PredictionLogEntry[];
  gaps: GapMarker[];
}

/**
 * Calls `onLine` with every valid line (prediction entries and gap markers) of every segment under
 * `dir`, in file order, reading each file as a stream: memory stays at one chunk, whatever the
 * folder's size. Torn and invalid lines are skipped and counted.
 * @throws LoggerError `NO_SEGMENTS` when `dir` does not exist.
 */
export async function scanLogLines(dir: string, onLine: (line: LogLine) => void): Promise<LogScan> {
  const files = await listSegments(dir);
  const out: LogScan = { files: files.length, tornLines: 0, invalidLines: 0 };
  const take = (text: string, unterminated: boolean) => {
    if (text === '') return;
    const line = parseLine(text);
    if (line !== undefined) onLine(line);
    else if (unterminated) out.tornLines++;
    else out.invalidLines++;
  };
  for (const file of files) {
    let rest = '';
    for await (const chunk of createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 20 })) {
      const text = rest + (chunk as string);
      let start = 0;
      for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
        take(text.slice(start, nl), false);
        start = nl + 1;
      }
      rest = text.slice(start);
    }
    take(rest, true);
  }
  return out;
}

/**
 * Reads every segment under `dir` in JavaScript (no DuckDB) into memory: decodes each line with
 * the lossless codec and validates it, skipping and counting torn and invalid lines. For small
 * folders and tests; `scanLogLines` streams, and `@prodprobe/logger/query` answers SQL over any size.
 * @throws LoggerError `NO_SEGMENTS` when `dir` does not exist.
 */
export async function readPredictionLogs(dir: string): Promise<PredictionLogs> {
  const entries: PredictionLogEntry[] = [];
  const gaps: GapMarker[] = [];
  const scan = await scanLogLines(dir, (line) => {
    if (line.kind === 'gap') gaps.push(line);
    else entries.push(line);
  });
  return { entries, gaps, ...scan };
}
