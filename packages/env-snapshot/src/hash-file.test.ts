import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hashFile } from './hash-file.js';

const dir = mkdtempSync(join(tmpdir(), 'hash-file-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('hashFile', () => {
  // Sizes around the chunk boundary exercise the double-buffered reads.
  for (const size of [0, 1, 1023, 1024, 1025, 4096, 10_000]) {
    it(`matches sha256 of the whole buffer (${size} bytes, 1 KiB chunks)`, async () => {
      const content = Buffer.from(Array.from({ length: size }, (_, i) => (i * 31 + 7) % 256));
      const file = join(dir, `f${size}`);
      writeFileSync(file, content);
      expect(await hashFile(file, { chunkBytes: 1024 })).toEqual({
        sha256: createHash('sha256').update(content).digest('hex'),
        sizeBytes: size,
      });
    });
  }

  it('stops when aborted', async () => {
    const file = join(dir, 'big');
    writeFileSync(file, Buffer.alloc(64 * 1024));
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    await expect(hashFile(file, { chunkBytes: 1024, signal: controller.signal })).rejects.toThrow('stop');
  });
});
