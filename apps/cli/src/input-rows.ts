/**
 * Production inputs as drift profile rows, for the commands that profile them (`drift compare
 * <log folder>`, `diagnose`).
 */
import { scanLogLines, scanUniformSample } from '@prodprobe/logger';

/** An input as a profile row: a plain object. Arrays and scalars (a tensor, a text) are not rows. */
function inputRow(input: unknown): Record<string, unknown> | undefined {
  return typeof input === 'object' && input !== null && !Array.isArray(input)
    ? (input as Record<string, unknown>)
    : undefined;
}

/** The captured inputs that are rows, in record order (a tensor or a text is left out). */
export function capturedRows(records: readonly { input: unknown }[]): Record<string, unknown>[] {
  const rows: Record<string, unknown>[] = [];
  for (const r of records) {
    const row = inputRow(r.input);
    if (row) rows.push(row);
  }
  return rows;
}

/** A sample rate as the reports write it: 0.1 → "10%". */
const ratePercent = (rate: number): string => `${+(rate * 100).toPrecision(3)}%`;

/** What {@link scanLoggedInputs} read, and what its rows stand for. */
export interface LoggedInputs {
  /** Prediction entries in the folder. */
  entries: number;
  /** Rows given to `onRow`. */
  rows: number;
  /** What the rows stand for, as the reports say it. */
  source: string;
}

/**
 * The inputs of a prediction log folder as rows, each with its entry's ISO timestamp (parsed only
 * by the callers that need the time), streamed. Every
 * error is logged but only a sample of successes, so all entries together describe the failures
 * (all with n = 0, say) more than the traffic: the rows are the uniform sample of requests
 * (`scanUniformSample`: the requests the sampler picked, failures in their true share). A log with
 * no sampled success (errors only, a sample rate of 0) has no such sample: then every entry's
 * input, and `source` says failures are over-represented.
 */
export async function scanLoggedInputs(
  dir: string,
  onRow: (row: Record<string, unknown>, timestamp: string) => void,
): Promise<LoggedInputs> {
  let rows = 0;
  const take = (entry: { input?: unknown; timestamp: string }) => {
    const row = inputRow(entry.input);
    if (row) {
      rows++;
      onRow(row, entry.timestamp);
    }
  };
  const scan = await scanUniformSample(dir, take);
  if (scan.rate !== null && rows > 0) {
    const left = scan.leftOut + scan.unknownRate;
    return {
      entries: scan.entries,
      rows,
      source: `the uniform ${ratePercent(scan.rate)} sample of requests, failures in their true share (${left} other logged entries left out)`,
    };
  }
  // No row reached onRow above: no rate means nothing was sampled, and a rate with no row means
  // no sampled input was a row.
  await scanLogLines(dir, (line) => {
    if (line.kind === 'prediction') take(line);
  });
  return {
    entries: scan.entries,
    rows,
    source:
      'every logged entry: no sampled successes to draw a uniform sample of requests from, so failures are over-represented',
  };
}
