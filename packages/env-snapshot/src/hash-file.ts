import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';

/** Options for {@link hashFile}. */
export interface HashFileOptions {
  /** Bytes read per step; two buffers of this size are the only memory used. @default 4 MiB */
  chunkBytes?: number;
  /** Aborting stops the read between chunks (the promise rejects with the abort reason). */
  signal?: AbortSignal;
}

/**
 * Streams a file through sha256 with constant memory. Reads are double-buffered: the next chunk
 * is read (on the libuv thread pool) while the current one is hashed, so disk and CPU overlap.
 */
export async function hashFile(
  path: string,
  options: HashFileOptions = {},
): Promise<{ sha256: string; sizeBytes: number }> {
  const chunk = options.chunkBytes ?? 4 * 1024 * 1024;
  const handle = await open(path, 'r');
  let pending: Promise<{ bytesRead: number }> | undefined;
  try {
    const hash = createHash('sha256');
    let buffers = [Buffer.allocUnsafe(chunk), Buffer.allocUnsafe(chunk)] as const;
    let size = 0;
    pending = handle.read(buffers[0], 0, chunk, null);
    for (;;) {
      const { bytesRead } = await pending;
      if (bytesRead === 0) break;
      options.signal?.throwIfAborted();
      const current = buffers[0];
      pending = handle.read(buffers[1], 0, chunk, null);
      hash.update(bytesRead === chunk ? current : current.subarray(0, bytesRead));
      size += bytesRead;
      buffers = [buffers[1], buffers[0]];
    }
    return { sha256: hash.digest('hex'), sizeBytes: size };
  } finally {
    // Never leave a read in flight on a closing handle.
    await pending?.catch(() => undefined);
    await handle.close();
  }
}
