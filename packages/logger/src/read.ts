import { open, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { decode } from '@prodprobe/sanitize';
import { LoggerError } from './errors.js';
import { type GapMarker, LogLineSchema, type PredictionLogEntry } from './schema.js';

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
  /** Segments whose last line has no newline: cut by a crash mid-write; readers skip that line. */
  tornLines: number;
  /** Paths of those segments. */
  tornFiles: string[];
}

/**
 * Counts segments and torn last lines without reading whole files (one byte per file).
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
      if (last[0] !== 0x0a) {
        scan.tornLines++;
        scan.tornFiles.push(file);
      }
    } finally {
      await handle.close();
    }
  }
  return scan;
}

/** Everything `readPredictionLogs` read. */
export interface PredictionLogs {
  entries: PredictionLogEntry[];
  gaps: GapMarker[];
  files: number;
  /** Last lines cut by a crash (no trailing newline, not a valid entry): skipped. */
  tornLines: number;
  /** Complete lines that are not valid entries (corruption, another writer): skipped. */
  invalidLines: number;
}

/**
 * Reads every segment under `dir` in JavaScript (no DuckDB): decodes each line with the lossless
 * codec and validates it, skipping and counting torn and invalid lines. For small folders and tests;
 * use `@prodprobe/logger/query` for anything large.
 * @throws LoggerError `NO_SEGMENTS` when `dir` does not exist.
 */
export async function readPredictionLogs(dir: string): Promise<PredictionLogs> {
  const files = await listSegments(dir);
  const out: PredictionLogs = { entries: [], gaps: [], files: files.length, tornLines: 0, invalidLines: 0 };
  for (const file of files) {
    const text = await readFile(file, 'utf8');
    const parts = text.split('\n');
    const lastIndex = parts.length - 1;
    for (let i = 0; i < parts.length; i++) {
      const line = parts[i] as string;
      if (line === '') continue;
      let parsed: ReturnType<typeof LogLineSchema.safeParse> | undefined;
      try {
        parsed = LogLineSchema.safeParse(decode(line));
      } catch {
        parsed = undefined;
      }
      if (parsed?.success) {
        if (parsed.data.kind === 'gap') out.gaps.push(parsed.data);
        else out.entries.push(parsed.data);
      } else if (i === lastIndex) {
        out.tornLines++;
      } else {
        out.invalidLines++;
      }
    }
  }
  return out;
}
