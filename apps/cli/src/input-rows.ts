/**
 * Production inputs as drift profile rows, for the commands that profile them (`drift compare
 * <log folder>`, `diagnose`).
 */
import { scanUniformSample } from '@prodprobe/logger';

/** An input as a profile row: a plain object. Arrays and scalars (a tensor, a text) are not rows. */
export function inputRow(input: unknown): Record<string, unknown> | undefined {
  return typeof input === 'object' && input !== null && !Array.isArray(input)
    ? (input as Record<string, unknown>)
    : undefined;
}

/**
 * The uniform sample of a prediction log folder's requests (`scanUniformSample`, streamed): calls
 * `onRow` with the input of every sampled entry that is a row.
 */
export function scanSampledInputs(dir: string, onRow: (row: Record<string, unknown>) => void) {
  return scanUniformSample(dir, (entry) => {
    const row = inputRow(entry.input);
    if (row) onRow(row);
  });
}

/** A sample rate as the reports write it: 0.1 → "10%". */
export const ratePercent = (rate: number): string => `${+(rate * 100).toPrecision(3)}%`;
