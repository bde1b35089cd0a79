import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { makeRecord, tempDir } from '../test/helpers.js';
import { CaptureError } from './errors.js';
import { createFileCaptureStore, type SkippedFile } from './file-store.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});
function dir(): string {
  const t = tempDir();
  cleanups.push(t.cleanup);
  return join(t.dir, 'captures'); // created on first write
}

describe('createFileCaptureStore', () => {
  it('writes one lossless file per record and reads it back by id', async () => {
    const d = dir();
    const store = createFileCaptureStore(d);
    const record = makeRecord({
      input: { x: Number.NaN, y: Number.NEGATIVE_INFINITY, z: undefined, big: 2n ** 70n },
      failure: { kind: 'bad-output', reason: 'output is NaN', output: Number.NaN },
    });
    await store.write(record);
    expect(readdirSync(d)).toEqual([`${record.id}.json`]);
    const got = await store.get(record.id);
    expect(got).toEqual(record);
    expect(Number.isNaN((got!.input as { x: number }).x)).toBe(true);
    expect('z' in (got!.input as object)).toBe(true); // undefined vs missing survives
    expect(await store.get('no-such-id')).toBeUndefined();
    await expect(store.get('../etc/passwd')).rejects.toThrow(/capture id/);
  });

  it('flushes each record to the disk before renaming it into place, unless fsync is off', async () => {
    const d = dir();
    // The real FileHandle.sync, watched (it still runs): when it ran, the record must still be
    // under its temp name.
    const probe = await open(join(d, '..', 'probe'), 'w');
    const proto = Object.getPrototypeOf(probe) as { sync(): Promise<void> };
    await probe.close();
    const synced: string[][] = [];
    const realSync = proto.sync;
    const watched = vi.spyOn(proto, 'sync').mockImplementation(function (this: unknown) {
      synced.push(readdirSync(d));
      return realSync.call(this);
    });
    try {
      const record = makeRecord();
      await createFileCaptureStore(d).write(record);
      expect(synced).toHaveLength(1);
      expect(synced[0]!.some((name) => name.endsWith('.json'))).toBe(false); // not yet renamed
      expect(readdirSync(d)).toEqual([`${record.id}.json`]);
      await createFileCaptureStore(d, { fsync: false }).write(makeRecord({ at: Date.UTC(2024, 0, 2) }));
      expect(synced).toHaveLength(1);
      expect(readdirSync(d)).toHaveLength(2);
    } finally {
      watched.mockRestore();
    }
  });

  it('keeps every record and leaves no temp file under concurrent writers', async () => {
    const d = dir();
    const a = createFileCaptureStore(d);
    const b = createFileCaptureStore(d); // a second writer on the same directory, like a second process
    const records = Array.from({ length: 80 }, (_, i) => makeRecord({ at: Date.UTC(2024, 0, 1) + i * 1000 }));
    await Promise.all(records.map((r, i) => (i % 2 === 0 ? a : b).write(r)));
    const names = readdirSync(d);
    expect(names.filter((n) => n.startsWith('.tmp-'))).toEqual([]);
    expect(names).toHaveLength(80);
    const listed = await a.list();
    expect(listed.map((r) => r.id)).toEqual(records.map((r) => r.id)); // oldest first
    expect(a.stats().written + b.stats().written).toBe(80);
  });

  it('enforces maxRecords under concurrent writes, deleting the oldest first', async () => {
    const d = dir();
    const store = createFileCaptureStore(d, { maxRecords: 10 });
    const first = Array.from({ length: 10 }, (_, i) => makeRecord({ at: Date.UTC(2024, 0, 1) + i }));
    for (const r of first) await store.write(r);
    await new Promise((r) => setTimeout(r, 20)); // later mtimes for the second batch
    const second = Array.from({ length: 25 }, (_, i) => makeRecord({ at: Date.UTC(2024, 0, 2) + i }));
    await Promise.all(second.map((r) => store.write(r)));
    await store.enforceRetention();
    const kept = await store.list();
    expect(kept).toHaveLength(10);
    const firstIds = new Set(first.map((r) => r.id));
    expect(kept.some((r) => firstIds.has(r.id))).toBe(false);
    expect(store.stats().deleted).toBe(25);
  });

  it('keeps retention after writes in memory; records another store adds are counted at the next listing', async () => {
    const d = dir();
    const a = createFileCaptureStore(d, { maxRecords: 5 });
    const at = (i: number) => makeRecord({ at: Date.UTC(2024, 0, 1) + i });
    for (let i = 0; i < 5; i++) await a.write(at(i));
    await new Promise((r) => setTimeout(r, 20)); // later mtimes for the other store's records
    const b = createFileCaptureStore(d);
    const others = [at(100), at(101), at(102)];
    for (const r of others) await b.write(r);
    await a.write(at(6));
    // a deleted its own oldest (it knows its 6 records), and has not listed the folder again.
    expect(readdirSync(d)).toHaveLength(8);
    expect(a.stats().deleted).toBe(1);
    // Asked for, retention lists the folder: the oldest by time go, whoever wrote them.
    await a.enforceRetention();
    const kept = (await a.list()).map((r) => r.id).sort();
    expect(kept).toHaveLength(5);
    expect(kept).toEqual(expect.arrayContaining(others.map((r) => r.id)));
    // Records deleted behind its back are not an error, and the count holds over many writes.
    for (const name of readdirSync(d).slice(0, 2)) spawnSync('rm', [join(d, name)]);
    const many = Array.from({ length: 130 }, (_, i) => at(200 + i));
    for (const r of many) await a.write(r);
    expect(readdirSync(d)).toHaveLength(5);
    expect((await a.list()).map((r) => r.id)).toEqual(many.slice(-5).map((r) => r.id));
  });

  it('enforces maxBytes', async () => {
    const d = dir();
    const one = createFileCaptureStore(d);
    const probe = makeRecord();
    await one.write(probe);
    const size = readFileSync(join(d, `${probe.id}.json`)).byteLength;
    const store = createFileCaptureStore(d, { maxBytes: size * 3 + 10 });
    for (let i = 1; i <= 5; i++) await store.write(makeRecord({ at: Date.UTC(2024, 0, 1) + i }));
    const kept = await store.list();
    expect(kept).toHaveLength(3);
    expect(kept.map((r) => r.id)).not.toContain(probe.id);
  });

  it('skips corrupted and truncated files with a warning, and counts them', async () => {
    const d = dir();
    const warnings: SkippedFile[] = [];
    const store = createFileCaptureStore(d, { onWarning: (w) => warnings.push(w) });
    const good = [makeRecord({ at: 1_700_000_000_000 }), makeRecord({ at: 1_700_000_001_000 })];
    for (const r of good) await store.write(r);
    const goodText = readFileSync(join(d, `${good[0]!.id}.json`), 'utf8');
    writeFileSync(join(d, 'truncated-1.json'), goodText.slice(0, Math.floor(goodText.length / 2)));
    writeFileSync(join(d, 'garbage-1.json'), '\u0000\u0001 not json');
    writeFileSync(join(d, 'empty-1.json'), '');
    writeFileSync(join(d, 'invalid-1.json'), '{"schemaVersion":1,"id":"invalid-1"}\n');
    writeFileSync(join(d, 'notes.txt'), 'not a record file: named, not read');
    writeFileSync(join(d, '.DS_Store'), 'hidden files are left alone');
    const { records, skipped } = await store.scan();
    expect(records.map((r) => r.id)).toEqual(good.map((r) => r.id));
    expect(skipped.map((s) => s.file).sort()).toEqual([
      'empty-1.json',
      'garbage-1.json',
      'invalid-1.json',
      'notes.txt',
      'truncated-1.json',
    ]);
    expect(skipped.find((s) => s.file === 'truncated-1.json')?.reason).toMatch(/truncated/);
    expect(skipped.find((s) => s.file === 'invalid-1.json')?.reason).toMatch(/requestId/);
    expect(skipped.find((s) => s.file === 'notes.txt')?.reason).toMatch(/not a capture record file/);
    // The control characters the JSON error quotes from the file are escaped, never printed raw.
    expect(skipped.find((s) => s.file === 'garbage-1.json')?.reason).toContain('\\u0000');
    expect(warnings).toHaveLength(5);
    expect(store.stats().skipped).toBe(5);
    await expect(store.get('truncated-1')).rejects.toMatchObject({ code: 'CORRUPT_RECORD' });
  });

  it('never follows a symbolic link, never blocks on a FIFO, names a folder named like a record (regression, faults/capture-store.test.ts)', async () => {
    const d = dir();
    const store = createFileCaptureStore(d);
    const good = makeRecord();
    await store.write(good);
    symlinkSync('/etc/passwd', join(d, 'passwd-1.json'));
    symlinkSync(join(d, 'nowhere'), join(d, 'dangling-1.json'));
    mkdirSync(join(d, 'folder-1.json'));
    const fifo = spawnSync('mkfifo', [join(d, 'fifo-1.json')]).status === 0;
    const { records, skipped } = await store.scan();
    expect(records.map((r) => r.id)).toEqual([good.id]);
    const reasons = Object.fromEntries(skipped.map((s) => [s.file, s.reason]));
    expect(reasons['passwd-1.json']).toMatch(/symbolic link, not a record file/);
    expect(reasons['dangling-1.json']).toMatch(/symbolic link, not a record file/);
    expect(reasons['folder-1.json']).toMatch(/a directory, not a record file/);
    if (fifo) expect(reasons['fifo-1.json']).toMatch(/a FIFO, not a record file/);
    expect(JSON.stringify(skipped)).not.toContain('root:');
    await expect(store.get('passwd-1')).rejects.toMatchObject({ code: 'CORRUPT_RECORD' });
    // Retention counts and deletes record files only: the folder named like one is left alone.
    await createFileCaptureStore(d, { maxRecords: 1 }).write(makeRecord({ at: Date.UTC(2030, 0, 1) }));
    expect(readdirSync(d)).toContain('folder-1.json');
  });

  it('filters by time range, error name and model version', async () => {
    const d = dir();
    const store = createFileCaptureStore(d);
    const t0 = Date.UTC(2024, 5, 1);
    const rs = [
      makeRecord({ at: t0, modelVersion: 'm1' }),
      makeRecord({ at: t0 + 3600_000, modelVersion: 'm2' }),
      makeRecord({
        at: t0 + 7200_000,
        modelVersion: 'm2',
        failure: { kind: 'bad-output', reason: 'output is NaN', output: Number.NaN },
      }),
      makeRecord({
        at: t0 + 10_800_000,
        modelVersion: 'm1',
        failure: { kind: 'error', error: { name: 'RangeError', message: 'r' } },
      }),
    ];
    await Promise.all(rs.map((r) => store.write(r)));
    const ids = async (f: Parameters<typeof store.list>[0]) =>
      (await store.list(f)).map((r) => rs.findIndex((x) => x.id === r.id));
    expect(await ids({ modelVersion: 'm2' })).toEqual([1, 2]);
    expect(await ids({ errorName: 'TypeError' })).toEqual([0, 1]);
    expect(await ids({ errorName: 'BadOutput' })).toEqual([2]);
    expect(await ids({ since: new Date(t0 + 3600_000).toISOString() })).toEqual([1, 2, 3]);
    expect(await ids({ since: new Date(t0 + 1), until: new Date(t0 + 7200_000) })).toEqual([1]);
    expect(await ids({ modelVersion: 'm1', errorName: 'RangeError' })).toEqual([3]);
    await expect(store.list({ since: 'yesterday' })).rejects.toThrow(/filter.since/);
  });

  it('says clearly when the directory is missing', async () => {
    const d = dir();
    const store = createFileCaptureStore(d);
    await expect(store.list()).rejects.toThrow(CaptureError);
    await expect(store.list()).rejects.toMatchObject({
      code: 'DIR_NOT_FOUND',
      message: expect.stringContaining(d),
    });
    await expect(store.get('abc')).rejects.toMatchObject({ code: 'DIR_NOT_FOUND' });
    expect(() => createFileCaptureStore(d, { maxRecords: 0 })).toThrow(/maxRecords/);
  });

  it('refuses to write an invalid record', async () => {
    const store = createFileCaptureStore(dir());
    await expect(store.write({ ...makeRecord(), inputHash: 'nope' })).rejects.toThrow(/inputHash/);
  });
});
