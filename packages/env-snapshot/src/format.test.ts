import { describe, expect, it } from 'vitest';
import { formatDiffJson, formatDiffMarkdown, formatDiffText, formatSnapshotText } from './format.js';
import { type EnvDiff, EnvDiffSchema } from './schema.js';

const d: EnvDiff = {
  kind: 'prodprobe.env-diff',
  schemaVersion: 1,
  a: { label: 'staging', fingerprint: 'a'.repeat(64), createdAt: '2026-01-01T00:00:00.000Z' },
  b: { label: 'production', fingerprint: 'b'.repeat(64), createdAt: '2026-01-02T00:00:00.000Z' },
  sameFingerprint: false,
  summary: { critical: 1, warning: 1, info: 0 },
  differences: [
    {
      path: 'models["model.onnx"].sha256',
      a: '1'.repeat(64),
      b: '2'.repeat(64),
      category: 'model',
      severity: 'critical',
      message: 'model file content differs (sha256)',
    },
    {
      path: 'config.sep',
      a: '|',
      b: ',',
      category: 'config',
      severity: 'warning',
      message: 'config value changed',
    },
  ],
};

describe('formatters', () => {
  it('text: a header, then one aligned row per difference with the severity styled', () => {
    const text = formatDiffText(d, { style: (sev, t) => `<${sev}>${t}</>` });
    const lines = text.trimEnd().split('\n');
    expect(lines[0]).toBe('env diff: a (staging) aaaaaaaaaaaa vs b (production) bbbbbbbbbbbb');
    expect(lines[1]).toBe('1 critical, 1 warning, 0 info');
    expect(lines[3]).toMatch(/^SEVERITY\s+CATEGORY\s+PATH\s+A\s+B\s+NOTE$/);
    expect(lines[4]).toMatch(/^<critical>critical<\/> {2}model/);
    expect(lines[4]).toContain('1111111111111111111111111111111111111...');
    expect(lines[5]).toMatch(/^<warning>warning <\/> {2}config/);
    // The PATH column starts at the same offset on every row once styling is removed.
    const plain = formatDiffText(d).trimEnd().split('\n').slice(3);
    const col = plain[0]!.indexOf('PATH');
    for (const row of plain.slice(1)) expect(row.slice(col)).toMatch(/^(models|config)/);
  });

  it('text with no differences says so', () => {
    expect(
      formatDiffText({ ...d, differences: [], summary: { critical: 0, warning: 0, info: 0 } }),
    ).toContain('no differences');
  });

  it('markdown escapes pipes inside cells', () => {
    const md = formatDiffMarkdown(d);
    expect(md).toContain('| Severity | Category | Path | A | B | Note |');
    expect(md).toContain('| warning | config | `config.sep` | \\| | , | config value changed |');
  });

  it('json is the EnvDiff schema', () => {
    expect(EnvDiffSchema.parse(JSON.parse(formatDiffJson(d)))).toEqual(d);
  });

  it('snapshot summary lists failed probes', async () => {
    const { snapshot } = await import('./snapshot.js');
    const s = await snapshot({ label: 'x', dataSources: { db: () => Promise.reject(new Error('down')) } });
    s.probes.cgroup = { status: 'failed', durationMs: 1, error: 'EACCES' };
    const text = formatSnapshotText(s);
    expect(text).toMatch(/^env snapshot x {2}fingerprint [0-9a-f]{64}/);
    expect(text).toContain('data       db: failed (down)');
    expect(text).toContain('FAILED     probe cgroup: failed (EACCES)');
  });
});
