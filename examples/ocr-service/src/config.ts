import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

/**
 * Everything that differs between deployments of the OCR service. Staging and production run the
 * same code; they differ only through one of these files, as real deployments do.
 */
export const configSchema = z.object({
  env: z.string().min(1),
  host: z.string().default('127.0.0.1'),
  port: z.number().int().min(0).max(65535).default(0),
  modelVersion: z.string().min(1).default('ppocr-cls-v2.0'),
  /** The classifier's ONNX file; relative to the config file. */
  modelPath: z.string().min(1),
  /** Captures go to `<dataDir>/captures`, prediction logs to `<dataDir>/logs`; relative to the config file. */
  dataDir: z.string().min(1).default('data'),
  /** The heap limit the process is started with (`node --max-old-space-size`). */
  memoryLimitMb: z.number().int().positive().optional(),
  /** Share of successful predictions logged; failures are always logged. */
  logSampleRate: z.number().min(0).max(1).default(0.1),
  /** Pass each request's pipeline trace (stage times, data sources) to the prediction log. */
  logTrace: z.boolean().default(true),
  /** Where `{ "blob": key }` requests fetch their PNG from. */
  blobStore: z
    .object({
      url: z.url(),
      /** Keep connections to the blob store open between requests. */
      keepAlive: z.boolean().default(false),
      timeoutMs: z.number().int().positive().default(5000),
    })
    .optional(),
  /** Preprocessed tensors kept by image, so a crop sent again skips preprocessing. */
  tensorCache: z
    .object({
      /** A disk tier shared by every process of the deployment (and kept across releases). */
      dir: z.string().min(1).optional(),
      /** Entries kept in memory (0: none). */
      memoryEntries: z.number().int().nonnegative().default(0),
    })
    .default({ memoryEntries: 0 }),
  /**
   * One tensor buffer for every request instead of one per request: saves a 110 KB allocation a
   * request. Safe only while requests never overlap.
   */
  reuseTensorBuffer: z.boolean().default(false),
});

/** A configuration as written in a file. */
export type ConfigInput = z.input<typeof configSchema>;
/** A validated configuration, paths absolute. */
export type Config = z.output<typeof configSchema> & { file: string };

/** The committed staging configuration, used when nothing else is named. */
export const STAGING_CONFIG = fileURLToPath(new URL('../environments/staging.json', import.meta.url));

/** Reads and validates a config file; relative paths resolve against its folder. Throws naming the bad field. */
export function loadConfig(file: string): Config {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (cause) {
    throw new Error(`cannot read config ${file}: ${(cause as Error).message}`, { cause });
  }
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new Error(`invalid config ${file}: ${problems.join('; ')}`);
  }
  const c = parsed.data;
  const base = dirname(resolve(file));
  return {
    ...c,
    file: resolve(file),
    modelPath: resolve(base, c.modelPath),
    dataDir: resolve(base, c.dataDir),
    tensorCache: {
      ...c.tensorCache,
      ...(c.tensorCache.dir ? { dir: resolve(base, c.tensorCache.dir) } : {}),
    },
  };
}
