import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import ts from 'typescript';
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

  it("every package README's TypeScript examples run on the installed packages and print what they say", () => {
    const dir = join(work, 'readme');
    npmInstall(dir, [...tarballs.values()]);
    // The optional peers the examples use, as a user would add them (linked from this workspace).
    const peers = {
      '@duckdb/node-api': join(packagesDir, 'logger', 'node_modules', '@duckdb', 'node-api'),
      'onnxruntime-node': join(packagesDir, 'layers', 'node_modules', 'onnxruntime-node'),
    };
    for (const [name, from] of Object.entries(peers)) {
      mkdirSync(dirname(join(dir, 'node_modules', name)), { recursive: true });
      symlinkSync(realpathSync(from), join(dir, 'node_modules', name), 'dir');
    }
    // Files the examples read, as they would exist in a user's project.
    const fixtures: Record<string, (cwd: string) => void> = {
      'env-snapshot': (cwd) => {
        mkdirSync(join(cwd, 'models'));
        writeFileSync(join(cwd, 'models', 'fraud.onnx'), 'model weights v1');
        const staging = `import { snapshot } from '@prodprobe/env-snapshot';
          import { writeFileSync } from 'node:fs';
          writeFileSync('staging.json', JSON.stringify(await snapshot({ label: 'staging', models: ['./models/fraud.onnx'], config: { batchSize: 16 } })));`;
        writeFileSync(join(cwd, 'staging.mjs'), staging);
        sh('node', ['staging.mjs'], cwd);
      },
      layers: (cwd) =>
        copyFileSync(
          join(
            packagesDir,
            'layers',
            'node_modules',
            '@gutenye',
            'ocr-models',
            'assets',
            'ch_ppocr_mobile_v2.0_cls_infer.onnx',
          ),
          join(cwd, 'model.onnx'),
        ),
    };
    let ran = 0;
    for (const name of names) {
      const blocks = readmeExamples(readFileSync(join(packagesDir, name, 'README.md'), 'utf8'));
      blocks.forEach((code, i) => {
        const cwd = join(dir, 'examples', `${name}-${i + 1}`);
        mkdirSync(cwd, { recursive: true });
        fixtures[name]?.(cwd);
        const js = ts.transpileModule(code, {
          compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
        }).outputText;
        writeFileSync(join(cwd, 'example.mjs'), js);
        const where = `packages/${name}/README.md example ${i + 1}`;
        let stdout: string;
        try {
          stdout = sh('node', ['example.mjs'], cwd);
        } catch (error) {
          const e = error as { stdout?: string; stderr?: string };
          throw new Error(`${where} failed:\n${e.stderr ?? ''}${e.stdout ?? ''}`);
        }
        // Each documented output appears in stdout, in order (whitespace and quotes aside).
        const flat = (text: string) => text.replace(/[\s'"]/g, '');
        const printed = flat(stdout);
        let from = 0;
        for (const expected of documentedOutputs(code)) {
          const at = printed.indexOf(flat(expected), from);
          expect(at, `${where}: expected output ${expected}\nin:\n${stdout}`).toBeGreaterThanOrEqual(0);
          from = at + flat(expected).length;
        }
        ran++;
      });
    }
    expect(ran).toBeGreaterThanOrEqual(6);
  });
});

/** The ```ts blocks of a README, but those right after a `<!-- not run -->` line. */
function readmeExamples(markdown: string): string[] {
  const blocks: string[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] !== '```ts') continue;
    const end = lines.indexOf('```', i + 1);
    let before = i - 1;
    while (before >= 0 && lines[before]!.trim() === '') before--;
    if (!lines[before]?.startsWith('<!-- not run')) blocks.push(lines.slice(i + 1, end).join('\n'));
    i = end;
  }
  return blocks;
}

/**
 * What an example says it prints: the comment after a one-line `console.log(...);`, on the same
 * line or on the comment lines right below it. (Prose comments go above the statement.)
 */
function documentedOutputs(code: string): string[] {
  const out: string[] = [];
  const lines = code.split('\n');
  lines.forEach((line, i) => {
    if (!line.startsWith('console.log(')) return;
    const same = /\);\s*\/\/\s?(.*)$/.exec(line);
    if (same) out.push(same[1]!);
    else if (line.trimEnd().endsWith(');')) {
      const below: string[] = [];
      for (let j = i + 1; j < lines.length && lines[j]!.startsWith('//'); j++) below.push(lines[j]!.slice(2));
      if (below.length > 0) out.push(below.join(' '));
    }
  });
  return out;
}
