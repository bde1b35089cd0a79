import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// What a user installs is what we test: build and pack every publishable package, install the
// tarballs with npm into an empty folder, and import each one.
const root = resolve(import.meta.dirname, '..');
const packagesDir = join(root, 'packages');
const names = readdirSync(packagesDir).filter((n) => existsSync(join(packagesDir, n, 'package.json')));
const work = mkdtempSync(join(tmpdir(), 'prodprobe-pack-'));
const tarballs = new Map<string, string>();

const sh = (cmd: string, args: string[], cwd: string) =>
  execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 240_000 });

function npmInstall(dir: string, files: string[]) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: 'pack-check', private: true, type: 'module' }),
  );
  // Peer dependencies (onnxruntime-node, DuckDB) are the user's choice: don't let npm add them.
  sh('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts', '--legacy-peer-deps', ...files], dir);
}

beforeAll(() => {
  for (const name of names) {
    const dir = join(packagesDir, name);
    if (!existsSync(join(dir, 'dist', 'index.js'))) sh('pnpm', ['run', 'build'], dir);
    // pnpm pack rewrites workspace:^ ranges to the real versions, as publishing does.
    const out = sh('pnpm', ['pack', '--pack-destination', work, '--json'], dir);
    const { filename } = JSON.parse(out) as { filename: string };
    tarballs.set(name, resolve(work, filename));
  }
});

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('pack test', () => {
  it('every package installs from its tarball and imports with named exports', () => {
    const dir = join(work, 'all');
    npmInstall(dir, [...tarballs.values()]);
    for (const name of names) {
      const keys = JSON.parse(
        sh(
          'node',
          [
            '--input-type=module',
            '-e',
            `const m = await import('@prodprobe/${name}'); console.log(JSON.stringify(Object.keys(m)))`,
          ],
          dir,
        ),
      ) as string[];
      expect(keys.length, `@prodprobe/${name} exports`).toBeGreaterThan(0);
      const manifest = JSON.parse(
        readFileSync(join(dir, 'node_modules', '@prodprobe', name, 'package.json'), 'utf8'),
      );
      expect(JSON.stringify(manifest), `@prodprobe/${name} manifest`).not.toContain('workspace:');
      const files = readdirSync(join(dir, 'node_modules', '@prodprobe', name));
      expect(files.sort(), `@prodprobe/${name} ships only dist`).toEqual(
        files
          .filter((f) => ['dist', 'package.json', 'README.md', 'CHANGELOG.md', 'LICENSE'].includes(f))
          .sort(),
      );
    }
  });

  it('@prodprobe/drift alone brings no production dependency but zod and simple-statistics', () => {
    const drift = tarballs.get('drift');
    expect(drift).toBeDefined();
    const dir = join(work, 'drift-only');
    npmInstall(dir, [drift!]);
    const installed = readdirSync(join(dir, 'node_modules'))
      .filter((n) => !n.startsWith('.'))
      .flatMap((n) =>
        n.startsWith('@') ? readdirSync(join(dir, 'node_modules', n)).map((s) => `${n}/${s}`) : [n],
      );
    const allowed = ['@prodprobe/drift', 'simple-statistics', 'zod'];
    expect(installed).toContain('@prodprobe/drift');
    expect(installed.filter((n) => !allowed.includes(n))).toEqual([]);
    const out = sh(
      'node',
      [
        '--input-type=module',
        '-e',
        "const m = await import('@prodprobe/drift'); console.log(typeof m.compare)",
      ],
      dir,
    );
    expect(out.trim()).toBe('function');
  });
});
