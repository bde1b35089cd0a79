import { stat } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { probeCgroup } from './cgroup.js';
import { EnvSnapshotError } from './errors.js';
import { computeFingerprint } from './fingerprint.js';
import { hashFile } from './hash-file.js';
import { toJsonValue } from './json-value.js';
import { probeDuckdb, probeOnnxruntime } from './native.js';
import { probePackages } from './packages.js';
import { type ProbeOutcome, runProbe } from './probe.js';
import {
  type DataSourceResult,
  type EnvSnapshot,
  type JsonValue,
  type ModelFile,
  type ProbeRecord,
  SNAPSHOT_KIND,
  SNAPSHOT_SCHEMA_VERSION,
} from './schema.js';
import { captureEnv, redactConfig, scrubStrings, secretValues } from './secrets.js';
import {
  probeDisks,
  probeOs,
  probeResources,
  probeRuntime,
  probeUlimits,
  processReport,
  type ReportLike,
} from './system.js';

/** A caller's check of a data source (`(signal) => db.version()`), or one with its own timeout. */
export type DataSourceProbe =
  | ((signal: AbortSignal) => unknown)
  | { probe: (signal: AbortSignal) => unknown; timeoutMs?: number };

/** A model file to hash: a path, or a path with the name it is diffed under. */
export type ModelSpec = string | { path: string; name?: string };

/** Options for {@link snapshot}. Nothing is read from `process.env` or the working directory. */
export interface SnapshotOptions {
  /** A name for this environment (`staging`), shown by `diff`; not part of the fingerprint. */
  label?: string;
  /** The environment to record from (the app passes `process.env`). @default {} */
  env?: Readonly<Record<string, string | undefined>>;
  /** Variable names to record; a trailing `*` matches a prefix. @default DEFAULT_ENV_ALLOW */
  envAllow?: readonly string[];
  /** Key for HMAC-SHA256 of secret values; without it only their presence and length are kept. */
  hashKey?: string | Uint8Array;
  /** Variable names matching this are secrets. @default DEFAULT_SECRET_ENV_PATTERN */
  secretPattern?: RegExp;
  /** The app's directory: packages and native addons are resolved from here. Without it they are skipped. */
  entryDir?: string;
  /** Follow the root package's devDependencies too. @default false */
  includeDevDependencies?: boolean;
  /** Extra module names to resolve from `entryDir` (dynamically loaded ones). @default [] */
  resolve?: readonly string[];
  /** Cap on packages walked. @default 5000 */
  maxPackages?: number;
  /** Load onnxruntime-node and `@duckdb/node-api` (when the app resolves them) to read versions. @default true */
  nativeAddons?: boolean;
  /** Model files to record (size and sha256). @default [] */
  models?: readonly ModelSpec[];
  /** Hash model files (else only their size is recorded). @default true */
  hashModels?: boolean;
  /** The model's configuration (preprocessing, thresholds...), stored as JSON, secrets hidden. */
  modelConfig?: unknown;
  /** The app's configuration, stored as JSON with values under secret-looking keys hidden. */
  config?: unknown;
  /** Caller probes of data sources, run concurrently, each with a timeout. @default {} */
  dataSources?: Readonly<Record<string, DataSourceProbe>>;
  /** Timeout of each built-in probe. @default 2000 */
  timeoutMs?: number;
  /** Timeout of hashing one model file. @default 120000 */
  modelTimeoutMs?: number;
  /** Default timeout of a data-source probe. @default 5000 */
  dataSourceTimeoutMs?: number;
  /** Hard cap for the whole snapshot: no probe runs past it. @default Infinity */
  budgetMs?: number;
  /** Extra directories whose file system's free space to record (the app's and models' are always). @default [] */
  diskPaths?: readonly string[];
  /** Where cgroup file systems are mounted. @default '/sys/fs/cgroup' */
  cgroupRoot?: string;
  /** Where procfs is mounted. @default '/proc' */
  procRoot?: string;
}

function checkTimeout(name: string, value: number | undefined): void {
  if (value !== undefined && !(typeof value === 'number' && value >= 0 && !Number.isNaN(value)))
    throw new EnvSnapshotError(
      'INVALID_OPTIONS',
      `options.${name}: expected a number >= 0, got ${String(value)}`,
    );
}

const skipped: ProbeRecord = { status: 'skipped', durationMs: 0 };

/**
 * Takes a snapshot of the environment this process runs in. Every probe has a timeout and a
 * failure is recorded in `probes` (its section is `null`), so this never rejects because of the
 * environment; it throws `EnvSnapshotError` only for invalid options.
 */
export async function snapshot(options: SnapshotOptions = {}): Promise<EnvSnapshot> {
  checkTimeout('timeoutMs', options.timeoutMs);
  checkTimeout('modelTimeoutMs', options.modelTimeoutMs);
  checkTimeout('dataSourceTimeoutMs', options.dataSourceTimeoutMs);
  checkTimeout('budgetMs', options.budgetMs);
  const started = performance.now();
  const createdAt = new Date().toISOString();
  const budget = options.budgetMs ?? Number.POSITIVE_INFINITY;
  const within = (ms: number) =>
    Math.min(ms, Math.max(0, Math.floor(budget - (performance.now() - started))));
  const timeoutMs = options.timeoutMs ?? 2000;
  const env = options.env ?? {};
  const entryDir = options.entryDir === undefined ? undefined : resolve(options.entryDir);
  const cgroupRoot = options.cgroupRoot ?? '/sys/fs/cgroup';
  const procRoot = options.procRoot ?? '/proc';

  let report: ReportLike | undefined | null = null;
  const getReport = () => {
    if (report === null) report = processReport();
    return report;
  };
  const builtin = <T>(fn: (signal: AbortSignal) => T | Promise<T>) => runProbe(fn, within(timeoutMs));

  // Models: names default to the file name; duplicates get a #n suffix so diff can pair them.
  const specs = (options.models ?? []).map((m) => (typeof m === 'string' ? { path: m } : m));
  const used = new Map<string, number>();
  const models = specs.map((spec) => {
    const base = spec.name ?? basename(spec.path);
    const n = (used.get(base) ?? 0) + 1;
    used.set(base, n);
    return { name: n === 1 ? base : `${base}#${n}`, path: resolve(spec.path) };
  });
  const diskDirs = [
    ...new Set([
      ...(entryDir ? [entryDir] : []),
      ...models.map((m) => dirname(m.path)),
      ...(options.diskPaths ?? []),
    ]),
  ];

  const nativeOn = options.nativeAddons !== false && entryDir !== undefined;
  // Everything starts at once: model hashing and data sources overlap the built-in probes.
  const modelsDone = Promise.all(
    models.map((m) => probeModel(m, options.hashModels !== false, within(options.modelTimeoutMs ?? 120_000))),
  );
  const dataSourcesDone = Promise.all(
    Object.entries(options.dataSources ?? {}).map(
      async ([name, source]): Promise<[string, DataSourceResult]> => {
        const fn = typeof source === 'function' ? source : source.probe;
        const own = typeof source === 'function' ? undefined : source.timeoutMs;
        const outcome = await runProbe(
          async (signal) => toJsonValue(await fn(signal)),
          within(own ?? options.dataSourceTimeoutMs ?? 5000),
        );
        const { status, durationMs, error } = outcome.record;
        const result: DataSourceResult =
          status === 'ok'
            ? { status: 'ok', durationMs, value: outcome.value ?? null }
            : {
                status: status === 'timeout' ? 'timeout' : 'failed',
                durationMs,
                ...(error ? { error } : {}),
              };
        return [name, result];
      },
    ),
  );
  const [runtime, os, resources, cgroup, ulimits, disks, packages, onnxruntime, duckdb] = await Promise.all([
    builtin(() => probeRuntime()),
    builtin(() => probeOs(getReport())),
    builtin(() => probeResources()),
    builtin(() => probeCgroup(cgroupRoot, procRoot)),
    builtin(() => {
      let rep: ReportLike | undefined;
      try {
        rep = getReport();
      } catch {
        rep = undefined;
      }
      return probeUlimits(rep, procRoot);
    }),
    builtin(() => probeDisks(diskDirs)),
    entryDir === undefined
      ? undefined
      : builtin((signal) =>
          probePackages(entryDir, {
            includeDev: options.includeDevDependencies ?? false,
            resolve: options.resolve ?? [],
            maxPackages: options.maxPackages ?? 5000,
            signal,
          }),
        ),
    nativeOn ? builtin(() => probeOnnxruntime(entryDir)) : undefined,
    nativeOn ? builtin(() => probeDuckdb(entryDir)) : undefined,
  ]);

  const [modelFiles, dataSourceResults] = await Promise.all([modelsDone, dataSourcesDone]);

  const probes: Record<string, ProbeRecord> = {};
  const take = <T>(name: string, outcome: ProbeOutcome<T> | undefined): T | null => {
    probes[name] = outcome?.record ?? skipped;
    return outcome?.value ?? null;
  };

  const hidden = new Set<string>();
  const redact = (value: unknown): JsonValue | null =>
    value === undefined ? null : redactConfig(toJsonValue(value), options.hashKey, hidden);

  const body = {
    kind: SNAPSHOT_KIND,
    schemaVersion: SNAPSHOT_SCHEMA_VERSION,
    label: options.label ?? null,
    createdAt,
    durationMs: 0,
    fingerprint: '',
    runtime: take('runtime', runtime),
    os: take('os', os),
    resources: take('resources', resources),
    cgroup: take('cgroup', cgroup),
    ulimits: take('ulimits', ulimits),
    disks: take('disks', disks),
    packages: take('packages', packages),
    native: { onnxruntime: take('native.onnxruntime', onnxruntime), duckdb: take('native.duckdb', duckdb) },
    models: modelFiles,
    modelConfig: redact(options.modelConfig),
    config: redact(options.config),
    env: captureEnv(options.env === undefined ? {} : env, {
      allow: options.env === undefined ? [] : options.envAllow,
      hashKey: options.hashKey,
      secretPattern: options.secretPattern,
    }),
    dataSources: Object.fromEntries(dataSourceResults),
    probes,
  } satisfies EnvSnapshot;

  // Defence in depth: a secret's value may also hide in a flag, an error message or a data-source
  // result; whatever the environment or config marked secret is scrubbed from every string.
  const keyText = typeof options.hashKey === 'string' ? [options.hashKey] : [];
  const clean = scrubStrings(body, [...secretValues(env, options.secretPattern), ...hidden, ...keyText]);
  clean.fingerprint = computeFingerprint(clean);
  clean.durationMs = Math.round((performance.now() - started) * 1000) / 1000;
  return clean;
}

async function probeModel(
  model: { name: string; path: string },
  hash: boolean,
  timeoutMs: number,
): Promise<ModelFile> {
  const outcome = await runProbe<{ sha256: string | null; sizeBytes: number }>(
    (signal) =>
      hash
        ? hashFile(model.path, { signal })
        : stat(model.path).then((s) => ({ sha256: null, sizeBytes: s.size })),
    timeoutMs,
  );
  const { durationMs, error } = outcome.record;
  if (outcome.value)
    return {
      ...model,
      status: 'ok',
      sizeBytes: outcome.value.sizeBytes,
      sha256: outcome.value.sha256,
      durationMs,
    };
  const missing = error?.startsWith('ENOENT') === true;
  return {
    ...model,
    status: outcome.record.status === 'timeout' ? 'timeout' : missing ? 'missing' : 'failed',
    sizeBytes: null,
    sha256: null,
    durationMs,
    ...(error ? { error } : {}),
  };
}
