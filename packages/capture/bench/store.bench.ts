/**
 * What one capture costs the process once the file store is full: CPU per `write` when every write
 * makes retention delete the oldest record, at three store sizes, against the same writes each
 * followed by a full retention pass (list the folder, stat every file: what retention did after
 * every write before it kept what it knows in memory). Writes go in batches of 50 at once, as
 * withCapture hands over a storm of failures; fsync is off, so the figure is the process's work.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BenchOptions, type BenchRow, median, row, runMain } from '../../../bench/rows.js';
import { createFileCaptureStore } from '../src/index.js';
import { makeRecord } from '../test/helpers.js';

const BATCH = 50;

/** CPU time of the calling thread in ms (Linux: the scheduler's own ns count). */
const threadCpuMs = () => Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]) / 1e6;

/**
 * CPU ms per call of `fn` over `count` calls in batches of BATCH: on the event loop's thread (what a
 * service's requests compete with) and in the whole process (the file system's work on libuv's
 * threads included, which moves with the kernel's state from run to run).
 */
async function cpuPerCall(
  count: number,
  fn: (i: number) => Promise<unknown>,
): Promise<{ loop: number; all: number }> {
  const before = process.cpuUsage();
  const loopBefore = threadCpuMs();
  for (let i = 0; i < count; i += BATCH) {
    await Promise.all(Array.from({ length: Math.min(BATCH, count - i) }, (_, k) => fn(i + k)));
  }
  const used = process.cpuUsage(before);
  return { loop: (threadCpuMs() - loopBefore) / count, all: (used.user + used.system) / 1000 / count };
}

export async function bench({ quick }: BenchOptions): Promise<BenchRow[]> {
  const sizes = quick ? [200] : [1_000, 5_000, 20_000];
  const rounds = quick ? 1 : 3;
  const rows: BenchRow[] = [];
  for (const size of sizes) {
    const root = mkdtempSync(join(tmpdir(), 'pp-store-bench-'));
    try {
      const dir = join(root, 'captures');
      const store = createFileCaptureStore(dir, { maxRecords: size, fsync: false });
      const base = Date.UTC(2024, 0, 1);
      for (let i = 0; i < size; i += BATCH) {
        await Promise.all(
          Array.from({ length: BATCH }, (_, k) => store.write(makeRecord({ at: base + i + k }))),
        );
      }
      await store.write(makeRecord({ at: base + size })); // the store is full from here on
      const writes = quick ? 100 : 1_000;
      const ours: { loop: number; all: number }[] = [];
      const plain: { loop: number; all: number }[] = [];
      let at = base + size + 1;
      for (let r = 0; r < rounds; r++) {
        plain.push(
          await cpuPerCall(writes, async () => {
            await store.write(makeRecord({ at: at++ }));
            await store.enforceRetention();
          }),
        );
        const deletedBefore = store.stats().deleted;
        ours.push(await cpuPerCall(writes, () => store.write(makeRecord({ at: at++ }))));
        if (store.stats().deleted - deletedBefore !== writes)
          throw new Error(`retention deleted ${store.stats().deleted - deletedBefore} of ${writes}`);
      }
      const p = median(plain.map((c) => c.loop));
      const o = median(ours.map((c) => c.loop));
      const pAll = median(plain.map((c) => c.all));
      const oAll = median(ours.map((c) => c.all));
      console.log(
        `store of ${size.toLocaleString('en')} records, full: ${o.toFixed(3)} ms event-loop CPU per write, ${oAll.toFixed(3)} ms in all threads (with a full listing after each write: ${p.toFixed(3)} / ${pAll.toFixed(3)} ms)`,
      );
      rows.push(
        row({
          measure: 'capture: file store write with the store full (retention deletes one per write)',
          size: `${size.toLocaleString('en')} records`,
          unit: 'ms event-loop CPU/write',
          baselineName: 'the same writes, each followed by a full listing (retention before)',
          baseline: p,
          prodprobe: o,
          target: '— (context: a storm of failures)',
          ok: null,
          note: `all threads (file system included): ${oAll.toFixed(2)} ms vs ${pAll.toFixed(2)} ms; ${writes.toLocaleString('en')} writes in batches of ${BATCH} (concurrent passes coalesce), fsync off, median of ${rounds} alternating rounds; after a write, retention deletes from what the store knows and lists the folder again every max(100, maxRecords / 10) writes`,
        }),
      );
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }
  return rows;
}

await runMain(import.meta.url, bench);
