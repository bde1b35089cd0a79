import { z } from 'zod';

/** The snapshot format version this package writes and reads. */
export const SNAPSHOT_SCHEMA_VERSION = 1;
/** The `kind` tag that tells an env snapshot apart from any other JSON file. */
export const SNAPSHOT_KIND = 'prodprobe.env-snapshot';

/** Any JSON value (caller config, data-source results). */
export const JsonValueSchema = z.json();
/** Any JSON value. */
export type JsonValue = z.infer<typeof JsonValueSchema>;

/** How one probe (a section of the snapshot) went. */
export const ProbeRecordSchema = z.object({
  /** `skipped`: the caller gave nothing to probe (no `entryDir`, native addons turned off). */
  status: z.enum(['ok', 'failed', 'timeout', 'skipped']),
  durationMs: z.number().nonnegative(),
  error: z.string().optional(),
});
/** How one probe (a section of the snapshot) went; a failed section is `null` in the snapshot. */
export type ProbeRecord = z.infer<typeof ProbeRecordSchema>;

/** The JavaScript runtime: versions, flags, timezone and locale. */
export const RuntimeSchema = z.object({
  node: z.string(),
  v8: z.string(),
  /** Native ABI version (`process.versions.modules`): a native addon built for another ABI fails to load. */
  modules: z.string(),
  napi: z.string().nullable(),
  uv: z.string().nullable(),
  openssl: z.string().nullable(),
  icu: z.string().nullable(),
  unicode: z.string().nullable(),
  tzData: z.string().nullable(),
  execArgv: z.array(z.string()),
  timezone: z.string(),
  utcOffsetMinutes: z.number(),
  locale: z.string(),
  /** `(1234567.891).toLocaleString()`: shows at a glance how this locale formats numbers. */
  numberFormatSample: z.string(),
  uptimeSeconds: z.number(),
});
/** The JavaScript runtime: versions, flags, timezone and locale. */
export type Runtime = z.infer<typeof RuntimeSchema>;

/** The operating system and C library. */
export const OsSchema = z.object({
  platform: z.string(),
  arch: z.string(),
  type: z.string(),
  release: z.string(),
  version: z.string(),
  machine: z.string(),
  libc: z.enum(['glibc', 'musl', 'unknown', 'none']),
  glibcVersionRuntime: z.string().nullable(),
  glibcVersionCompiler: z.string().nullable(),
  hostname: z.string(),
});
/** The operating system and C library. */
export type Os = z.infer<typeof OsSchema>;

/** CPU and memory as the OS and V8 report them. */
export const ResourcesSchema = z.object({
  cpuCount: z.number().int().nonnegative(),
  availableParallelism: z.number().int().nonnegative(),
  cpuModel: z.string(),
  totalMemoryBytes: z.number().nonnegative(),
  freeMemoryBytes: z.number().nonnegative(),
  /** V8 heap limit (`--max-old-space-size`): often the real memory ceiling of a Node service. */
  heapLimitBytes: z.number().nonnegative(),
});
/** CPU and memory as the OS and V8 report them. */
export type Resources = z.infer<typeof ResourcesSchema>;

/** Container limits from cgroup v1 or v2; `null` limits mean unlimited. */
export const CgroupSchema = z.object({
  version: z.union([z.literal(1), z.literal(2)]).nullable(),
  path: z.string().nullable(),
  memoryLimitBytes: z.number().nullable(),
  cpuLimitCores: z.number().nullable(),
});
/** Container limits from cgroup v1 or v2; `null` limits mean unlimited. */
export type Cgroup = z.infer<typeof CgroupSchema>;

const UlimitValueSchema = z.union([z.number(), z.literal('unlimited')]);
/** Soft and hard value of each resource limit (`ulimit`). */
export const UlimitsSchema = z.record(
  z.string(),
  z.object({ soft: UlimitValueSchema, hard: UlimitValueSchema }),
);
/** Soft and hard value of each resource limit (`ulimit`). */
export type Ulimits = z.infer<typeof UlimitsSchema>;

/** Space on the file system holding a directory (the model's, the app's). */
export const DiskSchema = z.object({
  path: z.string(),
  totalBytes: z.number().nullable(),
  freeBytes: z.number().nullable(),
  error: z.string().optional(),
});
/** Space on the file system holding a directory (the model's, the app's). */
export type Disk = z.infer<typeof DiskSchema>;

/** One package as Node resolves it at run time. */
export const PackageSchema = z.object({
  name: z.string(),
  version: z.string(),
  /** Real path relative to the root package's directory, POSIX separators. */
  path: z.string(),
  native: z.boolean(),
  /** Native binaries (`*.node`) shipped in the package, with sizes. */
  binaries: z.array(z.object({ file: z.string(), sizeBytes: z.number() })),
});
/** One package as Node resolves it at run time. */
export type Package = z.infer<typeof PackageSchema>;

/** The resolved dependency graph of the app, walked from its entry directory. */
export const PackagesSchema = z.object({
  entryDir: z.string(),
  root: z.object({ name: z.string().nullable(), version: z.string().nullable(), dir: z.string() }).nullable(),
  truncated: z.boolean(),
  list: z.array(PackageSchema),
  unresolved: z.array(z.object({ name: z.string(), from: z.string() })),
});
/** The resolved dependency graph of the app, walked from its entry directory. */
export type Packages = z.infer<typeof PackagesSchema>;

/** onnxruntime-node as loaded: versions (`ort.env.versions`) and execution providers. */
export const OnnxruntimeInfoSchema = z.union([
  z.object({ installed: z.literal(false) }),
  z.object({
    installed: z.literal(true),
    packageVersion: z.string().nullable(),
    path: z.string(),
    versions: z.record(z.string(), z.string()),
    backends: z.array(z.object({ name: z.string(), bundled: z.boolean() })),
  }),
]);
/** onnxruntime-node as loaded: versions (`ort.env.versions`) and execution providers. */
export type OnnxruntimeInfo = z.infer<typeof OnnxruntimeInfoSchema>;

/** DuckDB (`@duckdb/node-api`) as loaded: the engine version. */
export const DuckdbInfoSchema = z.union([
  z.object({ installed: z.literal(false) }),
  z.object({
    installed: z.literal(true),
    packageVersion: z.string().nullable(),
    path: z.string(),
    version: z.string(),
  }),
]);
/** DuckDB (`@duckdb/node-api`) as loaded: the engine version. */
export type DuckdbInfo = z.infer<typeof DuckdbInfoSchema>;

/** One model file: size and streamed sha256, or why it could not be read. */
export const ModelFileSchema = z.object({
  name: z.string(),
  path: z.string(),
  status: z.enum(['ok', 'missing', 'failed', 'timeout']),
  sizeBytes: z.number().nullable(),
  sha256: z.string().nullable(),
  durationMs: z.number().nonnegative(),
  error: z.string().optional(),
});
/** One model file: size and streamed sha256, or why it could not be read. */
export type ModelFile = z.infer<typeof ModelFileSchema>;

/**
 * One allowlisted environment variable. A secret-looking one is never stored as its value: only
 * presence, length and (when a key was given) an HMAC-SHA256, so a change shows and the value does not.
 */
export const EnvVarSchema = z.union([
  z.object({ present: z.literal(false) }).strict(),
  z.object({ present: z.literal(true), value: z.string() }).strict(),
  z
    .object({
      present: z.literal(true),
      secret: z.literal(true),
      length: z.number().int().nonnegative(),
      hmac: z.string().optional(),
    })
    .strict(),
]);
/**
 * One allowlisted environment variable. A secret-looking one is never stored as its value: only
 * presence, length and (when a key was given) an HMAC-SHA256, so a change shows and the value does not.
 */
export type EnvVar = z.infer<typeof EnvVarSchema>;

/** Environment variables by allowlist, plus an id of the HMAC key (not the key) so hashes are comparable. */
export const EnvSectionSchema = z.object({
  hmacKeyId: z.string().nullable(),
  vars: z.record(z.string(), EnvVarSchema),
});
/** Environment variables by allowlist, plus an id of the HMAC key (not the key) so hashes are comparable. */
export type EnvSection = z.infer<typeof EnvSectionSchema>;

/** The result of one caller-supplied data-source probe. */
export const DataSourceResultSchema = z.object({
  status: z.enum(['ok', 'failed', 'timeout']),
  durationMs: z.number().nonnegative(),
  value: JsonValueSchema.optional(),
  error: z.string().optional(),
});
/** The result of one caller-supplied data-source probe. */
export type DataSourceResult = z.infer<typeof DataSourceResultSchema>;

/** Everything about one environment that can make a model behave differently. */
export const EnvSnapshotSchema = z.object({
  kind: z.literal(SNAPSHOT_KIND),
  schemaVersion: z.literal(SNAPSHOT_SCHEMA_VERSION),
  label: z.string().nullable(),
  createdAt: z.string(),
  durationMs: z.number().nonnegative(),
  /** sha256 over the content minus volatile fields: equal environments share it. */
  fingerprint: z.string().regex(/^[0-9a-f]{64}$/),
  runtime: RuntimeSchema.nullable(),
  os: OsSchema.nullable(),
  resources: ResourcesSchema.nullable(),
  cgroup: CgroupSchema.nullable(),
  ulimits: UlimitsSchema.nullable(),
  disks: z.array(DiskSchema).nullable(),
  packages: PackagesSchema.nullable(),
  native: z.object({
    onnxruntime: OnnxruntimeInfoSchema.nullable(),
    duckdb: DuckdbInfoSchema.nullable(),
  }),
  models: z.array(ModelFileSchema),
  modelConfig: JsonValueSchema.nullable(),
  config: JsonValueSchema.nullable(),
  env: EnvSectionSchema,
  dataSources: z.record(z.string(), DataSourceResultSchema),
  probes: z.record(z.string(), ProbeRecordSchema),
});
/** Everything about one environment that can make a model behave differently. */
export type EnvSnapshot = z.infer<typeof EnvSnapshotSchema>;

/** Where a difference belongs. */
export const DifferenceCategorySchema = z.enum([
  'runtime',
  'os',
  'resources',
  'package',
  'native',
  'model',
  'config',
  'env',
  'data-source',
  'probe-failed',
]);
/** Where a difference belongs. */
export type DifferenceCategory = z.infer<typeof DifferenceCategorySchema>;

/** How much a difference is likely to matter. */
export const SeveritySchema = z.enum(['critical', 'warning', 'info']);
/** How much a difference is likely to matter. */
export type Severity = z.infer<typeof SeveritySchema>;

/** One difference between two snapshots; `a`/`b` are `null` where the side has no value. */
export const DifferenceSchema = z.object({
  path: z.string(),
  a: JsonValueSchema,
  b: JsonValueSchema,
  category: DifferenceCategorySchema,
  severity: SeveritySchema,
  message: z.string(),
});
/** One difference between two snapshots; `a`/`b` are `null` where the side has no value. */
export type Difference = z.infer<typeof DifferenceSchema>;

/** The result of `diff(a, b)`: differences sorted critical first. */
export const EnvDiffSchema = z.object({
  kind: z.literal('prodprobe.env-diff'),
  schemaVersion: z.literal(SNAPSHOT_SCHEMA_VERSION),
  a: z.object({ label: z.string().nullable(), fingerprint: z.string(), createdAt: z.string() }),
  b: z.object({ label: z.string().nullable(), fingerprint: z.string(), createdAt: z.string() }),
  sameFingerprint: z.boolean(),
  summary: z.object({ critical: z.number(), warning: z.number(), info: z.number() }),
  differences: z.array(DifferenceSchema),
});
/** The result of `diff(a, b)`. */
export type EnvDiff = z.infer<typeof EnvDiffSchema>;
