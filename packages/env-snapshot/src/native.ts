import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { DuckdbInfo, OnnxruntimeInfo } from './schema.js';

/** Resolves `name` as the app at `entryDir` would, or `undefined` when it is not installed there. */
function resolveFrom(entryDir: string, name: string): string | undefined {
  try {
    return createRequire(join(entryDir, '__prodprobe_env_snapshot__.js')).resolve(name);
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'MODULE_NOT_FOUND' || code === 'ERR_PACKAGE_PATH_NOT_EXPORTED') return undefined;
    throw error;
  }
}

/** The package.json above a resolved entry file whose name is `name`. */
async function packageInfo(file: string, name: string): Promise<{ dir: string; version: string | null }> {
  let dir = dirname(file);
  for (;;) {
    try {
      const manifest = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (manifest.name === name) return { dir, version: manifest.version ?? null };
    } catch {
      // no package.json at this level
    }
    const parent = dirname(dir);
    if (parent === dir) return { dir: dirname(file), version: null };
    dir = parent;
  }
}

type Loaded = Record<string, unknown> & { default?: Record<string, unknown> };

/**
 * Loads a module by file path. Node caches modules by resolved path, so when the app already
 * loaded the package this returns the very instance (and native binary) the app is using.
 */
async function load(file: string): Promise<Loaded> {
  return (await import(pathToFileURL(file).href)) as Loaded;
}

function pick<T>(mod: Loaded, key: string): T | undefined {
  return (mod[key] ?? mod.default?.[key]) as T | undefined;
}

/**
 * onnxruntime-node as the app resolves it: `ort.env.versions` (the loaded binding's version) and
 * `listSupportedBackends()` (the execution providers this build offers). `{ installed: false }`
 * when the app cannot resolve it; loading errors throw (the probe records them).
 */
export async function probeOnnxruntime(entryDir: string): Promise<OnnxruntimeInfo> {
  const file = resolveFrom(entryDir, 'onnxruntime-node');
  if (file === undefined) return { installed: false };
  const mod = await load(file);
  const info = await packageInfo(file, 'onnxruntime-node');
  const env = pick<{ versions?: Record<string, unknown> }>(mod, 'env');
  const versions: Record<string, string> = {};
  for (const [k, v] of Object.entries(env?.versions ?? {})) if (typeof v === 'string') versions[k] = v;
  const list = pick<() => unknown>(mod, 'listSupportedBackends');
  const raw = typeof list === 'function' ? list() : [];
  const backends = (Array.isArray(raw) ? raw : [])
    .map((b) =>
      typeof b === 'string'
        ? { name: b, bundled: true }
        : {
            name: String((b as { name?: unknown }).name),
            bundled: (b as { bundled?: unknown }).bundled === true,
          },
    )
    .sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
  return { installed: true, packageVersion: info.version, path: info.dir, versions, backends };
}

/**
 * DuckDB (`@duckdb/node-api`) as the app resolves it: the engine's `version()`.
 * `{ installed: false }` when the app cannot resolve it.
 */
export async function probeDuckdb(entryDir: string): Promise<DuckdbInfo> {
  const file = resolveFrom(entryDir, '@duckdb/node-api');
  if (file === undefined) return { installed: false };
  const mod = await load(file);
  const info = await packageInfo(file, '@duckdb/node-api');
  const version = pick<() => unknown>(mod, 'version');
  if (typeof version !== 'function') throw new Error('@duckdb/node-api has no version() export');
  return { installed: true, packageVersion: info.version, path: info.dir, version: String(version()) };
}
