import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diff, hasDifferencesAtLeast } from './diff.js';
import { computeFingerprint } from './fingerprint.js';
import type { Difference, EnvSnapshot } from './schema.js';
import { snapshot } from './snapshot.js';

const packageDir = dirname(dirname(fileURLToPath(import.meta.url)));
let base: EnvSnapshot;
let tmp: string;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'env-diff-test-'));
  const model = join(tmp, 'model.onnx');
  writeFileSync(model, 'weights');
  base = await snapshot({
    label: 'staging',
    entryDir: packageDir,
    includeDevDependencies: true,
    env: { NODE_ENV: 'production', API_TOKEN: 'tok-123456789', TZ: 'UTC' },
    envAllow: ['NODE_ENV', 'API_TOKEN', 'TZ'],
    hashKey: 'k1',
    models: [model],
    modelConfig: { threshold: 0.5, features: ['amount', 'country'] },
    config: { batchSize: 32, db: { host: 'db1' } },
    dataSources: { db: async () => ({ version: '16.1' }) },
  });
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A deep copy of the real snapshot, changed by `edit`: one side of each rule under test. */
function variant(edit: (s: EnvSnapshot) => void): EnvSnapshot {
  const copy = structuredClone(base);
  copy.label = 'production';
  edit(copy);
  return copy;
}

function only(a: EnvSnapshot, b: EnvSnapshot, includeVolatile = false): Difference {
  const d = diff(a, b, { includeVolatile });
  expect(d.differences, JSON.stringify(d.differences, null, 2)).toHaveLength(1);
  return d.differences[0]!;
}

function pkg(s: EnvSnapshot, name: string) {
  const p = s.packages?.list.find((x) => x.name === name);
  if (!p) throw new Error(`no ${name} in snapshot`);
  return p;
}

describe('diff', () => {
  it('finds nothing between a snapshot and itself', () => {
    const d = diff(
      base,
      variant(() => {}),
    );
    expect(d.differences).toEqual([]);
    expect(d.sameFingerprint).toBe(true);
    expect(d.a.label).toBe('staging');
    expect(d.b.label).toBe('production');
  });

  it('model hash differs: critical', () => {
    const d = only(
      base,
      variant((s) => {
        s.models[0]!.sha256 = 'f'.repeat(64);
      }),
    );
    expect(d).toMatchObject({ path: 'models["model.onnx"].sha256', category: 'model', severity: 'critical' });
  });

  it('model missing on one side: critical', () => {
    const d = only(
      base,
      variant((s) => {
        Object.assign(s.models[0]!, { status: 'missing', sha256: null, sizeBytes: null, error: 'ENOENT' });
      }),
    );
    expect(d).toMatchObject({ category: 'model', severity: 'critical', a: 'ok', b: 'missing' });
  });

  it('package versions: major critical, minor warning, patch info, 0.x minor critical', () => {
    const cases: [string, string, string][] = [
      ['4.6.7', '5.0.0', 'critical'],
      ['4.6.7', '4.7.0', 'warning'],
      ['4.6.7', '4.6.8', 'info'],
    ];
    for (const [from, to, severity] of cases) {
      const a = variant((s) => {
        pkg(s, 'zod').version = from;
      });
      const d = only(
        a,
        variant((s) => {
          pkg(s, 'zod').version = to;
        }),
      );
      expect(d, `${from} -> ${to}`).toMatchObject({
        path: 'packages.zod',
        category: 'package',
        severity,
        a: from,
        b: to,
      });
    }
    const a = variant((s) => {
      pkg(s, 'zod').version = '0.3.1';
    });
    expect(
      only(
        a,
        variant((s) => {
          pkg(s, 'zod').version = '0.4.0';
        }),
      ).severity,
    ).toBe('critical');
  });

  it('packages added and removed are reported', () => {
    const removed = variant((s) => {
      s.packages!.list = s.packages!.list.filter((p) => p.name !== 'zod');
    });
    expect(only(base, removed)).toMatchObject({
      path: 'packages.zod',
      a: '4.6.7',
      b: null,
      message: 'package removed in b',
    });
    expect(only(removed, base)).toMatchObject({
      path: 'packages.zod',
      a: null,
      b: '4.6.7',
      message: 'package added in b',
    });
  });

  it('native addon differs: critical (version, binary, loaded runtime, execution providers)', () => {
    const ortVersion = only(
      base,
      variant((s) => {
        pkg(s, 'onnxruntime-node').version = '1.30.1';
      }),
    );
    expect(ortVersion).toMatchObject({
      path: 'packages["onnxruntime-node"]',
      category: 'native',
      severity: 'critical',
    });

    const binary = only(
      base,
      variant((s) => {
        pkg(s, 'onnxruntime-node').binaries[0]!.sizeBytes += 1;
      }),
    );
    expect(binary).toMatchObject({ category: 'native', severity: 'critical' });

    const providers = diff(
      base,
      variant((s) => {
        const ort = s.native.onnxruntime;
        if (ort?.installed) ort.backends = ort.backends.filter((b) => b.name === 'cpu');
      }),
    );
    expect(providers.differences.length).toBeGreaterThan(0);
    expect(providers.differences.every((d) => d.category === 'native' && d.severity === 'critical')).toBe(
      true,
    );

    const gone = only(
      base,
      variant((s) => {
        s.native.duckdb = { installed: false };
      }),
    );
    expect(gone).toMatchObject({ path: 'native.duckdb.installed', severity: 'critical' });
  });

  it('a probe failed on one side only: critical, and the failed section is not compared field by field', () => {
    const d = only(
      base,
      variant((s) => {
        s.probes.runtime = { status: 'timeout', durationMs: 2000, error: 'timed out after 2000 ms' };
        s.runtime = null;
      }),
    );
    expect(d).toMatchObject({
      path: 'probes.runtime.status',
      category: 'probe-failed',
      severity: 'critical',
      a: 'ok',
      b: 'timeout',
    });
    const ds = only(
      base,
      variant((s) => {
        s.dataSources.db = { status: 'failed', durationMs: 3, error: 'ECONNREFUSED' };
      }),
    );
    expect(ds).toMatchObject({ category: 'probe-failed', severity: 'critical' });
    expect(ds.message).toContain('ECONNREFUSED');
  });

  it('resources: reduced >= 50% critical, 20-50% warning, less or more info', () => {
    const total = base.resources!.totalMemoryBytes;
    const at = (factor: number) =>
      only(
        base,
        variant((s) => {
          s.resources!.totalMemoryBytes = Math.round(total * factor);
        }),
      );
    expect(at(0.5)).toMatchObject({
      path: 'resources.totalMemoryBytes',
      category: 'resources',
      severity: 'critical',
    });
    expect(at(0.7).severity).toBe('warning');
    expect(at(0.8).severity).toBe('warning');
    expect(at(0.9).severity).toBe('info');
    expect(at(2).severity).toBe('info');
  });

  it('cgroup memory: staging 8 GiB, production 4 GiB is critical; no limit compares against total memory', () => {
    const gib = 1024 ** 3;
    const staging = variant((s) => {
      s.resources!.totalMemoryBytes = 32 * gib;
      s.cgroup = { version: 2, path: '/app', memoryLimitBytes: 8 * gib, cpuLimitCores: 2 };
    });
    const production = variant((s) => {
      s.resources!.totalMemoryBytes = 32 * gib;
      s.cgroup = { version: 2, path: '/app', memoryLimitBytes: 4 * gib, cpuLimitCores: 2 };
    });
    const d = only(staging, production);
    expect(d).toMatchObject({
      path: 'cgroup.memoryLimitBytes',
      severity: 'critical',
      a: 8 * gib,
      b: 4 * gib,
    });
    expect(d.message).toContain('50%');
    const unlimited = variant((s) => {
      s.resources!.totalMemoryBytes = 32 * gib;
      s.cgroup = { version: 2, path: '/app', memoryLimitBytes: null, cpuLimitCores: 2 };
    });
    expect(only(unlimited, production)).toMatchObject({ severity: 'critical', a: null, b: 4 * gib });
    expect(only(production, unlimited).severity).toBe('info');
  });

  it('ulimits: open files unlimited -> 1024 is critical', () => {
    const a = variant((s) => {
      s.ulimits = { open_files: { soft: 'unlimited', hard: 'unlimited' } };
    });
    const b = variant((s) => {
      s.ulimits = { open_files: { soft: 1024, hard: 'unlimited' } };
    });
    expect(only(a, b)).toMatchObject({ path: 'ulimits.open_files.soft', severity: 'critical' });
  });

  it('config value changed: warning; model config too', () => {
    expect(
      only(
        base,
        variant((s) => {
          s.config = { batchSize: 64, db: { host: 'db1' } };
        }),
      ),
    ).toMatchObject({ path: 'config.batchSize', category: 'config', severity: 'warning', a: 32, b: 64 });
    expect(
      only(
        base,
        variant((s) => {
          s.modelConfig = { threshold: 0.7, features: ['amount', 'country'] };
        }),
      ),
    ).toMatchObject({ path: 'modelConfig.threshold', category: 'model', severity: 'warning' });
  });

  it('lists descend to the differing entry: named entries by name (any order), others by index', () => {
    const scalers = (ageStd: number, order: string[]) =>
      order.map((name) => ({ name, mean: 10, std: name === 'age' ? ageStd : 2 }));
    const withConfig = (numeric: { name: string; mean: number; std: number }[], features: string[]) =>
      variant((s) => {
        s.modelConfig = { threshold: 0.5, features, numeric };
      });
    const a = withConfig(scalers(12.5, ['amount', 'age']), ['amount', 'country']);
    const b = withConfig(scalers(0, ['age', 'amount', 'hour']), ['amount', 'region']);
    const paths = diff(a, b).differences.map((d) => [d.path, d.a, d.b]);
    expect(paths).toEqual(
      expect.arrayContaining([
        ['modelConfig.numeric[name=age].std', 12.5, 0],
        ['modelConfig.numeric[name=hour]', null, { name: 'hour', mean: 10, std: 2 }],
        ['modelConfig.features[1]', 'country', 'region'],
      ]),
    );
    // amount moved position but did not change: not a difference.
    expect(paths.some(([p]) => String(p).includes('amount'))).toBe(false);
    expect(paths).toHaveLength(3);
  });

  it('timezone and locale changed: warning; Node patch: info; Node major and ABI: critical', () => {
    expect(
      only(
        base,
        variant((s) => {
          s.runtime!.timezone = 'Europe/Paris';
        }),
      ),
    ).toMatchObject({ path: 'runtime.timezone', severity: 'warning' });
    expect(
      only(
        base,
        variant((s) => {
          s.runtime!.locale = 'de-DE';
        }),
      ),
    ).toMatchObject({ path: 'runtime.locale', severity: 'warning' });
    const [maj, min, pat] = base.runtime!.node.split('.').map(Number) as [number, number, number];
    expect(
      only(
        base,
        variant((s) => {
          s.runtime!.node = `${maj}.${min}.${pat + 1}`;
        }),
      ).severity,
    ).toBe('info');
    const major = diff(
      base,
      variant((s) => {
        s.runtime!.node = `${maj + 2}.0.0`;
        s.runtime!.modules = '127';
      }),
    );
    expect(major.differences.map((d) => [d.path, d.severity])).toEqual([
      ['runtime.modules', 'critical'],
      ['runtime.node', 'critical'],
    ]);
  });

  it('env: value changed is a warning; a secret changed shows only through its hmac', () => {
    expect(
      only(
        base,
        variant((s) => {
          s.env.vars.NODE_ENV = { present: true, value: 'staging' };
        }),
      ),
    ).toMatchObject({ path: 'env.NODE_ENV', category: 'env', severity: 'warning' });
    const changed = only(
      base,
      variant((s) => {
        s.env.vars.API_TOKEN = { present: true, secret: true, length: 13, hmac: 'a'.repeat(64) };
      }),
    );
    expect(changed).toMatchObject({
      path: 'env.API_TOKEN',
      severity: 'warning',
      message: 'secret value changed (hmac differs)',
    });
    expect(JSON.stringify(changed)).not.toContain('tok-123456789');
    const otherKey = only(
      base,
      variant((s) => {
        s.env.hmacKeyId = '0123456789abcdef';
        s.env.vars.API_TOKEN = { present: true, secret: true, length: 13, hmac: 'a'.repeat(64) };
      }),
    );
    expect(otherKey.severity).toBe('info');
    expect(
      only(
        base,
        variant((s) => {
          s.env.vars.NODE_ENV = { present: false };
        }),
      ),
    ).toMatchObject({ severity: 'warning', b: null });
  });

  it('volatile fields are ignored unless asked, then info', () => {
    const later = variant((s) => {
      s.runtime!.uptimeSeconds += 100;
      s.resources!.freeMemoryBytes = Math.round(s.resources!.freeMemoryBytes / 10);
      s.os!.hostname = 'prod-replica-7';
      s.probes.runtime!.durationMs += 5;
      s.createdAt = new Date(0).toISOString();
    });
    expect(diff(base, later).differences).toEqual([]);
    const withVolatile = diff(base, later, { includeVolatile: true }).differences;
    expect(withVolatile.map((d) => d.path).sort()).toEqual([
      'os.hostname',
      'probes.runtime.durationMs',
      'resources.freeMemoryBytes',
      'runtime.uptimeSeconds',
    ]);
    expect(withVolatile.every((d) => d.severity === 'info')).toBe(true);
  });

  it('sorts critical first and counts each severity', () => {
    const b = variant((s) => {
      s.runtime!.numberFormatSample = '1.234.567,891';
      s.models[0]!.sha256 = '0'.repeat(64);
      s.os!.release = '5.15.0';
      s.fingerprint = computeFingerprint(s);
    });
    const d = diff(base, b);
    expect(d.differences.map((x) => x.severity)).toEqual(['critical', 'warning', 'info']);
    expect(d.summary).toEqual({ critical: 1, warning: 1, info: 1 });
    expect(d.sameFingerprint).toBe(false);
    expect(hasDifferencesAtLeast(d, 'critical')).toBe(true);
    expect(
      hasDifferencesAtLeast(
        diff(
          base,
          variant((s) => {
            s.os!.release = 'x';
          }),
        ),
        'warning',
      ),
    ).toBe(false);
  });
});
