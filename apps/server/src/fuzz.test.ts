import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRng, generateTransactions } from '@prodprobe/fraud-model';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadServerConfig } from './config.js';
import { type RunningService, startFraudService } from './serve.js';

let dataDir: string;
let service: RunningService;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'prodprobe-fuzz-'));
  service = await startFraudService(loadServerConfig('production', { dataDir }));
});

afterAll(async () => {
  await service?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const base = generateTransactions(1, { seed: 9 })[0]!.transaction as Record<string, unknown>;
const rng = createRng(20261126);
const weird: unknown[] = [
  null,
  true,
  -1,
  0,
  1e308,
  -1e308,
  '',
  'NaN',
  'Infinity',
  '-Infinity',
  '1e999',
  '12.5abc',
  [],
  {},
  [1, 2],
  { nested: { deeper: [null] } },
  'x'.repeat(5000),
  '\u0000',
  '__proto__',
  2 ** 53 + 1,
];

/** A request body the service must refuse (or handle) without a 5xx. */
function badBody(i: number): { body: string; contentType?: string } {
  const kind = i % 10;
  const field = Object.keys(base)[rng.int(0, Object.keys(base).length - 1)]!;
  const value = weird[rng.int(0, weird.length - 1)];
  switch (kind) {
    case 0: // wrong type in one field
      return { body: JSON.stringify({ ...base, [field]: value }) };
    case 1: // field missing
      return { body: JSON.stringify(Object.fromEntries(Object.entries(base).filter(([k]) => k !== field))) };
    case 2: // invalid JSON
      return { body: JSON.stringify(base).slice(0, rng.int(1, 40)) };
    case 3: // deep nesting
      return { body: `${'['.repeat(50_000)}${']'.repeat(50_000)}` };
    case 4: // huge body (over the 256 KiB limit)
      return { body: JSON.stringify({ ...base, pad: 'x'.repeat(400_000) }) };
    case 5: // unknown fields and prototype pollution attempts
      return {
        body: `{"__proto__":{"polluted":true},"constructor":{"prototype":{"x":1}},${JSON.stringify(base).slice(1)}`,
      };
    case 6: // batch of garbage
      return { body: JSON.stringify({ batch: [value, { ...base, [field]: value }] }) };
    case 7: // not JSON at all
      return { body: 'amount=12&user_age=40', contentType: 'application/x-www-form-urlencoded' };
    case 8: // a scalar or array as the body
      return { body: JSON.stringify(value) };
    default: // huge batch
      return { body: JSON.stringify({ batch: Array.from({ length: 2000 }, () => base) }) };
  }
}

describe('fuzzed bad requests', () => {
  it('never produce a 5xx and never stop the server', async () => {
    const statuses = new Map<number, number>();
    for (let i = 0; i < 300; i++) {
      const { body, contentType } = badBody(i);
      const res = await fetch(`${service.url}/predict`, {
        method: 'POST',
        headers: { 'content-type': contentType ?? 'application/json' },
        body,
      });
      await res.arrayBuffer();
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      expect(res.status, `request ${i}: ${body.slice(0, 80)}`).toBeLessThan(500);
    }
    // Most of them are refused; some (a "NaN" string amount, extra fields) are served.
    expect([...statuses.keys()].some((s) => s >= 400)).toBe(true);
    expect(({}.constructor.prototype as Record<string, unknown>).polluted).toBeUndefined();
    const health = await fetch(`${service.url}/healthz`);
    expect(health.status).toBe(200);
    const ok = await fetch(`${service.url}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(base),
    });
    expect(ok.status).toBe(200);
  });
});
