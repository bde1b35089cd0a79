export { type DiffOptions, diff, hasDifferencesAtLeast } from './diff.js';
export { EnvSnapshotError, type EnvSnapshotErrorCode } from './errors.js';
export { computeFingerprint, isVolatilePath, META_FIELDS, VOLATILE_PATHS } from './fingerprint.js';
export {
  type FormatTextOptions,
  formatDiffJson,
  formatDiffMarkdown,
  formatDiffText,
  formatSnapshotText,
} from './format.js';
export { type HashFileOptions, hashFile } from './hash-file.js';
export { parseSnapshot, parseSnapshotJson, type SafeResult, safeParseSnapshot } from './parse.js';
export {
  type Cgroup,
  CgroupSchema,
  type DataSourceResult,
  DataSourceResultSchema,
  type Difference,
  type DifferenceCategory,
  DifferenceCategorySchema,
  DifferenceSchema,
  type Disk,
  DiskSchema,
  type DuckdbInfo,
  DuckdbInfoSchema,
  type EnvDiff,
  EnvDiffSchema,
  type EnvSection,
  EnvSectionSchema,
  type EnvSnapshot,
  EnvSnapshotSchema,
  type EnvVar,
  EnvVarSchema,
  type JsonValue,
  JsonValueSchema,
  type ModelFile,
  ModelFileSchema,
  type OnnxruntimeInfo,
  OnnxruntimeInfoSchema,
  type Os,
  OsSchema,
  type Package,
  PackageSchema,
  type Packages,
  PackagesSchema,
  type ProbeRecord,
  ProbeRecordSchema,
  type Resources,
  ResourcesSchema,
  type Runtime,
  RuntimeSchema,
  type Severity,
  SeveritySchema,
  SNAPSHOT_KIND,
  SNAPSHOT_SCHEMA_VERSION,
  type Ulimits,
  UlimitsSchema,
} from './schema.js';
export {
  DEFAULT_ENV_ALLOW,
  DEFAULT_SECRET_ENV_PATTERN,
  isSecretConfigKey,
  isSecretEnvName,
} from './secrets.js';
export { type DataSourceProbe, type ModelSpec, type SnapshotOptions, snapshot } from './snapshot.js';
export { type VersionChange, versionChange } from './version.js';
