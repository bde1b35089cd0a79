import { appendFileSync, closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (the suite lives in `<root>/faults`). */
export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
/** Where the rows of the table go while the suite runs (one JSON object per line). */
export const rowsFile = join(repoRoot, '.reports', 'faults', 'rows.jsonl');

/** One row of the fault table: a fault injected `cases` times, and what it cost. */
export interface FaultRow {
  /** The fault as a reader of the table says it: "logger: SIGKILL under load". */
  fault: string;
  /** How many times the fault was injected (kills, fuzz cases, files, corpus items). */
  cases: number;
  /** What was lost or got through where the promise says nothing may: 0 is a pass. */
  lost: number;
  /** The figure that says how close it came: "max 0 acknowledged entries lost, 3 torn lines skipped". */
  figure: string;
  /** The test file that checks it (filled in by `recordFault`). */
  test?: string;
}

/** True when the long variants run (`pnpm test:faults --long`, or FAULTS_LONG=1). */
export const long = process.env.FAULTS_LONG === '1';

/**
 * Adds a row to the table printed at the end of the run. Call it before the assertions, so a
 * failing promise still shows its figure.
 */
export function recordFault(row: FaultRow, testFile?: string): void {
  mkdirSync(dirname(rowsFile), { recursive: true });
  const test = testFile === undefined ? row.test : testFile.replace(`${repoRoot}/`, '');
  appendFileSync(rowsFile, `${JSON.stringify({ ...row, test })}\n`);
}

/**
 * Fills the file system of `dir` to the last byte with one file, `<dir>/filler` (writes of
 * 256 KiB, then smaller ones, until ENOSPC), and returns its path: unlink it to give the space back.
 */
export function fillDisk(dir: string): string {
  const path = join(dir, 'filler');
  const fd = openSync(path, 'w');
  try {
    for (const size of [256 * 1024, 4096, 512, 1]) {
      const chunk = Buffer.alloc(size, 0x66);
      for (;;) {
        try {
          writeSync(fd, chunk);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'ENOSPC') break;
          throw error;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
  return path;
}
