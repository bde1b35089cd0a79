import type { Dirent } from 'node:fs';
import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import type { Package, Packages } from './schema.js';

/** Options for {@link probePackages}. */
export interface ProbePackagesOptions {
  /** Also follow the root package's devDependencies. @default false */
  includeDev?: boolean;
  /** Extra module names to resolve from the entry (loaded dynamically, so not in package.json). */
  resolve?: readonly string[];
  /** Stop after this many packages (`truncated: true`). @default 5000 */
  maxPackages?: number;
  signal?: AbortSignal;
}

interface Manifest {
  name?: string;
  version?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  devDependencies?: Record<string, string>;
  gypfile?: boolean;
  binary?: unknown;
}

async function readManifest(dir: string): Promise<Manifest | undefined> {
  try {
    return JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as Manifest;
  } catch {
    return undefined;
  }
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** The nearest directory at or above `dir` holding a package.json. */
async function findPackageRoot(dir: string): Promise<string | undefined> {
  let current = dir;
  for (;;) {
    if (await isFile(join(current, 'package.json'))) return current;
    const parent = dirname(current);
    if (parent === current) return undefined;
    current = parent;
  }
}

/**
 * Resolves a package directory the way Node does for `require(name)` from a file in `fromDir`:
 * `node_modules/<name>` in `fromDir` and each ancestor, symlinks followed to the real path (so
 * pnpm's `node_modules/.pnpm/<name>@<version>/node_modules/<name>` is what comes back).
 */
async function resolvePackageDir(fromDir: string, name: string): Promise<string | undefined> {
  let current = fromDir;
  for (;;) {
    if (!current.endsWith(`${sep}node_modules`)) {
      const candidate = join(current, 'node_modules', name);
      if (await isFile(join(candidate, 'package.json'))) return realpath(candidate);
    }
    const parent = dirname(current);
    if (parent === current) return undefined;
    current = parent;
  }
}

const SKIP_DIRS = new Set([
  'node_modules',
  '.git',
  'src',
  'test',
  'tests',
  'docs',
  'types',
  '@types',
  'include',
  'deps',
]);

/** `*.node` binaries in a package (a few levels deep, outside node_modules), with sizes. */
async function findBinaries(
  dir: string,
  depth = 5,
  budget = { entries: 4000 },
): Promise<Package['binaries']> {
  const found: Package['binaries'] = [];
  const walk = async (current: string, level: number): Promise<void> => {
    let entries: Dirent[];
    try {
      entries = await readdir(current, { withFileTypes: true });
    } catch {
      return;
    }
    budget.entries -= entries.length;
    for (const entry of entries) {
      if (budget.entries < 0) return;
      const full = join(current, entry.name);
      if (entry.isFile() && entry.name.endsWith('.node')) {
        const size = await stat(full).then(
          (s) => s.size,
          () => 0,
        );
        found.push({ file: relative(dir, full).split(sep).join('/'), sizeBytes: size });
      } else if (entry.isDirectory() && level < depth && !SKIP_DIRS.has(entry.name)) {
        await walk(full, level + 1);
      }
    }
  };
  await walk(dir, 0);
  return found.sort((x, y) => (x.file < y.file ? -1 : x.file > y.file ? 1 : 0));
}

async function describe(dir: string, manifest: Manifest, rootDir: string): Promise<Package> {
  const hasGyp = manifest.gypfile === true || (await isFile(join(dir, 'binding.gyp')));
  const hasPrebuilds = await stat(join(dir, 'prebuilds')).then(
    (s) => s.isDirectory(),
    () => false,
  );
  const binaries = await findBinaries(dir);
  return {
    name: manifest.name ?? relative(rootDir, dir),
    version: manifest.version ?? '0.0.0',
    path: relative(rootDir, dir).split(sep).join('/') || '.',
    native: hasGyp || hasPrebuilds || binaries.length > 0,
    binaries,
  };
}

function runtimeDeps(manifest: Manifest, includeDev: boolean): { name: string; optional: boolean }[] {
  const deps = new Map<string, boolean>();
  for (const name of Object.keys(manifest.dependencies ?? {})) deps.set(name, false);
  for (const name of Object.keys(manifest.optionalDependencies ?? {})) deps.set(name, true);
  for (const name of Object.keys(manifest.peerDependencies ?? {}))
    if (!deps.has(name)) deps.set(name, manifest.peerDependenciesMeta?.[name]?.optional === true);
  if (includeDev)
    for (const name of Object.keys(manifest.devDependencies ?? {}))
      if (!deps.has(name)) deps.set(name, false);
  return [...deps].map(([name, optional]) => ({ name, optional }));
}

/**
 * The packages the app actually resolves at run time: starting at the package that holds
 * `entryDir`, each dependency is resolved with Node's node_modules lookup from the real directory
 * of the package that depends on it (which is what makes pnpm's layout come out right), and its
 * own dependencies are followed in turn. Optional dependencies that are not installed (other
 * platforms' binaries) are skipped; required ones that do not resolve are listed as `unresolved`.
 */
export async function probePackages(entryDir: string, options: ProbePackagesOptions = {}): Promise<Packages> {
  const maxPackages = options.maxPackages ?? 5000;
  const rootDir = (await findPackageRoot(entryDir)) ?? entryDir;
  const rootManifest = await readManifest(rootDir);
  const realRoot = await realpath(rootDir);
  const list: Package[] = [];
  const unresolved: Packages['unresolved'] = [];
  const visited = new Set<string>([realRoot]);
  let truncated = false;

  type Job = { fromDir: string; from: string; name: string; optional: boolean };
  let queue: Job[] = [];
  const fromLabel = rootManifest?.name ?? '(root)';
  if (rootManifest) {
    for (const dep of runtimeDeps(rootManifest, options.includeDev ?? false))
      queue.push({ fromDir: realRoot, from: fromLabel, ...dep });
  } else {
    // No package.json: take whatever the entry's node_modules holds.
    const names = await readdir(join(rootDir, 'node_modules')).catch(() => [] as string[]);
    for (const name of names) {
      if (name.startsWith('.')) continue;
      if (name.startsWith('@')) {
        const scoped = await readdir(join(rootDir, 'node_modules', name)).catch(() => [] as string[]);
        for (const s of scoped)
          queue.push({ fromDir: realRoot, from: fromLabel, name: `${name}/${s}`, optional: false });
      } else queue.push({ fromDir: realRoot, from: fromLabel, name, optional: false });
    }
  }
  for (const name of options.resolve ?? [])
    queue.push({ fromDir: realRoot, from: fromLabel, name, optional: false });

  // Breadth first, one level at a time in parallel: fast on big trees, deterministic output.
  while (queue.length > 0 && !truncated) {
    options.signal?.throwIfAborted();
    const level = queue;
    queue = [];
    const resolved = await Promise.all(
      level.map(async (job) => ({ job, dir: await resolvePackageDir(job.fromDir, job.name) })),
    );
    const fresh: { dir: string; job: Job }[] = [];
    for (const { job, dir } of resolved) {
      if (dir === undefined) {
        if (!job.optional) unresolved.push({ name: job.name, from: job.from });
        continue;
      }
      if (visited.has(dir)) continue;
      visited.add(dir);
      if (visited.size - 1 > maxPackages) {
        truncated = true;
        break;
      }
      fresh.push({ dir, job });
    }
    const described = await Promise.all(
      fresh.map(async ({ dir }) => {
        const manifest = (await readManifest(dir)) ?? {};
        return { dir, manifest, pkg: await describe(dir, manifest, realRoot) };
      }),
    );
    for (const { dir, manifest, pkg } of described) {
      list.push(pkg);
      for (const dep of runtimeDeps(manifest, false)) queue.push({ fromDir: dir, from: pkg.name, ...dep });
    }
  }

  list.sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : x.path < y.path ? -1 : 1));
  const seenUnresolved = new Set<string>();
  return {
    entryDir,
    root: rootManifest
      ? { name: rootManifest.name ?? null, version: rootManifest.version ?? null, dir: realRoot }
      : null,
    truncated,
    list,
    unresolved: unresolved
      .filter((u) => {
        const key = `${u.name}\u0000${u.from}`;
        if (seenUnresolved.has(key)) return false;
        seenUnresolved.add(key);
        return true;
      })
      .sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : x.from < y.from ? -1 : 1)),
  };
}
