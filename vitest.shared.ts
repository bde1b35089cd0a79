import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineProject, type UserWorkspaceConfig } from 'vitest/config';

const root = dirname(fileURLToPath(import.meta.url));

/**
 * Tests import workspace packages by name (`@prodprobe/sanitize`) and get their TypeScript
 * source, so `pnpm --filter <pkg> test` needs no build of the packages it depends on.
 * Each exports-map entry `./x` maps to the source file beside the dist file it names.
 */
function workspaceAliases(): { find: string; replacement: string }[] {
  const aliases: { find: string; replacement: string }[] = [];
  for (const group of ['packages', 'apps']) {
    const groupDir = join(root, group);
    if (!existsSync(groupDir)) continue;
    for (const name of readdirSync(groupDir)) {
      const pkgFile = join(groupDir, name, 'package.json');
      if (!existsSync(pkgFile)) continue;
      const pkg = JSON.parse(readFileSync(pkgFile, 'utf8')) as {
        name: string;
        exports?: Record<string, string | { default?: string }>;
      };
      for (const [subpath, target] of Object.entries(pkg.exports ?? {})) {
        const file = typeof target === 'string' ? target : target.default;
        if (!file?.startsWith('./dist/') || !file.endsWith('.js')) continue;
        const source = file.replace('./dist/', './src/').replace(/\.js$/, '.ts');
        const spec = subpath === '.' ? pkg.name : `${pkg.name}/${subpath.slice(2)}`;
        aliases.push({ find: spec, replacement: resolve(groupDir, name, source) });
      }
    }
  }
  // Longest specifier first so `@prodprobe/logger/query` wins over `@prodprobe/logger`.
  return aliases
    .sort((a, b) => b.find.length - a.find.length)
    .map((a) => ({
      find: new RegExp(`^${a.find.replace(/[/@.-]/g, '\\$&')}$`) as unknown as string,
      replacement: a.replacement,
    }));
}

/** The vitest project config every package and app uses: `defineWorkspaceProject('drift')`. */
export function defineWorkspaceProject(
  name: string,
  extra: UserWorkspaceConfig['test'] = {},
): UserWorkspaceConfig {
  return defineProject({
    resolve: { alias: workspaceAliases() },
    test: {
      name,
      include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
      testTimeout: 60_000,
      hookTimeout: 60_000,
      ...extra,
    },
  });
}
