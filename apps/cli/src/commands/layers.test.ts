import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onnxSchema as onnx, parseOnnxInspection } from '@prodprobe/layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { run } from '../program.js';
import { memoryIo } from '../test-io.js';

// A model with a silent NaN: Log(x - 2) is NaN for x < 2, then Relu propagates it.
function model(offset: number): Uint8Array {
  const vec = (name: string) => ({
    name,
    type: { tensorType: { elemType: 1, shape: { dim: [{ dimValue: 3 }] } } },
  });
  return onnx.ModelProto.encode({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: 'g',
      input: [vec('x')],
      output: [vec('y')],
      initializer: [{ name: 'offset', dataType: 1, dims: [1], floatData: [offset] }],
      node: [
        { name: 'shift', opType: 'Sub', input: ['x', 'offset'], output: ['s'] },
        { name: 'log', opType: 'Log', input: ['s'], output: ['l'] },
        { name: 'relu', opType: 'Relu', input: ['l'], output: ['y'] },
      ],
    },
  }).finish();
}

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'prodprobe-layers-'));
  writeFileSync(join(dir, 'a.onnx'), model(2));
  writeFileSync(join(dir, 'b.onnx'), model(2.5));
  writeFileSync(
    join(dir, 'feeds.json'),
    JSON.stringify({ x: { dims: [3], data: [1, 3, 4], type: 'float32' } }),
  );
  writeFileSync(
    join(dir, 'bad-name.json'),
    JSON.stringify({ input: { dims: [3], data: [1, 3, 4], type: 'float32' } }),
  );
  writeFileSync(join(dir, 'not.onnx'), '{"hello": "world"}');
});

const cli = async (...args: string[]) => {
  const m = memoryIo({ cwd: dir });
  const code = await run(['node', 'prodprobe', ...args], m.io);
  return { code, stdout: m.stdout(), stderr: m.stderr() };
};

describe('prodprobe layers inspect', () => {
  it('prints JSON naming the first non-finite node and exits 1', async () => {
    const r = await cli('layers', 'inspect', 'a.onnx', '--input', 'feeds.json', '--json');
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout);
    expect(report.nodes.map((n: { name: string }) => n.name)).toEqual(['shift', 'log', 'relu']);
    expect(report.nodes[0].outputs[0]).toMatchObject({
      name: 's',
      dtype: 'float32',
      shape: [3],
      stats: { min: -1, max: 2 },
    });
    expect(report.firstNonFinite).toMatchObject({ node: 'log', output: 'l' });
    expect(report.notInspected).toEqual([]);
  });

  it('prints a table with the first non-finite node highlighted, and saves a loadable report', async () => {
    const r = await cli('layers', 'inspect', 'a.onnx', '--input', 'feeds.json', '--save', 'a.json');
    expect(r.code).toBe(1);
    const line = r.stdout.split('\n').find((l) => l.includes('<- first non-finite'));
    expect(line).toMatch(/^1\s+log\s+Log\s+l\s+float32\s+\[3\]/);
    expect(r.stdout).toContain('first non-finite: node log (Log) output l');
    const text = readFileSync(join(dir, 'a.json'), 'utf8');
    // The lossless storage encoding of @prodprobe/sanitize, pretty-printed.
    expect(text).toMatch(/^\{\n {2}"schemaVersion": 1,/);
    const saved = parseOnnxInspection(text);
    expect(saved.firstNonFinite?.node).toBe('log');
  });

  it('prints --json that loads back as a report and compares with a saved one', async () => {
    const r = await cli('layers', 'inspect', 'a.onnx', '--input', 'feeds.json', '--json');
    writeFileSync(join(dir, 'printed.json'), r.stdout);
    const loaded = parseOnnxInspection(r.stdout);
    expect(loaded.nodes.map((n) => n.name)).toEqual(['shift', 'log', 'relu']);
    expect(loaded.firstNonFinite).toMatchObject({ node: 'log', output: 'l' });
    await cli('layers', 'inspect', 'a.onnx', '--input', 'feeds.json', '--save', 'saved.json');
    const cmp = await cli('layers', 'compare', 'printed.json', 'saved.json', '--equal-nan', '--json');
    expect(cmp.stderr).toBe('');
    expect(cmp.code).toBe(0);
    expect(JSON.parse(cmp.stdout).firstDivergence).toBeNull();
  });

  it('runs with seeded random input and exits 0 for a healthy model', async () => {
    // Random floats in [0,1) minus -2 stay positive: no NaN.
    writeFileSync(join(dir, 'healthy.onnx'), model(-2));
    const r1 = await cli('layers', 'inspect', 'healthy.onnx', '--random-input', '--seed', '7', '--json');
    const r2 = await cli('layers', 'inspect', 'healthy.onnx', '--random-input', '--seed', '7', '--json');
    expect(r1.code).toBe(0);
    expect(JSON.parse(r1.stdout).feeds).toEqual(JSON.parse(r2.stdout).feeds);
    expect(JSON.parse(r1.stdout).firstNonFinite).toBeNull();
  });

  it('exits 2 with a clear message for a non-ONNX file, a wrong feed name or no feeds', async () => {
    const notOnnx = await cli('layers', 'inspect', 'not.onnx', '--input', 'feeds.json');
    expect(notOnnx.code).toBe(2);
    expect(notOnnx.stderr).toMatch(/not an ONNX model/);
    const badName = await cli('layers', 'inspect', 'a.onnx', '--input', 'bad-name.json');
    expect(badName.code).toBe(2);
    expect(badName.stderr).toMatch(/feed "input" is not an input of the model; inputs are x/);
    const none = await cli('layers', 'inspect', 'a.onnx');
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/--input feeds.json or use --random-input/);
  });
});

describe('prodprobe layers compare', () => {
  it('finds the first diverging node between two model versions and exits 1', async () => {
    const r = await cli('layers', 'compare', 'a.onnx', 'b.onnx', '--input', 'feeds.json', '--json');
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).firstDivergence).toMatchObject({ node: 'shift', output: 's' });
    const text = await cli('layers', 'compare', 'a.onnx', 'b.onnx', '--input', 'feeds.json');
    expect(text.stdout).toMatch(/first divergence: node shift \(Sub\) output s/);
  });

  it('exits 0 for the same model and compares saved reports', async () => {
    const same = await cli('layers', 'compare', 'a.onnx', 'a.onnx', '--input', 'feeds.json', '--equal-nan');
    expect(same.code).toBe(0);
    expect(same.stdout).toMatch(/all compared outputs within rtol=0.00001, atol=0.00001/);
    await cli('layers', 'inspect', 'a.onnx', '--input', 'feeds.json', '--keep-tensors', '--save', 'ka.json');
    await cli('layers', 'inspect', 'b.onnx', '--input', 'feeds.json', '--keep-tensors', '--save', 'kb.json');
    const saved = await cli('layers', 'compare', 'ka.json', 'kb.json', '--atol', '0.6', '--rtol', '0');
    // |a - b| = 0.5 everywhere in `s`: atol 0.6 passes it; the NaN positions differ later.
    expect(saved.code).toBe(1);
    expect(saved.stdout).toMatch(/first divergence: node log/);
    const bad = await cli('layers', 'compare', 'ka.json', 'feeds.json');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/not an ONNX inspection report/);
  });
});

describe('prodprobe layers inspect progress', () => {
  // --batch-size 1 splits the 3-node model into several parts, as a big model is split.
  const inspect = async (tty: boolean, json: boolean) => {
    const m = memoryIo({ cwd: dir, tty });
    const args = ['layers', 'inspect', 'a.onnx', '--input', 'feeds.json', '--batch-size', '1'];
    await run(['node', 'prodprobe', ...(json ? ['--json'] : []), ...args], m.io);
    return m.stderr();
  };

  it('shows progress on a TTY', async () => {
    const err = await inspect(true, false);
    expect(err).toMatch(/inspected part 1\/\d+/);
    expect(err).toMatch(/inspected part (\d+)\/\1\n/);
  });

  it('shows none when piped or with --json', async () => {
    expect(await inspect(false, false)).not.toContain('inspected part');
    expect(await inspect(true, true)).not.toContain('inspected part');
  });
});
