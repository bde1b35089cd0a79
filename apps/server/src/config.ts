import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

/**
 * Everything that differs between deployments. Staging and production run the same code; they
 * differ only through one of these files (`environments/<name>.json`), the way real deployments do.
 */
export const serverConfigSchema = z.object({
  schemaVersion: z.literal(1),
  env: z.string().min(1),
  host: z.string().default('127.0.0.1'),
  port: z.number().int().min(0).max(65535).default(0),
  modelVersion: z.string().min(1),
  /** ONNX model file; relative paths resolve against the config file's folder. */
  modelPath: z.string().min(1),
  /** preprocess.json (scaler and categories); relative paths resolve against the config file's folder. */
  preprocessPath: z.string().min(1),
  /** Training profile shipped with the model, for `GET /debug/drift`. */
  trainingProfilePath: z.string().min(1).optional(),
  /**
   * `GET /debug/drift` compares the inputs of the current window of this many minutes and the one
   * before (so the last one to two windows), not everything since the start.
   */
  driftWindowMinutes: z.number().positive().default(15),
  /**
   * Where captures and prediction logs go (`<dataDir>/captures`, `<dataDir>/logs`). Relative to
   * the working directory, not the config file. @default `.prodprobe/<env>`
   */
  dataDir: z.string().min(1).optional(),
  /** Heap limit the service is started with (node --max-old-space-size). */
  memoryLimitMb: z.number().int().positive().optional(),
  /** Share of successful predictions logged; errors are always logged. */
  logSampleRate: z.number().min(0).max(1).default(0.1),
  /**
   * Serialize kept log entries on the logger's worker thread (`serializeInWorker`) instead of in
   * a batch on the event loop. Worth it with a spare core; off by default, since on a 2-vCPU
   * machine shared with the load test's client A/B runs disagree (see the README).
   */
  logSerializeInWorker: z.boolean().default(false),
  /** Turns capture and prediction logging off (the load test's baseline). */
  instrumentation: z.boolean().default(true),
  /** Bearer token for /debug/*; the debug endpoints are off when unset. */
  debugToken: z.string().min(16).optional(),
  bodyLimitBytes: z
    .number()
    .int()
    .positive()
    .default(256 * 1024),
  maxBatch: z.number().int().positive().default(512),
  fraudThreshold: z.number().min(0).max(1).default(0.5),
  /**
   * Recent request history kept for debugging. `maxEntries: null` keeps everything: the
   * "cache that grows forever" misconfiguration production ships with in the demo.
   */
  requestHistory: z
    .object({
      maxEntries: z.number().int().nonnegative().nullable(),
      entryBytes: z.number().int().nonnegative(),
    })
    .default({ maxEntries: 100, entryBytes: 0 }),
  /** Extra environment variables the deployment sets (recorded in env snapshots). */
  envVars: z.record(z.string(), z.string()).default({}),
});

/** A server configuration as written in a file. */
export type ServerConfig = z.infer<typeof serverConfigSchema>;
/** A validated server configuration with absolute paths. */
export type ResolvedServerConfig = ServerConfig & { dataDir: string };

/** Folder of the committed environment configs. */
export const ENVIRONMENTS_DIR = fileURLToPath(new URL('../environments/', import.meta.url));

/** Parses a config object; relative paths resolve against `baseDir`. Throws naming the bad field. */
export function parseServerConfig(raw: unknown, baseDir: string, cwd = process.cwd()): ResolvedServerConfig {
  const parsed = serverConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues
      .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
      .join('; ');
    throw new Error(`invalid server config: ${problems}`);
  }
  const c = parsed.data;
  return {
    ...c,
    modelPath: resolve(baseDir, c.modelPath),
    preprocessPath: resolve(baseDir, c.preprocessPath),
    trainingProfilePath: c.trainingProfilePath ? resolve(baseDir, c.trainingProfilePath) : undefined,
    dataDir: resolve(cwd, c.dataDir ?? `.prodprobe/${c.env}`),
  };
}

/** Loads `environments/<name>.json` (or any config file path). */
export function loadServerConfig(
  nameOrPath: string,
  overrides: Partial<ResolvedServerConfig> = {},
  cwd = process.cwd(),
): ResolvedServerConfig {
  const file = nameOrPath.endsWith('.json')
    ? resolve(nameOrPath)
    : resolve(ENVIRONMENTS_DIR, `${nameOrPath}.json`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (cause) {
    throw new Error(`cannot read server config ${file}: ${(cause as Error).message}`, { cause });
  }
  const config = parseServerConfig(raw, dirname(file), cwd);
  return {
    ...config,
    ...overrides,
    dataDir: overrides.dataDir ? resolve(cwd, overrides.dataDir) : config.dataDir,
  };
}
