import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { decode, encode } from '@prodprobe/sanitize';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../program.js';
import { memoryIo } from '../test-io.js';

let root: string;
const key = 'a-hash-key-of-32-bytes-for-tests';
const records = [
  {
    user: { email: 'jane.doe@example.com', name: 'Jane Doe' },
    payment_method: 'card',
    amount: 1234.567,
    items: ['sku-0001', 'sku-0002'],
  },
  {
    user: { email: 'jane.doe@example.com', name: 'Jane Doe' },
    payment_method: 'buy_now_pay_later',
    amount: Number.NaN,
    items: [],
  },
  {
    user: { email: 'bob.smith@example.org', name: 'Bob Smith' },
    payment_method: 'card',
    amount: 18,
    items: ['sku-0003'],
  },
];

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'cli-sanitize-'));
  // The lossless encoding (as captures and logs write it): the NaN amount is a tagged value.
  writeFileSync(join(root, 'inputs.jsonl'), `${records.map((r) => encode(r)).join('\n')}\n\n`);
  writeFileSync(join(root, 'one.json'), JSON.stringify(records[0], null, 2));
  writeFileSync(
    join(root, 'policy.json'),
    JSON.stringify({ rules: { payment_method: 'keep', 'user.email': 'hash', 'items[*]': 'redact' } }),
  );
  writeFileSync(join(root, 'with-key.json'), JSON.stringify({ hashKey: key, rules: {} }));
  writeFileSync(join(root, 'bad-rule.json'), JSON.stringify({ rules: { 'user.email': 'shred' } }));
  writeFileSync(join(root, 'broken.jsonl'), `${encode(records[0])}\n${encode(records[2])}\n{"amount": 12,\n`);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function cli(args: string[], options: { env?: Record<string, string>; stdin?: string } = {}) {
  const m = memoryIo({ cwd: root, env: options.env ?? {}, stdin: options.stdin });
  const code = await run(['node', 'prodprobe', ...args], m.io);
  return { code, out: m.stdout(), err: m.stderr() };
}

const lines = (text: string) =>
  text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => decode(l) as (typeof records)[number]);

describe('prodprobe sanitize', () => {
  it('removes every string under the default policy, keeps the structure, the NaN and rounded numbers', async () => {
    const r = await cli(['sanitize', 'inputs.jsonl']);
    expect(r.code).toBe(0);
    const out = lines(r.out);
    expect(out).toHaveLength(3);
    for (const pii of ['jane.doe@example.com', 'Jane Doe', 'Bob Smith', 'sku-0001', 'buy_now_pay_later'])
      expect(r.out).not.toContain(pii);
    expect(out[0]).toEqual({
      user: { email: '<string length=20>', name: '<string length=8>' },
      payment_method: '<string length=4>',
      amount: 1200,
      items: ['<string length=8>', '<string length=8>'],
    });
    expect(out[1]!.amount).toBeNaN();
    expect(out[1]!.items).toEqual([]);
    expect(r.err).toContain('sanitized 3 records (jsonl) with the default policy');
  });

  it('applies a policy file: kept categories, joinable hashes from the key in the environment', async () => {
    const r = await cli(['sanitize', 'inputs.jsonl', '--policy', 'policy.json', '--hash-key-env', 'PP_KEY'], {
      env: { PP_KEY: key },
    });
    expect(r.code).toBe(0);
    const out = lines(r.out);
    expect(out.map((o) => o.payment_method)).toEqual(['card', 'buy_now_pay_later', 'card']);
    const hashes = out.map((o) => o.user.email);
    expect(hashes[0]).toBe(hashes[1]);
    expect(hashes[0]).not.toBe(hashes[2]);
    expect(r.out).not.toContain('example.com');
    expect(out[0]!.items).toHaveLength(2);
    expect(out[0]!.items).not.toContain('sku-0001');
    // Another key gives other hashes: the key is really used.
    const other = await cli(
      ['sanitize', 'inputs.jsonl', '--policy', 'policy.json', '--hash-key-env', 'PP_KEY'],
      {
        env: { PP_KEY: `${key}-rotated` },
      },
    );
    expect(lines(other.out)[0]!.user.email).not.toBe(hashes[0]);
  });

  it('a .json document comes out as one pretty document the lossless decoder reads', async () => {
    const r = await cli(['sanitize', 'one.json', '--policy', 'policy.json', '--hash-key-env', 'PP_KEY'], {
      env: { PP_KEY: key },
    });
    expect(r.code).toBe(0);
    expect(r.out.split('\n').length).toBeGreaterThan(5);
    expect(decode(r.out)).toMatchObject({ payment_method: 'card', amount: 1200 });
    expect(r.err).toContain('sanitized 1 record (json)');
  });

  it('reads stdin with -', async () => {
    const r = await cli(['sanitize', '-'], { stdin: `${encode(records[2])}\n` });
    expect(r.code).toBe(0);
    expect(lines(r.out)).toEqual([
      {
        user: { email: '<string length=21>', name: '<string length=9>' },
        payment_method: '<string length=4>',
        amount: 18,
        items: ['<string length=8>'],
      },
    ]);
  });

  it('--out appears only when every record is sanitized; a bad line names its number and keeps the old file', async () => {
    writeFileSync(join(root, 'out.jsonl'), 'previous output\n');
    const bad = await cli(['sanitize', 'broken.jsonl', '--out', 'out.jsonl']);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('broken.jsonl:3: not valid JSON');
    expect(readFileSync(join(root, 'out.jsonl'), 'utf8')).toBe('previous output\n');
    expect(readdirSync(root).filter((f) => f.includes('.tmp'))).toEqual([]);

    const good = await cli(['--json', 'sanitize', 'inputs.jsonl', '--out', 'out.jsonl']);
    expect(good.code).toBe(0);
    expect(JSON.parse(good.out)).toEqual({
      records: 3,
      truncated: 0,
      format: 'jsonl',
      policy: 'the default policy',
      out: 'out.jsonl',
    });
    expect(lines(readFileSync(join(root, 'out.jsonl'), 'utf8'))).toHaveLength(3);
  });

  it('bad policies and inputs are usage errors that say what to fix', async () => {
    const noKey = await cli(['sanitize', 'inputs.jsonl', '--policy', 'policy.json']);
    expect(noKey.code).toBe(2);
    expect(noKey.err).toMatch(/--policy policy\.json: .*hash.*--hash-key-env/s);
    expect(noKey.out).toBe('');

    const unset = await cli([
      'sanitize',
      'inputs.jsonl',
      '--policy',
      'policy.json',
      '--hash-key-env',
      'NOPE',
    ]);
    expect(unset.err).toContain('--hash-key-env NOPE: the environment variable is not set');

    const short = await cli(
      ['sanitize', 'inputs.jsonl', '--policy', 'policy.json', '--hash-key-env', 'PP_KEY'],
      {
        env: { PP_KEY: 'short' },
      },
    );
    expect(short.code).toBe(2);
    expect(short.err).toContain('at least 16 bytes');
    expect(short.err).toContain('the value of PP_KEY');

    const stored = await cli(['sanitize', 'inputs.jsonl', '--policy', 'with-key.json']);
    expect(stored.code).toBe(2);
    expect(stored.err).toContain('hashKey must not be stored in a policy file');

    const rule = await cli(['sanitize', 'inputs.jsonl', '--policy', 'bad-rule.json']);
    expect(rule.code).toBe(2);
    expect(rule.err).toContain('--policy bad-rule.json');
    expect(rule.err).toContain('user.email');

    const missing = await cli(['sanitize', 'nope.jsonl']);
    expect(missing.err).toContain('nope.jsonl: no such file');
    const ext = await cli(['sanitize', 'policy.txt']);
    expect(ext.err).toContain('--format json|jsonl');
    const intoDir = await cli(['sanitize', 'inputs.jsonl', '--out', '.']);
    expect(intoDir.code).toBe(2);
    expect(intoDir.err).toMatch(/--out \.: cannot write \(E\w+\)/);
    // The temporary file sat beside the target (in the parent folder) and is gone.
    expect(readdirSync(dirname(root)).filter((f) => f.startsWith(`.${basename(root)}.`))).toEqual([]);
    const folder = await cli(['sanitize', 'inputs.jsonl', '--out', 'no/such/dir/out.jsonl']);
    expect(folder.err).toContain('does not exist');
    expect(existsSync(join(root, 'no'))).toBe(false);
  });

  it('a JSON array is a list of records: all of them come out, however many; a record past the limits is reported', async () => {
    // More items than the sanitizer keeps in one array (100,000): as one value it would be cut.
    const many = Array.from({ length: 100_050 }, (_, i) => ({ id: i, email: `user${i}@example.com` }));
    writeFileSync(join(root, 'many.json'), JSON.stringify(many));
    const r = await cli(['--json', 'sanitize', 'many.json', '--out', 'many-clean.json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ records: 100_050, truncated: 0, format: 'json' });
    const out = decode(readFileSync(join(root, 'many-clean.json'), 'utf8')) as {
      id: number;
      email: string;
    }[];
    expect(out).toHaveLength(100_050);
    expect(out[100_049]).toEqual({ id: 100_000, email: '<string length=22>' });
    expect(r.err).not.toContain('warning');

    // One record holding an array past the limit: kept, cut, and said so.
    writeFileSync(join(root, 'huge.jsonl'), `${JSON.stringify({ rows: Array(100_001).fill(1) })}\n{"a":1}\n`);
    const huge = await cli(['sanitize', 'huge.jsonl']);
    expect(huge.code).toBe(0);
    expect(huge.err).toContain("warning: 1 record(s) went past the sanitizer's limits");
    expect(lines(huge.out)).toHaveLength(2);
  });
});
