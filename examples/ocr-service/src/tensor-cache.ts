import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The layout of the tensors this release's preprocessing writes: bump it whenever preprocessing
 * changes what it produces. (The cache below records it on every entry, and reports it, but the
 * lookup does not compare it with the current one: that is the stale-cache bug.)
 */
export const TENSOR_FORMAT = 'v2';

/** One preprocessed tensor, as the cache stores it (JSON on disk, the parsed object in memory). */
export interface CacheEntry {
  /** The `TENSOR_FORMAT` of the release that wrote it. */
  version: string;
  /** When it was written (ISO 8601). */
  asOf: string;
  dims: number[];
  data: number[];
}

/** The key of an image: sha256 of its PNG bytes, so the same crop sent again hits. */
export function imageKey(png: Uint8Array): string {
  return createHash('sha256').update(png).digest('hex');
}

/** A two-tier tensor cache: up to `memoryEntries` in memory, everything in `dir` when given. */
export interface TensorCache {
  readonly enabled: boolean;
  get(key: string): CacheEntry | undefined;
  set(key: string, entry: CacheEntry): void;
}

/** Writes one entry where `createTensorCache({ dir })` reads it (also how an older release left its entries). */
export function writeCacheEntry(dir: string, key: string, entry: CacheEntry): void {
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, `.${key}.${process.pid}.tmp`);
  writeFileSync(tmp, JSON.stringify(entry));
  renameSync(tmp, join(dir, `${key}.json`));
}

export function createTensorCache(options: { dir?: string; memoryEntries: number }): TensorCache {
  const { dir, memoryEntries } = options;
  // Insertion order is recency order: a hit is moved to the end, the first key is evicted.
  const memory = new Map<string, CacheEntry>();
  const remember = (key: string, entry: CacheEntry) => {
    if (memoryEntries === 0) return;
    memory.delete(key);
    memory.set(key, entry);
    if (memory.size > memoryEntries) memory.delete(memory.keys().next().value!);
  };
  return {
    enabled: dir !== undefined || memoryEntries > 0,
    get(key) {
      const hit = memory.get(key);
      if (hit) {
        remember(key, hit);
        return hit;
      }
      if (!dir) return undefined;
      let text: string;
      try {
        text = readFileSync(join(dir, `${key}.json`), 'utf8');
      } catch {
        return undefined;
      }
      const entry = JSON.parse(text) as CacheEntry;
      remember(key, entry);
      return entry;
    },
    set(key, entry) {
      remember(key, entry);
      if (dir) writeCacheEntry(dir, key, entry);
    },
  };
}
