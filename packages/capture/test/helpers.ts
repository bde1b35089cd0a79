import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inputHash } from '@prodprobe/sanitize';
import type { CaptureRecord } from '../src/record.js';
import { newCaptureId } from '../src/with-capture.js';

/** A valid record; `at` is the capture time in ms. */
export function makeRecord(overrides: Partial<CaptureRecord> & { at?: number } = {}): CaptureRecord {
  const { at = Date.UTC(2024, 0, 1), ...rest } = overrides;
  return {
    schemaVersion: 1,
    id: newCaptureId(at),
    requestId: `req-${Math.floor(at / 1000)}`,
    timestamp: new Date(at).toISOString(),
    modelVersion: 'm1',
    input: { amount: 12 },
    inputHash: inputHash({ amount: 12 }),
    failure: { kind: 'error', error: { name: 'TypeError', message: 'x is undefined' } },
    environment: { node: 'v20' },
    ...rest,
  };
}

/** A fresh temp directory and its cleanup. */
export function tempDir(prefix = 'capture-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
