import { describe, expect, it } from 'vitest';
import { diff } from './diff.js';
import { EnvSnapshotError } from './errors.js';
import { parseSnapshot, parseSnapshotJson, safeParseSnapshot } from './parse.js';
import { snapshot } from './snapshot.js';

function errorOf(fn: () => unknown): EnvSnapshotError {
  try {
    fn();
  } catch (error) {
    if (error instanceof EnvSnapshotError) return error;
    throw error;
  }
  throw new Error('expected an EnvSnapshotError');
}

describe('malformed or foreign JSON', async () => {
  const good = await snapshot({ env: { NODE_ENV: 'x' }, envAllow: ['NODE_ENV'] });

  it('text that is not JSON', () => {
    const e = errorOf(() => parseSnapshotJson('{"kind": ', 'snapshot a'));
    expect(e.code).toBe('INVALID_JSON');
    expect(e.message).toMatch(/^snapshot a: not valid JSON \(/);
  });

  it('JSON that is not an object', () => {
    const e = errorOf(() => parseSnapshot([1, 2]));
    expect(e.code).toBe('NOT_A_SNAPSHOT');
    expect(e.message).toBe('snapshot: expected a JSON object (an env snapshot), got an array');
  });

  it('a foreign JSON file (a package.json) names the kind field', () => {
    const e = errorOf(() => parseSnapshot({ name: 'app', version: '1.0.0' }, 'snapshot b'));
    expect(e.code).toBe('NOT_A_SNAPSHOT');
    expect(e.message).toContain('snapshot b: field kind: expected "prodprobe.env-snapshot", got nothing');
  });

  it('a newer format version', () => {
    const e = errorOf(() => parseSnapshot({ ...good, schemaVersion: 2 }));
    expect(e.code).toBe('UNSUPPORTED_VERSION');
    expect(e.message).toContain('field schemaVersion: 2');
  });

  it('a field of the wrong type is named by its path', () => {
    const bad = structuredClone(good) as unknown as { resources: { cpuCount: unknown } };
    bad.resources.cpuCount = 'two';
    const e = errorOf(() => parseSnapshot(bad));
    expect(e.code).toBe('INVALID_SNAPSHOT');
    expect(e.message).toBe(
      'snapshot: field resources.cpuCount: Invalid input: expected number, received string',
    );
  });

  it('a bad value inside a union names the deepest field', () => {
    const bad = structuredClone(good) as unknown as { env: { vars: Record<string, unknown> } };
    bad.env.vars.NODE_ENV = { present: true, value: 42 };
    expect(errorOf(() => parseSnapshot(bad)).message).toBe(
      'snapshot: field env.vars.NODE_ENV.value: Invalid input: expected string, received number',
    );
  });

  it('a missing section', () => {
    const { models: _models, ...rest } = good;
    expect(errorOf(() => parseSnapshot(rest)).message).toContain(
      'field models: Invalid input: expected array',
    );
  });

  it('diff names which side is malformed', () => {
    const bad = { ...good, fingerprint: 'nope' };
    expect(() => diff(good, bad)).toThrow(/^snapshot b: field fingerprint:/);
    expect(() => diff({}, good)).toThrow(/^snapshot a: field kind/);
  });

  it('safeParseSnapshot returns the error instead of throwing', () => {
    const r = safeParseSnapshot('nope');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.code).toBe('NOT_A_SNAPSHOT');
    const ok = safeParseSnapshot(JSON.parse(JSON.stringify(good)));
    expect(ok.ok).toBe(true);
  });
});
