import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probePackages } from './packages.js';

let root: string;
const write = (file: string, content: string | object) => {
  mkdirSync(dirname(join(root, file)), { recursive: true });
  writeFileSync(join(root, file), typeof content === 'string' ? content : JSON.stringify(content));
};
const link = (target: string, path: string) => {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  symlinkSync(join(root, target), join(root, path), 'dir');
};

// A pnpm layout built by hand: top-level node_modules entries are symlinks into
// node_modules/.pnpm/<name>@<version>/node_modules/<name>, and each package's own dependencies are
// symlinked beside it inside that folder.
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'packages-test-'));
  write('app/package.json', {
    name: 'app',
    version: '1.0.0',
    dependencies: { a: '^1', native: '^2', '@scope/c': '^3' },
    optionalDependencies: { 'not-installed-optional': '^1' },
    devDependencies: { dev: '^1' },
  });
  const pnpm = 'app/node_modules/.pnpm';
  write(`${pnpm}/a@1.0.0/node_modules/a/package.json`, {
    name: 'a',
    version: '1.0.0',
    dependencies: { b: '^2' },
  });
  write(`${pnpm}/b@2.1.0/node_modules/b/package.json`, {
    name: 'b',
    version: '2.1.0',
    dependencies: { missing: '^1' },
  });
  link(`${pnpm}/b@2.1.0/node_modules/b`, `${pnpm}/a@1.0.0/node_modules/b`);
  link(`${pnpm}/a@1.0.0/node_modules/a`, 'app/node_modules/a');
  // A second version of b, required by @scope/c.
  write(`${pnpm}/@scope+c@3.0.0/node_modules/@scope/c/package.json`, {
    name: '@scope/c',
    version: '3.0.0',
    dependencies: { b: '^1' },
  });
  write(`${pnpm}/b@1.9.0/node_modules/b/package.json`, { name: 'b', version: '1.9.0' });
  link(`${pnpm}/b@1.9.0/node_modules/b`, `${pnpm}/@scope+c@3.0.0/node_modules/b`);
  link(`${pnpm}/@scope+c@3.0.0/node_modules/@scope/c`, 'app/node_modules/@scope/c');
  // A native addon: binding.gyp and a compiled .node binary.
  write(`${pnpm}/native@2.0.0/node_modules/native/package.json`, { name: 'native', version: '2.0.0' });
  write(`${pnpm}/native@2.0.0/node_modules/native/binding.gyp`, '{}');
  write(`${pnpm}/native@2.0.0/node_modules/native/build/Release/addon.node`, 'x'.repeat(100));
  link(`${pnpm}/native@2.0.0/node_modules/native`, 'app/node_modules/native');
  write(`${pnpm}/dev@1.0.0/node_modules/dev/package.json`, { name: 'dev', version: '1.0.0' });
  link(`${pnpm}/dev@1.0.0/node_modules/dev`, 'app/node_modules/dev');
  write('app/src/server.js', '');
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('probePackages', () => {
  it('walks what Node resolves from the entry, through pnpm symlinks to real paths', async () => {
    const result = await probePackages(join(root, 'app', 'src'));
    expect(result.root).toMatchObject({ name: 'app', version: '1.0.0' });
    expect(result.list.map((p) => `${p.name}@${p.version}`)).toEqual([
      '@scope/c@3.0.0',
      'a@1.0.0',
      'b@1.9.0',
      'b@2.1.0',
      'native@2.0.0',
    ]);
    expect(result.list.find((p) => p.version === '2.1.0')?.path).toBe(
      'node_modules/.pnpm/b@2.1.0/node_modules/b',
    );
    const native = result.list.find((p) => p.name === 'native');
    expect(native).toMatchObject({
      native: true,
      binaries: [{ file: 'build/Release/addon.node', sizeBytes: 100 }],
    });
    expect(result.list.find((p) => p.name === 'a')?.native).toBe(false);
    // A missing optional dependency is normal (other platforms); a missing required one is not.
    expect(result.unresolved).toEqual([{ name: 'missing', from: 'b' }]);
    expect(result.truncated).toBe(false);
  });

  it('follows dev dependencies only when asked, and extra names given to resolve', async () => {
    const withDev = await probePackages(join(root, 'app'), { includeDev: true });
    expect(withDev.list.map((p) => p.name)).toContain('dev');
    const extra = await probePackages(join(root, 'app'), { resolve: ['dev'] });
    expect(extra.list.map((p) => p.name)).toContain('dev');
  });

  it('stops at maxPackages', async () => {
    const result = await probePackages(join(root, 'app'), { maxPackages: 2 });
    expect(result.truncated).toBe(true);
    expect(result.list.length).toBeLessThanOrEqual(2);
  });
});
