import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EnvSnapshotSchema } from '@prodprobe/env-snapshot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../program.js';
import { memoryIo } from '../test-io.js';

const cliDir = dirname(dirname(dirname(fileURLToPath(import.meta.url))));
let root: string;
const env = {
  NODE_ENV: 'production',
  PAYMENTS_API_KEY: 'sk-live-planted-secret-0042',
  PRODPROBE_HASH_KEY: 'shared-hmac-key-for-tests',
  MODEL_THRESHOLD: '0.5',
};

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'cli-env-'));
  writeFileSync(join(root, 'model.onnx'), 'weights-v1');
  writeFileSync(
    join(root, 'config.json'),
    JSON.stringify({ batchSize: 32, db: { password: 'cfg-planted-pw-771' } }),
  );
  writeFileSync(join(root, 'broken.json'), '{"batchSize": ');
  writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'not-a-snapshot', version: '1.0.0' }));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function cli(args: string[], extraEnv: Record<string, string> = {}) {
  const m = memoryIo({ cwd: root, env: { ...env, ...extraEnv } });
  const code = await run(['node', 'prodprobe', ...args], m.io);
  return { code, out: m.stdout(), err: m.stderr() };
}

const snapshotArgs = (out: string, model = 'model.onnx') => [
  'env',
  'snapshot',
  '--entry',
  cliDir,
  '--model',
  model,
  '--config',
  'config.json',
  '--env-allow',
  'PAYMENTS_API_KEY',
  'MODEL_THRESHOLD',
  '--hash-key-env',
  'PRODPROBE_HASH_KEY',
  '--out',
  out,
];

describe('prodprobe env', () => {
  it('snapshot writes a valid snapshot without any secret value, and prints a summary', async () => {
    const r = await cli([...snapshotArgs('a.json'), '--label', 'staging']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^env snapshot staging {2}fingerprint [0-9a-f]{64}/);
    expect(r.out).toContain('model      model.onnx: 10 B sha256');
    expect(r.out).toContain('wrote a.json');
    const text = readFileSync(join(root, 'a.json'), 'utf8');
    for (const secret of [env.PAYMENTS_API_KEY, env.PRODPROBE_HASH_KEY, 'cfg-planted-pw-771'])
      expect(text).not.toContain(secret);
    const s = EnvSnapshotSchema.parse(JSON.parse(text));
    expect(s.env.vars.MODEL_THRESHOLD).toEqual({ present: true, value: '0.5' });
    expect(s.env.vars.PAYMENTS_API_KEY).toMatchObject({ secret: true, length: env.PAYMENTS_API_KEY.length });
    expect(s.env.hmacKeyId).not.toBeNull();
    expect(s.native.onnxruntime).toMatchObject({ installed: true });
  });

  it('snapshot --json prints the snapshot on stdout', async () => {
    const r = await cli(['env', 'snapshot', '--json']);
    expect(r.code).toBe(0);
    expect(EnvSnapshotSchema.parse(JSON.parse(r.out)).env.vars.NODE_ENV).toEqual({
      present: true,
      value: 'production',
    });
  });

  it('diff: identical environments exit 0; a changed model is critical and exits 1', async () => {
    await cli(snapshotArgs('b.json'));
    const same = await cli(['env', 'diff', 'a.json', 'b.json']);
    expect(same.code).toBe(0);
    expect(same.out).toContain('(same fingerprint)');
    expect(same.out).toContain('no differences');

    writeFileSync(join(root, 'model.onnx'), 'weights-v2');
    await cli([...snapshotArgs('c.json'), '--label', 'production'], { MODEL_THRESHOLD: '0.7' });
    const changed = await cli(['env', 'diff', 'a.json', 'c.json']);
    expect(changed.code).toBe(1);
    const lines = changed.out.split('\n');
    expect(lines[1]).toBe('1 critical, 1 warning, 0 info');
    expect(lines[4]).toMatch(/^critical\s+model\s+models\["model\.onnx"\]\.sha256/);
    expect(lines[5]).toMatch(/^warning\s+env\s+env\.MODEL_THRESHOLD\s+0\.5\s+0\.7/);

    expect((await cli(['env', 'diff', 'a.json', 'c.json', '--fail-on', 'none'])).code).toBe(0);
    const json = await cli(['--json', 'env', 'diff', 'a.json', 'c.json']);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.out).summary).toEqual({ critical: 1, warning: 1, info: 0 });
    const md = await cli(['env', 'diff', 'a.json', 'c.json', '--markdown']);
    expect(md.out).toContain('| critical | model | `models["model.onnx"].sha256` |');
  });

  it('diff --fail-on warning exits 1 on a warning only', async () => {
    writeFileSync(join(root, 'model.onnx'), 'weights-v1');
    await cli(snapshotArgs('d.json'), { MODEL_THRESHOLD: '0.9' });
    expect((await cli(['env', 'diff', 'a.json', 'd.json'])).code).toBe(0);
    expect((await cli(['env', 'diff', 'a.json', 'd.json', '--fail-on', 'warning'])).code).toBe(1);
  });

  it('bad input exits 2 with a message naming the file and field', async () => {
    const foreign = await cli(['env', 'diff', 'a.json', 'package.json']);
    expect(foreign.code).toBe(2);
    expect(foreign.err).toContain('package.json: field kind: expected "prodprobe.env-snapshot"');
    const broken = await cli(['env', 'diff', 'broken.json', 'a.json']);
    expect(broken.code).toBe(2);
    expect(broken.err).toContain('broken.json: not valid JSON');
    const missing = await cli(['env', 'diff', 'a.json', 'nope.json']);
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('snapshot nope.json: cannot read the file (ENOENT)');
    const config = await cli(['env', 'snapshot', '--config', 'broken.json']);
    expect(config.code).toBe(2);
    expect(config.err).toContain('--config broken.json: not valid JSON');
    const key = await cli(['env', 'snapshot', '--hash-key-env', 'UNSET_VAR']);
    expect(key.code).toBe(2);
    expect(key.err).toContain('--hash-key-env UNSET_VAR: that environment variable is not set');
    expect((await cli(['env', 'diff', 'a.json', 'b.json', '--fail-on', 'sometimes'])).code).toBe(2);
  });
});
