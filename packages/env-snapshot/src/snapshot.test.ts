import { createHash, createHmac } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EnvSnapshotError } from './errors.js';
import { parseSnapshotJson } from './parse.js';
import { EnvSnapshotSchema } from './schema.js';
import { snapshot } from './snapshot.js';

const packageDir = dirname(dirname(fileURLToPath(import.meta.url)));
let tmp: string;

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'env-snapshot-test-'));
});
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

describe('snapshot of this machine', () => {
  it('has every section, with values that match what Node reports', async () => {
    const started = performance.now();
    const s = await snapshot({ entryDir: packageDir, env: { TZ: 'UTC', NODE_ENV: 'test' }, label: 'here' });
    const elapsed = performance.now() - started;

    for (const [name, probe] of Object.entries(s.probes)) expect(probe.status, `probe ${name}`).toBe('ok');
    expect(s.runtime?.node).toBe(process.versions.node);
    expect(s.runtime?.modules).toBe(process.versions.modules);
    expect(s.runtime?.timezone).toBe(Intl.DateTimeFormat().resolvedOptions().timeZone);
    expect(s.os?.platform).toBe(process.platform);
    expect(s.os?.arch).toBe(process.arch);
    if (process.platform === 'linux') {
      expect(s.os?.libc).toMatch(/glibc|musl/);
      expect(s.ulimits?.open_files?.soft).toBeDefined();
      expect(s.cgroup?.version).not.toBeNull();
    }
    expect(s.resources?.cpuCount).toBeGreaterThanOrEqual(1);
    expect(s.resources?.totalMemoryBytes).toBeGreaterThan(64 * 1024 * 1024);
    expect(s.resources?.freeMemoryBytes).toBeLessThanOrEqual(s.resources?.totalMemoryBytes ?? 0);
    expect(s.disks?.[0]?.totalBytes).toBeGreaterThan(0);
    expect(s.disks?.[0]?.freeBytes).toBeGreaterThan(0);

    // zod is this package's one runtime dependency; pnpm puts its real path under .pnpm.
    const zod = s.packages?.list.find((p) => p.name === 'zod');
    expect(zod?.version).toBe('4.6.7');
    expect(zod?.path).toContain('node_modules/.pnpm/zod@4.6.7/node_modules/zod');
    expect(s.packages?.root?.name).toBe('@prodprobe/env-snapshot');

    // onnxruntime-node and DuckDB are dev dependencies here, resolved from entryDir and loaded.
    const ort = s.native.onnxruntime;
    expect(ort?.installed).toBe(true);
    if (ort?.installed) {
      expect(ort.packageVersion).toBe('1.30.0');
      expect(ort.versions.node).toBe('1.30.0');
      expect(ort.backends.map((b) => b.name)).toContain('cpu');
    }
    const duck = s.native.duckdb;
    expect(duck?.installed).toBe(true);
    if (duck?.installed) expect(duck.version).toMatch(/^v?1\.5\./);

    expect(s.env.vars.TZ).toEqual({ present: true, value: 'UTC' });
    expect(s.env.vars.NODE_OPTIONS).toEqual({ present: false });
    expect(s.durationMs).toBeLessThanOrEqual(elapsed + 1);
    expect(elapsed).toBeLessThan(5000);
    expect(s.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    // What is written to disk reads back identical.
    expect(parseSnapshotJson(JSON.stringify(s))).toEqual(EnvSnapshotSchema.parse(s));
  });

  it('skips packages and native addons without an entry directory', async () => {
    const s = await snapshot({});
    expect(s.packages).toBeNull();
    expect(s.probes.packages?.status).toBe('skipped');
    expect(s.probes['native.onnxruntime']?.status).toBe('skipped');
    expect(s.env.vars).toEqual({});
  });

  it('records a failing built-in probe and still returns a snapshot', async () => {
    const s = await snapshot({ entryDir: join(tmp, 'does', 'not', 'exist'), nativeAddons: false });
    expect(s.probes.packages?.status).toBe('failed');
    expect(s.probes.packages?.error).toMatch(/ENOENT/);
    expect(s.packages).toBeNull();
    expect(s.runtime).not.toBeNull();
  });
});

describe('time budget', () => {
  it('records a data source that times out or throws, and stays within the budget', async () => {
    const started = performance.now();
    let aborted = false;
    const s = await snapshot({
      budgetMs: 400,
      dataSources: {
        hangs: (signal) =>
          new Promise(() => {
            signal.addEventListener('abort', () => {
              aborted = true;
            });
          }),
        throws: async () => {
          throw new Error('connection refused');
        },
        slow: { probe: () => new Promise((r) => setTimeout(() => r('late'), 5000)), timeoutMs: 50 },
        works: async () => ({ version: 'v1.2.3', rows: 10n, ratio: Number.NaN }),
      },
    });
    const elapsed = performance.now() - started;
    expect(elapsed).toBeLessThan(1500);
    expect(s.dataSources.hangs?.status).toBe('timeout');
    expect(s.dataSources.hangs?.error).toMatch(/^timed out after (39\d|400) ms$/);
    expect(aborted).toBe(true);
    expect(s.dataSources.slow).toMatchObject({ status: 'timeout', error: 'timed out after 50 ms' });
    expect(s.dataSources.throws).toMatchObject({ status: 'failed', error: 'connection refused' });
    expect(s.dataSources.works).toMatchObject({
      status: 'ok',
      value: { version: 'v1.2.3', rows: '10', ratio: 'NaN' },
    });
  });

  it('rejects nonsense timeouts with a typed error', async () => {
    await expect(snapshot({ timeoutMs: -1 })).rejects.toBeInstanceOf(EnvSnapshotError);
    await expect(snapshot({ budgetMs: Number.NaN })).rejects.toThrow(/options.budgetMs/);
  });
});

describe('model files', () => {
  it('hashes a model file (same as an independent sha256) and records a missing one', async () => {
    const model = join(tmp, 'model.onnx');
    const content = Buffer.alloc(3 * 1024 * 1024 + 17, 7);
    writeFileSync(model, content);
    const s = await snapshot({ models: [model, join(tmp, 'missing.onnx')], modelConfig: { threshold: 0.5 } });
    const [ok, missing] = s.models;
    expect(ok).toMatchObject({
      name: 'model.onnx',
      status: 'ok',
      sizeBytes: content.length,
      sha256: createHash('sha256').update(content).digest('hex'),
    });
    expect(missing).toMatchObject({ name: 'missing.onnx', status: 'missing', sha256: null, sizeBytes: null });
    expect(missing?.error).toMatch(/ENOENT/);
    expect(s.modelConfig).toEqual({ threshold: 0.5 });
  });

  it('records size only when hashing is off', async () => {
    const model = join(tmp, 'small.onnx');
    writeFileSync(model, 'abc');
    const s = await snapshot({ models: [{ path: model, name: 'fraud' }], hashModels: false });
    expect(s.models[0]).toMatchObject({ name: 'fraud', status: 'ok', sizeBytes: 3, sha256: null });
  });
});

describe('fingerprint', () => {
  it('is stable across two snapshots and changes when a model changes', async () => {
    const model = join(tmp, 'fp.onnx');
    writeFileSync(model, 'weights-v1');
    const options = { entryDir: packageDir, nativeAddons: false, models: [model], config: { a: 1 } };
    const first = await snapshot({ ...options, label: 'one' });
    const second = await snapshot({ ...options, label: 'two' });
    expect(second.createdAt >= first.createdAt).toBe(true);
    expect(second.fingerprint).toBe(first.fingerprint);
    writeFileSync(model, 'weights-v2');
    const third = await snapshot(options);
    expect(third.fingerprint).not.toBe(first.fingerprint);
    const fourth = await snapshot({ ...options, config: { a: 2 } });
    expect(fourth.fingerprint).not.toBe(third.fingerprint);
  });
});

describe('secrets', () => {
  const secrets = {
    API_KEY: 'sk-live-4f9a8b7c6d5e4f3a2b1c',
    DB_PASSWORD: 'hunter2-but-longer-9921',
    GITHUB_TOKEN: 'ghp_abcdefghijklmnopqrstuvwxyz012345',
    AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    DATABASE_URL: 'postgres://svc:pa55w0rd-xyz@db.internal:5432/app',
    NOT_ALLOWLISTED_TOKEN: 'tok-never-allowlisted-77123',
  };
  const env = { ...secrets, NODE_ENV: 'production', LANG: 'de_DE.UTF-8' };
  const allow = [
    'NODE_ENV',
    'LANG',
    'API_KEY',
    'DB_PASSWORD',
    'GITHUB_TOKEN',
    'AWS_SECRET_ACCESS_KEY',
    'DATABASE_URL',
  ];
  const config = {
    db: { host: 'db.internal', password: 'cfg-secret-pw-123456' },
    apiKey: 'cfg-api-key-99999',
    max_tokens: 512,
  };

  for (const hashKey of [undefined, 'team-shared-key']) {
    it(`never writes a secret value anywhere (${hashKey ? 'with' : 'without'} an HMAC key)`, async () => {
      const s = await snapshot({
        env,
        envAllow: allow,
        hashKey,
        config,
        dataSources: {
          leaky: async () => ({ dsn: secrets.DATABASE_URL }),
          failing: async () => {
            throw new Error(`auth failed for ${secrets.DB_PASSWORD}`);
          },
        },
      });
      const json = JSON.stringify(s);
      for (const value of [
        ...Object.values(secrets),
        'cfg-secret-pw-123456',
        'cfg-api-key-99999',
        'pa55w0rd-xyz',
      ])
        expect(json).not.toContain(value);
      expect(s.env.vars.NODE_ENV).toEqual({ present: true, value: 'production' });
      expect(s.env.vars.LANG).toEqual({ present: true, value: 'de_DE.UTF-8' });
      expect(s.env.vars.NOT_ALLOWLISTED_TOKEN).toBeUndefined();
      expect(s.dataSources.failing?.error).toBe('auth failed for [redacted]');
      expect((s.config as { max_tokens: number }).max_tokens).toBe(512);
      expect((s.config as { db: { host: string } }).db.host).toBe('db.internal');
      const apiKey = s.env.vars.API_KEY;
      if (hashKey === undefined) {
        expect(apiKey).toEqual({ present: true, secret: true, length: secrets.API_KEY.length });
        expect(s.env.hmacKeyId).toBeNull();
      } else {
        expect(apiKey).toEqual({
          present: true,
          secret: true,
          length: secrets.API_KEY.length,
          hmac: createHmac('sha256', hashKey).update(secrets.API_KEY).digest('hex'),
        });
        expect(s.env.hmacKeyId).toMatch(/^[0-9a-f]{16}$/);
        expect(json).not.toContain(hashKey);
      }
    });
  }
});
