import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CaptureRecord, createFileCaptureStore, withCapture } from '@prodprobe/capture';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../program.js';
import { memoryIo } from '../test-io.js';

const key = new Uint8Array(32).map((_, i) => i + 1);
let root: string;
let records: CaptureRecord[];

const modelSource = `export function loadModel(version) {
  const guard = version === 'v2';
  return (x) => {
    if (x.amount === undefined) throw new TypeError('amount is required');
    return { score: Math.log(guard ? Math.max(x.amount, 1e-6) : x.amount) };
  };
}
`;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'cli-capture-'));
  writeFileSync(join(root, 'model.mjs'), modelSource);
  writeFileSync(join(root, 'no-load.mjs'), 'export const x = 1;\n');
  writeFileSync(join(root, 'hangs.mjs'), 'export const loadModel = () => () => new Promise(() => {});\n');
  writeFileSync(join(root, 'key.hex'), `${Buffer.from(key).toString('hex')}\n`);
  writeFileSync(join(root, 'wrong.key'), Buffer.alloc(32, 9));
  const store = createFileCaptureStore(join(root, 'captures'));
  const predict = withCapture(
    (x: { amount?: number; email: string }) => {
      if (x.amount === undefined) throw new TypeError('amount is required');
      return { score: Math.log(x.amount) };
    },
    { store, modelVersion: 'v1', encryptionKey: key },
  );
  for (const x of [{ amount: -5, email: 'a@x.io' }, { amount: 3, email: 'b@x.io' }, { email: 'c@x.io' }]) {
    try {
      predict(x);
    } catch {
      // captured
    }
  }
  await predict.flush();
  records = await store.list();
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function cli(...args: string[]) {
  const m = memoryIo({ cwd: root });
  const code = await run(['node', 'prodprobe', ...args], m.io);
  return { code, out: m.stdout(), err: m.stderr() };
}

describe('prodprobe capture', () => {
  it('lists and filters captured failures', async () => {
    expect(records).toHaveLength(2);
    const all = await cli('capture', 'list', 'captures');
    expect(all.code).toBe(0);
    expect(all.out).toContain('2 captured failure(s)');
    expect(all.out).toMatch(/BadOutput: output\.score is NaN/);
    expect(all.out).toMatch(/TypeError: amount is required/);
    expect(all.out).not.toContain('a@x.io');

    const json = await cli('--json', 'capture', 'list', 'captures', '--error', 'TypeError');
    const parsed = JSON.parse(json.out) as { count: number; records: { failure: string; sealed: boolean }[] };
    expect(parsed.count).toBe(1);
    expect(parsed.records[0]).toMatchObject({ failure: 'TypeError', sealed: true });

    expect((await cli('capture', 'list', 'captures', '--model-version', 'v2')).out).toContain(
      'no captured failures match',
    );
    expect((await cli('capture', 'list', 'captures', '--since', '2999-01-01T00:00:00Z')).out).toContain(
      'no captured',
    );
    const bad = await cli('capture', 'list', 'captures', '--since', 'last tuesday');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--since "last tuesday": expected an ISO 8601 time/);
  });

  it('says clearly when the directory or the id is missing', async () => {
    const dir = await cli('capture', 'list', 'nope');
    expect(dir.code).toBe(2);
    expect(dir.err).toContain('capture directory nope does not exist');
    const id = await cli('capture', 'show', 'captures', 'no-such-id');
    expect(id.code).toBe(2);
    expect(id.err).toContain('no capture record with id no-such-id in captures');
  });

  it('shows one record as text and as lossless JSON', async () => {
    const nan = records.find((r) => r.failure.kind === 'bad-output')!;
    const text = await cli('capture', 'show', 'captures', nan.id);
    expect(text.code).toBe(0);
    expect(text.out).toContain(`id            ${nan.id}`);
    expect(text.out).toMatch(/sealed input {2}yes \(key id [0-9a-f]{16}\)/);
    const json = JSON.parse((await cli('--json', 'capture', 'show', 'captures', nan.id)).out);
    expect(json).toMatchObject({
      id: nan.id,
      sealed: true,
      failure: { kind: 'bad-output', output: { score: { $pp: 'NaN' } } },
    });
    expect(json.sealedInput).toBeUndefined();
  });

  it('replays one record: reproduced on the recorded version, fixed on another', async () => {
    const nan = records.find((r) => r.failure.kind === 'bad-output')!;
    const again = await cli('capture', 'replay', 'captures', nan.id, '--model', 'model.mjs');
    expect(again.code).toBe(1);
    expect(again.out).toMatch(/REPRODUCED +model v1 +input: sanitized +verdict: model-or-input/);
    const fixed = await cli(
      '--json',
      'capture',
      'replay',
      'captures',
      nan.id,
      '--model',
      'model.mjs',
      '--use-version',
      'v2',
      '--key-file',
      'key.hex',
    );
    expect(fixed.code).toBe(0);
    expect(JSON.parse(fixed.out)).toMatchObject({
      reproduced: false,
      inputUsed: 'sealed-raw',
      verdict: 'environment',
      modelVersion: 'v2',
    });
  });

  it('replays all records sequentially and concurrently', async () => {
    const res = await cli(
      '--json',
      'capture',
      'replay',
      'captures',
      '--all',
      '--model',
      'model.mjs',
      '--concurrency',
      '2',
    );
    expect(res.code).toBe(1);
    const parsed = JSON.parse(res.out);
    expect(parsed).toMatchObject({ total: 2, reproduced: 2, raceSuspected: false, differences: [] });
    expect(res.err).toContain('replaying 2 record(s)');
    const text = await cli(
      'capture',
      'replay',
      'captures',
      '--all',
      '--model',
      'model.mjs',
      '--use-version',
      'v2',
    );
    expect(text.out).toContain('1 of 2 reproduced'); // the TypeError is an input problem v2 does not fix
    expect(text.out).toContain('no output changed under concurrency');
  });

  it('rejects a wrong key, a bad model module and a missing id/--all', async () => {
    const id = records[0]!.id;
    const wrong = await cli(
      'capture',
      'replay',
      'captures',
      id,
      '--model',
      'model.mjs',
      '--key-file',
      'wrong.key',
    );
    expect(wrong.code).toBe(2);
    expect(wrong.err).toMatch(/wrong key/);
    const noLoad = await cli('capture', 'replay', 'captures', id, '--model', 'no-load.mjs');
    expect(noLoad.code).toBe(2);
    expect(noLoad.err).toMatch(/export a function loadModel/);
    expect((await cli('capture', 'replay', 'captures', id, '--model', 'missing.mjs')).err).toMatch(
      /no such file/,
    );
    expect((await cli('capture', 'replay', 'captures', '--model', 'model.mjs')).err).toMatch(
      /either a record id or --all/,
    );
  });

  it('reports a model that never answers as a hang after --timeout', async () => {
    const id = records[0]!.id;
    const res = await cli(
      '--json',
      'capture',
      'replay',
      'captures',
      id,
      '--model',
      'hangs.mjs',
      '--timeout',
      '50',
    );
    expect(res.code).toBe(1);
    expect(JSON.parse(res.out)).toMatchObject({
      reproduced: true,
      error: { name: 'ReplayTimeout', message: 'predict did not settle within 50 ms' },
    });
    const bad = await cli('capture', 'replay', 'captures', id, '--model', 'model.mjs', '--timeout', 'soon');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--timeout soon: expected a positive integer/);
  });

  /** `capture export-test captures --out <out> --model model.mjs …` */
  const exportTest = (out: string, ...rest: string[]) =>
    cli('capture', 'export-test', 'captures', '--out', out, '--model', 'model.mjs', ...rest);

  it('exports a regression test importing the model relative to the test file', async () => {
    const res = await exportTest('test/captured.test.ts', '--error', 'BadOutput');
    expect(res.code).toBe(0);
    expect(res.out).toContain('wrote 1 regression test(s) to test/captured.test.ts (imports ../model.mjs)');
    const source = readFileSync(join(root, 'test/captured.test.ts'), 'utf8');
    expect(source).toContain('import * as model from "../model.mjs";');
    expect(source).toContain('from "@prodprobe/capture"');
    const none = await exportTest('x.test.ts', '--error', 'Nope');
    expect(none.code).toBe(2);
    // Replay takes an .onnx file; a generated test cannot import one.
    const onnx = await cli('capture', 'export-test', 'captures', '--out', 'y.test.ts', '--model', 'm.onnx');
    expect(onnx.code).toBe(2);
    expect(onnx.err).toMatch(/--model m\.onnx: the generated test imports its model/);
  });

  it('exports the records --id names, and says which id is unknown', async () => {
    const [first, second] = records;
    const both = await exportTest('ids.test.ts', '--id', second!.id, first!.id, second!.id, '--json');
    expect(both.code).toBe(0);
    expect(JSON.parse(both.out)).toMatchObject({ tests: 2, modelImport: './model.mjs' });
    const source = readFileSync(join(root, 'ids.test.ts'), 'utf8');
    // In the order given, each once.
    expect(source.indexOf(`it("${second!.id}`)).toBeLessThan(source.indexOf(`it("${first!.id}`));
    expect(source.split(`it("${second!.id}`)).toHaveLength(2);
    const unknown = await exportTest('u.test.ts', '--id', 'nope');
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain('no capture record with id nope in captures');
    const mixed = await exportTest('m.test.ts', '--id', first!.id, '--error', 'TypeError');
    expect(mixed.code).toBe(2);
    expect(mixed.err).toMatch(/--id picks the records itself/);
  });

  it('warns about corrupted record files and still lists the rest', async () => {
    writeFileSync(join(root, 'captures', 'broken-1.json'), '{"schemaVersion":1,"id":"bro');
    const res = await cli('capture', 'list', 'captures');
    expect(res.code).toBe(0);
    expect(res.err).toMatch(/warning: skipped broken-1\.json: .*truncated/);
    expect(res.out).toContain('2 captured failure(s)');
    rmSync(join(root, 'captures', 'broken-1.json'));
  });
});
