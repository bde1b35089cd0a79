import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  createSanitizer,
  encode,
  isPlainKey,
  keyPlaceholder,
  SanitizeError,
  type SanitizePolicyInput,
  SanitizePolicySchema,
  sanitize,
} from './index.js';

const KEY = 'test-hash-key-0123456789';

function policyError(policy: unknown): SanitizeError {
  try {
    createSanitizer(policy as SanitizePolicyInput);
  } catch (error) {
    expect(error).toBeInstanceOf(SanitizeError);
    expect((error as SanitizeError).code).toBe('INVALID_POLICY');
    return error as SanitizeError;
  }
  throw new Error(`expected the policy to be rejected: ${JSON.stringify(policy)}`);
}

describe('default policy', () => {
  it('replaces strings with their length, rounds numbers to 2 significant digits, keeps the rest', () => {
    expect(
      sanitize({
        name: 'Alice Smith',
        empty: '',
        age: 37.4,
        amount: 12345.678,
        small: 0.0012345,
        negative: -987,
        ok: true,
        no: false,
        missing: null,
        undef: undefined,
        nan: Number.NaN,
        inf: Number.POSITIVE_INFINITY,
        ninf: Number.NEGATIVE_INFINITY,
        zero: 0,
      }),
    ).toStrictEqual({
      name: '<string length=11>',
      empty: '<string length=0>',
      age: 37,
      amount: 12000,
      small: 0.0012,
      negative: -990,
      ok: true,
      no: false,
      missing: null,
      undef: undefined,
      nan: Number.NaN,
      inf: Number.POSITIVE_INFINITY,
      ninf: Number.NEGATIVE_INFINITY,
      zero: 0,
    });
  });

  it('keeps structure: same keys, nesting and array lengths', () => {
    const input = {
      user: { email: 'a@b.co', tags: ['x', 'yy', 'zzz'] },
      items: [{ sku: 'A1', qty: 3 }, {}],
      m: [[1]],
    };
    expect(sanitize(input)).toStrictEqual({
      user: {
        email: '<string length=6>',
        tags: ['<string length=1>', '<string length=2>', '<string length=3>'],
      },
      items: [{ sku: '<string length=2>', qty: 3 }, {}],
      m: [[1]],
    });
  });

  it('handles the other JS values without leaking them', () => {
    const out = sanitize({
      big: 123456789n,
      date: new Date('1990-05-17'),
      bad: new Date(Number.NaN),
      f32: new Float32Array([1.2345, Number.NaN]),
      map: new Map([['secret', 1]]),
      set: new Set(['secret']),
      fn: () => 'secret',
    }) as Record<string, unknown>;
    expect(out.big).toBe(120000000n);
    expect(out.date).toBe('<date>');
    expect(out.bad).toBe('<invalid date>');
    expect(Array.from(out.f32 as Float32Array)).toEqual([Math.fround(1.2), Number.NaN]);
    expect(out.f32).toBeInstanceOf(Float32Array);
    expect(out.map).toBe('<Map size=1>');
    expect(out.set).toBe('<Set size=1>');
    expect(out.fn).toBe('<function>');
    expect(encode(out)).not.toContain('secret');
  });

  it('returns a copy and never mutates the input', () => {
    const input = { a: 'text', b: [1.234] };
    const out = sanitize(input) as typeof input;
    expect(out).not.toBe(input);
    expect(input).toEqual({ a: 'text', b: [1.234] });
  });

  it('marks cycles, cuts depth, long arrays and many keys, never hangs', () => {
    const cyclic: Record<string, unknown> = { a: 'x' };
    cyclic.self = cyclic;
    expect(sanitize(cyclic)).toEqual({ a: '<string length=1>', self: '<cycle>' });

    let deep: Record<string, unknown> = {};
    const root = deep;
    for (let i = 0; i < 100_000; i++) {
      const next = {};
      deep.x = next;
      deep = next;
    }
    expect(JSON.stringify(sanitize(root))).toContain('<truncated depth>');

    const limited = createSanitizer({ limits: { maxArrayLength: 2, maxKeys: 2, maxDepth: 2 } });
    expect(limited.sanitize([1, 2, 3, 4])).toEqual([1, 2, '<truncated 2 more items>']);
    expect(limited.sanitize({ a: 1, b: 2, c: 3 })).toEqual({ a: 1, b: 2, '<truncated>': '<1 more keys>' });
    expect(limited.sanitize({ a: { b: { c: 1 } } })).toEqual({ a: { b: '<truncated depth>' } });

    let node: Record<string, unknown> = { leaf: 'x' };
    for (let i = 0; i < 60; i++) node = { l: node, r: node };
    expect(JSON.stringify(createSanitizer({ limits: { maxNodes: 1000 } }).sanitize(node))).toContain(
      '<truncated nodes>',
    );
  });

  it('keeps a "__proto__" key as data', () => {
    const out = sanitize(JSON.parse('{"__proto__":{"isAdmin":"yes"}}')) as Record<string, unknown>;
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.keys(out)).toEqual(['__proto__']);
    expect((out as { isAdmin?: unknown }).isAdmin).toBeUndefined();
  });

  it('returns a marker rather than throwing on a hostile getter', () => {
    const hostile = {
      get boom(): never {
        throw new Error('user@example.com');
      },
    };
    expect(sanitize(hostile)).toBe('<unsanitizable>');
  });

  it('honours numberDigits', () => {
    expect(createSanitizer({ numberDigits: 4 }).sanitize(1.23456)).toBe(1.235);
  });
});

describe('rules', () => {
  const record = {
    user: { email: 'alice@example.com', name: 'Alice', age: 37 },
    payment_method: 'buy_now_pay_later',
    items: [
      { sku: 'SKU-123', price: 19.99 },
      { sku: 'SKU-456', price: 5.49 },
    ],
  };

  it('keep keeps the value, and a whole subtree when set on an object', () => {
    const s = createSanitizer({ rules: { payment_method: 'keep', user: { type: 'keep' } } });
    expect(s.sanitize(record)).toStrictEqual({
      user: { email: 'alice@example.com', name: 'Alice', age: 37 },
      payment_method: 'buy_now_pay_later',
      items: [
        { sku: '<string length=7>', price: 20 },
        { sku: '<string length=7>', price: 5.5 },
      ],
    });
  });

  it('items[*].sku matches every array element; items[0] only the first', () => {
    expect(createSanitizer({ rules: { 'items[*].sku': 'keep' } }).sanitize(record)).toMatchObject({
      items: [{ sku: 'SKU-123' }, { sku: 'SKU-456' }],
    });
    expect(createSanitizer({ rules: { 'items[0].sku': 'keep' } }).sanitize(record)).toMatchObject({
      items: [{ sku: 'SKU-123' }, { sku: '<string length=7>' }],
    });
  });

  it('the deeper and the more specific path wins', () => {
    const s = createSanitizer({
      rules: { user: 'keep', 'user.email': 'redact', '*.name': 'length', 'user.name': 'keep' },
    });
    expect(s.sanitize(record)).toMatchObject({
      user: { email: '<redacted>', name: 'Alice', age: 37 },
    });
    const wildcard = createSanitizer({ rules: { '*.name': 'redact' } });
    expect(wildcard.sanitize({ a: { name: 'x' }, b: { name: 'y' } })).toEqual({
      a: { name: '<redacted>' },
      b: { name: '<redacted>' },
    });
  });

  it('quoted keys in brackets match keys holding dots', () => {
    const s = createSanitizer({ rules: { '["odd.key"].v': 'keep' } });
    expect(s.sanitize({ 'odd.key': { v: 'kept' } })).toEqual({ 'odd.key': { v: 'kept' } });
  });

  it('a rule on a root array path applies to its elements', () => {
    const s = createSanitizer({ rules: { '[*].id': 'keep' } });
    expect(s.sanitize([{ id: 'a1' }, { id: 'b2' }])).toEqual([{ id: 'a1' }, { id: 'b2' }]);
  });

  it('keepIf keeps allowlisted values and treats the rest by default (or as `otherwise`)', () => {
    const s = createSanitizer({
      rules: {
        payment_method: { type: 'keepIf', values: ['card', 'paypal'] },
        country: { type: 'keepIf', values: ['DE', 'FR'], otherwise: '<other>' },
        code: { type: 'keepIf', values: [1, 2, Number.NaN] },
      },
    });
    expect(s.sanitize({ payment_method: 'card', country: 'DE', code: 2 })).toEqual({
      payment_method: 'card',
      country: 'DE',
      code: 2,
    });
    expect(s.sanitize({ payment_method: 'buy_now_pay_later', country: 'US', code: Number.NaN })).toEqual({
      payment_method: '<string length=17>',
      country: '<other>',
      code: Number.NaN,
    });
    expect(s.sanitize({ code: 12345 })).toEqual({ code: 12000 });
  });

  it('redact replaces every leaf below the path, keeps null/undefined and structure', () => {
    const s = createSanitizer({ rules: { user: 'redact', items: { type: 'redact', replacement: 'X' } } });
    expect(s.sanitize({ ...record, user: { ...record.user, nick: null } })).toStrictEqual({
      user: { email: '<redacted>', name: '<redacted>', age: '<redacted>', nick: null },
      payment_method: '<string length=17>',
      items: [
        { sku: 'X', price: 'X' },
        { sku: 'X', price: 'X' },
      ],
    });
  });

  it('length gives the length placeholder for strings and default treatment for numbers', () => {
    const s = createSanitizer({ rules: { 'a.*': 'length' } });
    expect(s.sanitize({ a: { s: 'abc', n: 1234 } })).toEqual({ a: { s: '<string length=3>', n: 1200 } });
  });

  it('hash is a keyed HMAC-SHA256, stable across records and different per key', () => {
    const s = createSanitizer({
      hashKey: KEY,
      rules: { 'user.email': 'hash', id: { type: 'hash', length: 64 } },
    });
    const expected = createHmac('sha256', KEY).update('alice@example.com').digest('hex');
    const a = s.sanitize(record) as typeof record;
    expect(a.user.email).toBe(expected.slice(0, 32));
    expect((s.sanitize({ user: { email: 'alice@example.com' } }) as typeof record).user.email).toBe(
      a.user.email,
    );
    expect((s.sanitize({ id: 'x' }) as { id: string }).id).toBe(
      createHmac('sha256', KEY).update('x').digest('hex'),
    );
    const other = createSanitizer({
      hashKey: new TextEncoder().encode('another-key-0123456789'),
      rules: { 'user.email': 'hash' },
    });
    expect((other.sanitize(record) as typeof record).user.email).not.toBe(a.user.email);
    // numbers hash too, and differently from the same digits as a string
    const n = s.sanitize({ user: { email: 42 } }) as { user: { email: string } };
    const str = s.sanitize({ user: { email: '42' } }) as { user: { email: string } };
    expect(n.user.email).toMatch(/^[0-9a-f]{32}$/);
    expect(n.user.email).not.toBe(str.user.email);
  });

  it('carries its policy as data: a copy that builds the same sanitizer, in another thread too', async () => {
    const policy: SanitizePolicyInput = {
      hashKey: Buffer.from(KEY),
      numberDigits: 3,
      rules: { 'user.email': 'hash', country: 'keep', amount: { type: 'keepIf', values: ['NaN'] } },
    };
    const s = createSanitizer(policy);
    (policy.rules as Record<string, unknown>).country = 'redact'; // the caller reuses its object
    const value = { user: { email: 'alice@example.com' }, country: 'FR', amount: 'NaN', n: 1234.5 };
    // Through a real structured clone, as a worker thread receives it.
    const { port1, port2 } = new MessageChannel();
    const received = new Promise<SanitizePolicyInput>((resolve) => {
      port2.once('message', resolve);
    });
    port1.postMessage(s.policy);
    const rebuilt = createSanitizer(await received);
    port1.close();
    expect(rebuilt.sanitize(value)).toEqual(s.sanitize(value));
    expect(s.sanitize(value)).toMatchObject({ country: 'FR', amount: 'NaN', n: 1230 });
    expect(typeof rebuilt.flat).toBe(typeof s.flat);
  });

  it('hash without a key, or with a short key, fails at creation naming the path', () => {
    expect(policyError({ rules: { 'user.email': 'hash' } }).message).toMatch(
      /rules\["user\.email"\]: the 'hash' rule needs hashKey/,
    );
    expect(policyError({ hashKey: 'short', rules: { a: 'hash' } }).message).toMatch(
      /hashKey: expected at least 16 bytes/,
    );
  });

  it('bucket generalises numbers to the lower bound of a fixed-size bucket', () => {
    const s = createSanitizer({
      rules: { amount: { type: 'bucket', size: 10 }, age: { type: 'bucket', size: 5, offset: 1 } },
    });
    expect(s.sanitize({ amount: 37.5, age: 37 })).toEqual({ amount: 30, age: 36 });
    expect(s.sanitize({ amount: -0.5, age: Number.NaN })).toEqual({ amount: -10, age: Number.NaN });
    expect(s.sanitize({ amount: 'text' })).toEqual({ amount: '<string length=4>' });
  });

  it('round keeps significant digits or decimal places', () => {
    const s = createSanitizer({
      rules: { a: 'round', b: { type: 'round', digits: 4 }, c: { type: 'round', decimals: 1 }, d: 'round' },
    });
    expect(s.sanitize({ a: 123456, b: 1.23456, c: -2.46, d: 98765432109876543210n })).toEqual({
      a: 120000,
      b: 1.235,
      c: -2.5,
      d: 99000000000000000000n,
    });
  });

  it('mask hides all but a few end characters, and never more than half', () => {
    const s = createSanitizer({
      rules: {
        card: 'mask',
        phone: { type: 'mask', keepStart: 2, keepEnd: 2, char: '#' },
        pin: 'mask',
        n: 'mask',
      },
    });
    expect(
      s.sanitize({ card: '4111111111111111', phone: '+4915112345678', pin: '1234', n: 12345678 }),
    ).toEqual({
      card: '************1111',
      phone: '+4##########78',
      pin: '**34',
      n: '****5678',
    });
  });

  it('detect replaces PII inside free text and keeps the rest', () => {
    const s = createSanitizer({ rules: { note: 'detect', only: { type: 'detect', detectors: ['email'] } } });
    expect(
      s.sanitize({
        note: 'Call +49 151 12345678 or mail jane.doe@corp.example.org re card 4111-1111-1111-1111.',
        only: 'jane@x.io 4111111111111111',
      }),
    ).toEqual({
      note: 'Call <PHONE> or mail <EMAIL> re card <CREDIT_CARD>.',
      only: '<EMAIL> 4111111111111111',
    });
  });

  it('default under a broader keep re-applies the default policy', () => {
    const s = createSanitizer({ rules: { features: 'keep', 'features.name': 'default' } });
    expect(s.sanitize({ features: { name: 'Bob', score: 0.123 } })).toEqual({
      features: { name: '<string length=3>', score: 0.123 },
    });
  });
});

describe('policy validation (at creation, naming the path)', () => {
  it('the exported zod schema applies the same path and hash-key checks', () => {
    expect(
      SanitizePolicySchema.safeParse({ hashKey: KEY, rules: { 'items[*].sku': 'keep', a: 'hash' } }).success,
    ).toBe(true);
    const unknownRule = SanitizePolicySchema.safeParse({ rules: { d: 'encrypt' } });
    expect(unknownRule.error?.issues.map((i) => i.path.join('/'))).toEqual(['rules/d']);
    const badPath = SanitizePolicySchema.safeParse({ rules: { 'a..b': 'keep' } });
    expect(badPath.error?.issues).toEqual([
      expect.objectContaining({ path: ['rules', 'a..b'], message: expect.stringMatching(/^bad path: /) }),
    ]);
    const noKey = SanitizePolicySchema.safeParse({ rules: { c: 'hash' } });
    expect(noKey.error?.issues).toEqual([expect.objectContaining({ path: ['hashKey'] })]);
  });

  it('rejects unknown rules', () => {
    expect(policyError({ rules: { 'user.email': 'encrypt' } }).message).toBe(
      `invalid sanitize policy: rules["user.email"]: unknown rule 'encrypt' (expected one of keep, keepIf, redact, length, hash, bucket, round, mask, detect, default)`,
    );
    expect(policyError({ rules: { a: { type: 'nope' } } }).message).toMatch(
      /rules\["a"\]\.type: unknown rule 'nope'/,
    );
    expect(policyError({ rules: { a: 42 } }).message).toMatch(
      /rules\["a"\]: expected a rule name or an object/,
    );
    expect(policyError({ rules: { a: 'bucket' } }).message).toMatch(/rule 'bucket' needs options/);
  });

  it('rejects bad paths', () => {
    for (const [path, why] of [
      ['user..email', /position 5/],
      ['items[', /position 6/],
      ['items[x]', /an index, '\*' or a quoted key/],
      ['items[01]', /leading zeros/],
      ['', /empty path/],
      ['a b', /position 1/],
      ['a.', /position 2, found end of path/],
      ['["open', /closing "/],
    ] as const) {
      expect(policyError({ rules: { [path]: 'keep' } }).message).toMatch(
        new RegExp(`rules\\[${JSON.stringify(path).replace(/[[\]\\.*]/g, '\\$&')}\\]: bad path: .*`),
      );
      expect(policyError({ rules: { [path]: 'keep' } }).message).toMatch(why);
    }
  });

  it('rejects bad rule options and unknown policy keys', () => {
    expect(policyError({ rules: { a: { type: 'bucket', size: 0 } } }).message).toMatch(
      /rules\["a"\]\.size: expected a number > 0/,
    );
    expect(policyError({ rules: { a: { type: 'bucket', size: 10, extra: 1 } } }).message).toMatch(
      /rules\["a"\]/,
    );
    expect(policyError({ rules: { a: { type: 'round', digits: 2, decimals: 1 } } }).message).toMatch(
      /either digits or decimals/,
    );
    expect(policyError({ rules: { a: { type: 'keepIf', values: [] } } }).message).toMatch(
      /rules\["a"\]\.values/,
    );
    expect(policyError({ rules: { a: { type: 'detect', detectors: ['dna'] } } }).message).toMatch(
      /rules\["a"\]\.detectors\[0\]/,
    );
    expect(policyError({ rulez: {} }).message).toBe(
      "invalid sanitize policy: (policy): unknown key 'rulez' (expected schemaVersion, hashKey, numberDigits, limits, rules)",
    );
    expect(policyError({ limits: { maxDeep: 3 } }).message).toBe(
      "invalid sanitize policy: limits: unknown key 'maxDeep'",
    );
    expect(policyError({ limits: { maxDepth: -1 } }).message).toMatch(/limits\.maxDepth/);
  });
});

// -------------------------------------------------------------------------------------------
// properties

const piiString = fc.oneof(
  fc.string({ minLength: 4, maxLength: 30 }),
  fc.emailAddress(),
  fc.stringMatching(/^[A-Z][a-z]{3,10} [A-Z][a-z]{3,12}$/),
  fc.stringMatching(/^\d{3}-\d{2}-\d{4}$/),
  fc.uuid(),
);
const piiRecord = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    piiString,
    fc.string(),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 5 }),
    fc.dictionary(fc.string({ maxLength: 8 }), tie('value'), { maxKeys: 6 }),
  ),
})).value;

function collectStrings(value: unknown, into: string[] = []): string[] {
  if (typeof value === 'string') into.push(value);
  else if (Array.isArray(value)) for (const item of value) collectStrings(item, into);
  else if (typeof value === 'object' && value !== null)
    for (const item of Object.values(value)) collectStrings(item, into);
  return into;
}

function sameShape(input: unknown, output: unknown): boolean {
  if (Array.isArray(input)) {
    return (
      Array.isArray(output) &&
      output.length === input.length &&
      input.every((x, i) => sameShape(x, output[i]))
    );
  }
  if (typeof input === 'object' && input !== null) {
    if (typeof output !== 'object' || output === null || Array.isArray(output)) return false;
    const ki = Object.keys(input);
    const ko = Object.keys(output);
    return (
      ki.length === ko.length &&
      ki.every(
        (k, i) =>
          (k === ko[i] || (!isPlainKey(k) && ko[i] === keyPlaceholder(i))) &&
          sameShape((input as never)[k], (output as never)[ko[i] as string]),
      )
    );
  }
  if (typeof input === 'string') return output === `<string length=${input.length}>`;
  if (typeof input === 'number') return typeof output === 'number';
  return Object.is(input, output);
}

describe('keys that are data', () => {
  it('default policy: a key that could carry PII becomes <key #i>; field names stay', () => {
    const input = {
      order_total: 1,
      'jane.doe@example.com': { visits: 3 },
      'Maria Gonzalez': 2,
      '4111111111111111': true,
      '+49 151 1234 5678': 'x',
      '10.1.2.3': 4,
      sk_live_4eC39HqLyjWDarjtT1zdp7dc: 5,
      'feature.v2/score-3': 6,
      größe: 7,
    };
    expect(sanitize(input)).toEqual({
      order_total: 1,
      '<key #1>': { visits: 3 },
      '<key #2>': 2,
      '<key #3>': true,
      '<key #4>': '<string length=1>',
      '<key #5>': 4,
      '<key #6>': 5,
      'feature.v2/score-3': 6,
      größe: 7,
    });
  });

  it('keeps a key the policy names, and every key below a keep', () => {
    const s = createSanitizer({ rules: { '["Order Total"]': 'default', raw: 'keep' } });
    expect(s.sanitize({ 'Order Total': 12.5, 'Jane Doe': 1, raw: { 'Jane Doe': 1 } })).toEqual({
      'Order Total': 13,
      '<key #1>': 1,
      raw: { 'Jane Doe': 1 },
    });
  });

  it('isPlainKey / keyPlaceholder', () => {
    expect(['a', 'user_id', 'items', 'x-user', '2024', 'größe'].every(isPlainKey)).toBe(true);
    expect(['a b', 'a@b.co', '123456', '291-35-7235', 'x'.repeat(65), ''].some(isPlainKey)).toBe(false);
    expect(keyPlaceholder(3)).toBe('<key #3>');
  });
});

describe('properties', () => {
  it('default policy: no input string of 4+ characters appears in any output string', () => {
    fc.assert(
      fc.property(piiRecord, (value) => {
        const out = sanitize(value);
        const inputs = collectStrings(value).filter((s) => s.length >= 4);
        // Our own placeholder text is not a leak; blank it so only other text is searched.
        const outputs = collectStrings(out).map((s) => s.replace(/^<string length=\d+>$/, ''));
        for (const s of inputs) for (const o of outputs) expect(o.includes(s)).toBe(false);
      }),
      { numRuns: 500, seed: 1 },
    );
  });

  it('default policy: output has the input shape, every string replaced by its length placeholder', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(sameShape(value, sanitize(value))).toBe(true);
      }),
      { numRuns: 500, seed: 2 },
    );
  });

  it('sanitize never throws, with or without rules, on any JSON-like value', () => {
    const ruled = createSanitizer({
      hashKey: KEY,
      rules: {
        '*': 'detect',
        'a.*': 'hash',
        '[*]': { type: 'bucket', size: 3 },
        '*.b[*]': 'mask',
        'c.d': { type: 'keepIf', values: ['x', 1, null] },
        e: { type: 'round', decimals: 2 },
      },
    });
    fc.assert(
      fc.property(
        fc.oneof(
          fc.jsonValue(),
          fc.anything({ withBigInt: true, withDate: true, withTypedArray: true, withMap: true }),
        ),
        (value) => {
          sanitize(value);
          ruled.sanitize(value);
        },
      ),
      { numRuns: 500, seed: 3 },
    );
  });

  it('rules: PII under detect, hash, mask, redact and length never reaches the output', () => {
    const s = createSanitizer({
      hashKey: KEY,
      rules: { note: 'detect', email: 'hash', card: 'mask', secret: 'redact', name: 'length' },
    });
    fc.assert(
      fc.property(
        fc.emailAddress(),
        fc.emailAddress(),
        fc.stringMatching(/^[a-z]{8,16}$/),
        (e1, e2, word) => {
          const out = s.sanitize({
            note: `contact ${e1} today`,
            email: e2,
            card: '4111111111111111',
            secret: word,
            name: word,
          });
          const text = encode(out);
          expect(text).not.toContain(e1);
          expect(text).not.toContain(e2);
          expect(text).not.toContain(word);
          expect(text).not.toContain('411111111111');
        },
      ),
      { numRuns: 200, seed: 4 },
    );
  });
});
