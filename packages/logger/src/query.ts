import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { LoggerError } from './errors.js';
import { listSegments, type SegmentScan, scanSegments } from './read.js';

/**
 * SQL over prediction log segments with DuckDB (`@duckdb/node-api`, an optional peer dependency
 * imported only by this subpath). DuckDB reads the JSONL files directly with a declared schema;
 * torn and invalid lines are skipped (`ignore_errors`), never fail a query.
 *
 * Views defined on every connection:
 * - `predictions`: one row per entry. Columns: timestamp (TIMESTAMPTZ, UTC), requestId,
 *   modelVersion, inputHash, ok, errorName, errorMessage, latencyMs (DOUBLE, NaN kept),
 *   samplingWeight, keptBy, host, pid, rss, heapUsed, heapLimit, handles, fds, envFingerprint,
 *   stages (MAP(VARCHAR, DOUBLE): ms per pipeline stage), sources (LIST of STRUCT(name, stage,
 *   version, asOf, hit, ms)), failedStage, fieldCount, nullCount,
 *   nanCount, infCount, numeric (MAP(VARCHAR, DOUBLE), NaN/±Inf kept), stringLengths and
 *   arraySizes (MAP(VARCHAR, BIGINT)), statsTruncated, input, output, metadata (JSON in the
 *   lossless encoding), dt, hour (hive partitions);
 * - `input_values`: one row per numeric input field: requestId, timestamp, modelVersion, ok,
 *   errorName, samplingWeight, path, value;
 * - `stage_times`: one row per pipeline stage of an entry: requestId, timestamp, ok, samplingWeight,
 *   latencyMs, host, pid, stage, ms;
 * - `source_reads`: one row per data source an entry read: requestId, timestamp, ok, errorName,
 *   errorMessage, samplingWeight, latencyMs, name, stage, version, asOf, hit, ms;
 * - `gaps`: one row per gap marker: timestamp, host, pid, dropped, firstDroppedAt, lastDroppedAt;
 * - `log_lines`: the raw lines as declared (torn lines appear as all-NULL rows).
 * And a macro `pp_double(json)` turning a lossless-encoded JSON number (`{"$pp":"NaN"}` too) into a DOUBLE.
 */

/** The declared schema of a segment line (`read_json(columns=...)`). */
const COLUMNS: Record<string, string> = {
  schemaVersion: 'INTEGER',
  kind: 'VARCHAR',
  timestamp: 'TIMESTAMPTZ',
  requestId: 'VARCHAR',
  modelVersion: 'VARCHAR',
  inputHash: 'VARCHAR',
  inputStats:
    'STRUCT(fieldCount BIGINT, nullCount BIGINT, nanCount BIGINT, infCount BIGINT, numeric MAP(VARCHAR, JSON), ' +
    'stringLengths MAP(VARCHAR, BIGINT), arraySizes MAP(VARCHAR, BIGINT), truncated BOOLEAN)',
  input: 'JSON',
  ok: 'BOOLEAN',
  output: 'JSON',
  error: 'STRUCT(name VARCHAR, message VARCHAR)',
  latencyMs: 'JSON',
  samplingWeight: 'DOUBLE',
  keptBy: 'VARCHAR',
  host: 'VARCHAR',
  pid: 'BIGINT',
  stages: 'MAP(VARCHAR, DOUBLE)',
  sources: 'STRUCT(name VARCHAR, stage VARCHAR, version VARCHAR, "asOf" VARCHAR, hit BOOLEAN, ms DOUBLE)[]',
  failedStage: 'VARCHAR',
  memory: 'STRUCT(rss BIGINT, heapUsed BIGINT, heapLimit BIGINT)',
  resources: 'STRUCT(handles BIGINT, fds BIGINT)',
  envFingerprint: 'VARCHAR',
  metadata: 'JSON',
  dropped: 'BIGINT',
  firstDroppedAt: 'TIMESTAMPTZ',
  lastDroppedAt: 'TIMESTAMPTZ',
};

/** A SQL string literal. */
function literal(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

function setupSql(files: readonly string[]): string[] {
  const columns = Object.entries(COLUMNS)
    .map(([name, type]) => `${name}: ${literal(type)}`)
    .join(', ');
  const source =
    `read_json([${files.map(literal).join(', ')}], format = 'newline_delimited', hive_partitioning = true, ` +
    `ignore_errors = true, columns = {${columns}})`;
  return [
    `SET TimeZone = 'UTC'`,
    `CREATE MACRO pp_double(j) AS CASE WHEN j IS NULL THEN NULL WHEN json_type(j) = 'OBJECT' ` +
      `THEN TRY_CAST(json_extract_string(j, '$."$pp"') AS DOUBLE) ELSE TRY_CAST(j AS DOUBLE) END`,
    `CREATE VIEW log_lines AS SELECT * FROM ${source}`,
    `CREATE VIEW predictions AS SELECT timestamp, requestId, modelVersion, inputHash, ok,
       error.name AS errorName, error.message AS errorMessage, pp_double(latencyMs) AS latencyMs,
       samplingWeight, keptBy, host, pid, memory.rss AS rss, memory.heapUsed AS heapUsed,
       memory.heapLimit AS heapLimit, resources.handles AS handles, resources.fds AS fds, envFingerprint,
       stages, sources, failedStage,
       inputStats.fieldCount AS fieldCount, inputStats.nullCount AS nullCount,
       inputStats.nanCount AS nanCount, inputStats.infCount AS infCount,
       map_from_entries(list_transform(map_entries(inputStats.numeric),
         lambda e: {'key': e.key, 'value': pp_double(e.value)})) AS numeric,
       inputStats.stringLengths AS stringLengths, inputStats.arraySizes AS arraySizes,
       inputStats.truncated AS statsTruncated, input, output, metadata, dt, hour
     FROM log_lines WHERE kind = 'prediction'`,
    `CREATE VIEW input_values AS SELECT requestId, timestamp, modelVersion, ok, errorName, samplingWeight,
       e.key AS path, e.value AS value
     FROM (SELECT *, unnest(map_entries(numeric)) AS e FROM predictions)`,
    `CREATE VIEW stage_times AS SELECT requestId, timestamp, ok, samplingWeight, latencyMs, host, pid,
       e.key AS stage, e.value AS ms
     FROM (SELECT *, unnest(map_entries(stages)) AS e FROM predictions WHERE stages IS NOT NULL)`,
    `CREATE VIEW source_reads AS SELECT requestId, timestamp, ok, errorName, errorMessage, samplingWeight, latencyMs,
       s.name AS name, s.stage AS stage, s.version AS version, s."asOf" AS "asOf", s.hit AS hit, s.ms AS ms
     FROM (SELECT *, unnest(sources) AS s FROM predictions WHERE sources IS NOT NULL)`,
    `CREATE VIEW gaps AS SELECT timestamp, host, pid, dropped, firstDroppedAt, lastDroppedAt, dt, hour
     FROM log_lines WHERE kind = 'gap'`,
  ];
}

/** A column of a query result. */
export interface QueryColumn {
  name: string;
  /** The DuckDB type, e.g. `BIGINT`, `DOUBLE`, `MAP(VARCHAR, DOUBLE)`. */
  type: string;
}

/**
 * Rows of a query. Values are JavaScript values: BIGINT within ±2^53 as numbers (larger as
 * bigint), DOUBLE as numbers (NaN kept), timestamps as `Date`, MAPs as `{ key, value }[]`.
 */
export interface QueryResult {
  columns: QueryColumn[];
  rows: Record<string, unknown>[];
}

/** An open DuckDB connection with the views over one log folder. */
export interface LogDatabase {
  /** Runs SQL against the views; `params` bind `$1`, `$2`, ... */
  query(sql: string, params?: readonly (string | number | boolean | null)[]): Promise<QueryResult>;
  /** Segments and torn last lines found when the database was opened. */
  readonly scan: SegmentScan;
  close(): void;
}

function plain(value: unknown): unknown {
  if (typeof value === 'bigint') {
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(value)
      : value;
  }
  if (Array.isArray(value)) return value.map(plain);
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = plain(v);
    return out;
  }
  return value;
}

async function loadDuckDb(): Promise<typeof import('@duckdb/node-api')> {
  try {
    return await import('@duckdb/node-api');
  } catch (cause) {
    throw new LoggerError(
      'DUCKDB_MISSING',
      '@prodprobe/logger/query needs the optional peer dependency @duckdb/node-api: npm install @duckdb/node-api',
      { cause },
    );
  }
}

/**
 * Opens an in-memory DuckDB database with the `predictions`, `input_values`, `gaps` and
 * `log_lines` views over every segment under `dir`. Close it when done.
 * @throws LoggerError `NO_SEGMENTS` when `dir` is missing or holds no `*.jsonl` segment,
 * `DUCKDB_MISSING` when `@duckdb/node-api` is not installed.
 */
export async function openLogDatabase(dir: string): Promise<LogDatabase> {
  const files = await listSegments(dir);
  if (files.length === 0) throw new LoggerError('NO_SEGMENTS', `no log segments (*.jsonl) under ${dir}`);
  const scan = await scanSegments(dir);
  const duckdb = await loadDuckDb();
  const instance: DuckDBInstance = await duckdb.DuckDBInstance.create(':memory:');
  const connection: DuckDBConnection = await instance.connect();
  try {
    for (const sql of setupSql(files)) await connection.run(sql);
  } catch (cause) {
    connection.closeSync();
    instance.closeSync();
    throw new LoggerError(
      'QUERY_FAILED',
      `could not set up the log views over ${dir}: ${(cause as Error).message}`,
      {
        cause,
      },
    );
  }
  return {
    scan,
    async query(sql, params) {
      try {
        const reader = await connection.runAndReadAll(sql, params === undefined ? undefined : [...params]);
        const names = reader.columnNames();
        const types = reader.columnTypes();
        return {
          columns: names.map((name, i) => ({ name, type: String(types[i]) })),
          rows: reader.getRowObjectsJS().map((row) => plain(row) as Record<string, unknown>),
        };
      } catch (cause) {
        throw new LoggerError('QUERY_FAILED', (cause as Error).message, { cause });
      }
    },
    close() {
      connection.closeSync();
      instance.closeSync();
    },
  };
}

/** @internal Runs `run` on `source`, opening (and closing) a database when given a folder. */
export async function withDb<T>(
  source: string | LogDatabase,
  run: (db: LogDatabase) => Promise<T>,
): Promise<T> {
  if (typeof source !== 'string') return run(source);
  const db = await openLogDatabase(source);
  try {
    return await run(db);
  } finally {
    db.close();
  }
}

/** Result of `queryLogs`: the rows plus how many torn last lines the readers skipped. */
export interface LogQueryResult extends QueryResult {
  tornLines: number;
}

/**
 * Runs one SQL statement over the segments under `dir` (see the views above), e.g.
 * `SELECT errorName, count(*) FROM predictions WHERE NOT ok GROUP BY 1`.
 * @throws LoggerError `NO_SEGMENTS` (missing folder or no segment), `QUERY_FAILED` (bad SQL).
 */
export async function queryLogs(dir: string, sql: string): Promise<LogQueryResult> {
  const db = await openLogDatabase(dir);
  try {
    const result = await db.query(sql);
    return { ...result, tornLines: db.scan.tornLines };
  } finally {
    db.close();
  }
}

/** @internal The verdict over processes: a leak in any, else stable in any, else not enough data. */
export function overallVerdict(
  processes: readonly { verdict: 'leak' | 'stable' | 'insufficient-data' }[],
): 'leak' | 'stable' | 'insufficient-data' {
  if (processes.some((p) => p.verdict === 'leak')) return 'leak';
  return processes.some((p) => p.verdict === 'stable') ? 'stable' : 'insufficient-data';
}

/** @internal A DuckDB number (BIGINT, DOUBLE) as a JS number; NaN for anything else. */
export const num = (v: unknown): number =>
  typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : Number.NaN;
/** @internal {@link num}, keeping SQL NULL as null. */
export const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : num(v));

/** One group of `errorSummary`. */
export interface ErrorGroup {
  errorName: string;
  errorMessage: string;
  count: number;
  firstSeen: Date;
  lastSeen: Date;
  modelVersions: string[];
  hosts: number;
}

/** Errors grouped by type and message. */
export interface ErrorSummary {
  /** Requests the logs stand for (sum of sampling weights). */
  estimatedRequests: number;
  errors: number;
  /** errors / estimatedRequests. */
  errorRate: number;
  groups: ErrorGroup[];
}

/**
 * Errors grouped by name and message, most frequent first, with first/last seen and model versions.
 * @default options.limit 50
 */
export async function errorSummary(
  source: string | LogDatabase,
  options: { limit?: number } = {},
): Promise<ErrorSummary> {
  const limit = options.limit ?? 50;
  return withDb(source, async (db) => {
    const totals = await db.query(
      `SELECT coalesce(sum(samplingWeight), 0) AS requests, count(*) FILTER (WHERE NOT ok) AS errors FROM predictions`,
    );
    const groups = await db.query(
      `SELECT errorName, errorMessage, count(*) AS count, min(timestamp) AS firstSeen, max(timestamp) AS lastSeen,
         list(DISTINCT modelVersion ORDER BY modelVersion) AS modelVersions, count(DISTINCT host) AS hosts
       FROM predictions WHERE NOT ok GROUP BY errorName, errorMessage
       ORDER BY count DESC, errorName, errorMessage LIMIT $1`,
      [limit],
    );
    const t = totals.rows[0] ?? {};
    const requests = num(t.requests);
    const errors = num(t.errors);
    return {
      estimatedRequests: requests,
      errors,
      errorRate: requests > 0 ? errors / requests : 0,
      groups: groups.rows.map((r) => ({
        errorName: String(r.errorName),
        errorMessage: String(r.errorMessage),
        count: num(r.count),
        firstSeen: r.firstSeen as Date,
        lastSeen: r.lastSeen as Date,
        modelVersions: (r.modelVersions as string[]) ?? [],
        hosts: num(r.hosts),
      })),
    };
  });
}

/** Statistics of one input field in one group (failing or succeeding requests). */
export interface FieldGroupStats {
  /** Share of the group's requests that have the field (weighted). */
  present: number;
  /** Share of the group's requests where the value is NaN / ±Infinity (numeric fields). */
  nanShare: number;
  infShare: number;
  /** Weighted mean, std, min and max over finite values; null when there are none. */
  mean: number | null;
  std: number | null;
  min: number | null;
  max: number | null;
}

/** One input field compared between failing and succeeding requests. */
export interface FieldComparison {
  path: string;
  /** `numeric`: the field's value; `string-length`, `array-size`: its length. */
  kind: 'numeric' | 'string-length' | 'array-size';
  failing: FieldGroupStats;
  succeeding: FieldGroupStats;
  /** (failing mean − succeeding mean) / succeeding std (std floored at 1e-9); null without both means. */
  standardizedMeanDiff: number | null;
  /**
   * Largest gap between the two groups' distributions of finite values (weighted two-sample
   * Kolmogorov-Smirnov distance, 0..1): it sees what a mean hides, such as every failure having
   * the value 0. Null without finite values in both groups.
   */
  ks: number | null;
  /** Whether `ks` exceeds its 5% critical value for the groups' entry counts (sampling noise alone rarely does). */
  ksSignificant: boolean;
  /**
   * max(|Δpresent|, |ΔnanShare + ΔinfShare|, min(|standardizedMeanDiff|, 10) / 10, `ks` when
   * significant): the sort key.
   */
  score: number;
}

/** Request-level statistics of a group. */
export interface GroupStats {
  /** Entries in the logs. */
  entries: number;
  /** Requests they stand for (sum of sampling weights). */
  requests: number;
  /** Weighted means per request. */
  meanNullCount: number | null;
  meanNanCount: number | null;
  meanInfCount: number | null;
  meanFieldCount: number | null;
}

/** Input statistics of requests failing with one error type next to succeeding requests. */
export interface FailureProfile {
  errorType: string;
  failing: GroupStats;
  succeeding: GroupStats;
  /** Most different fields first. */
  fields: FieldComparison[];
}

const emptyField = (): FieldGroupStats => ({
  present: 0,
  nanShare: 0,
  infShare: 0,
  mean: null,
  std: null,
  min: null,
  max: null,
});

/** Every numeric value, string length and array size of the failing (`errorType`) and succeeding entries. */
const FIELD_VALUES = `WITH base AS (SELECT ok, samplingWeight AS w, numeric, stringLengths, arraySizes
                     FROM predictions WHERE ok OR errorName = $1),
       vals AS (
         SELECT ok, w, 'numeric' AS kind, e.key AS path, e.value AS value
           FROM (SELECT ok, w, unnest(map_entries(numeric)) AS e FROM base)
         UNION ALL
         SELECT ok, w, 'string-length', e.key, CAST(e.value AS DOUBLE)
           FROM (SELECT ok, w, unnest(map_entries(stringLengths)) AS e FROM base)
         UNION ALL
         SELECT ok, w, 'array-size', e.key, CAST(e.value AS DOUBLE)
           FROM (SELECT ok, w, unnest(map_entries(arraySizes)) AS e FROM base))`;

/**
 * Compares the input statistics of requests that failed with `errorType` (the error's name) with
 * those of succeeding requests, side by side, most different fields first. Succeeding requests
 * are weighted by their sampling weight so sampling does not bias the comparison.
 */
export async function failureProfile(
  source: string | LogDatabase,
  errorType: string,
): Promise<FailureProfile> {
  return withDb(source, async (db) => {
    const groups = await db.query(
      `SELECT ok, count(*) AS entries, sum(samplingWeight) AS requests,
         sum(samplingWeight * nullCount) / sum(samplingWeight) AS meanNullCount,
         sum(samplingWeight * nanCount) / sum(samplingWeight) AS meanNanCount,
         sum(samplingWeight * infCount) / sum(samplingWeight) AS meanInfCount,
         sum(samplingWeight * fieldCount) / sum(samplingWeight) AS meanFieldCount
       FROM predictions WHERE ok OR errorName = $1 GROUP BY ok`,
      [errorType],
    );
    const fields = await db.query(
      `${FIELD_VALUES}
       SELECT ok, kind, path, sum(w) AS presentW,
         coalesce(sum(w) FILTER (WHERE isnan(value)), 0) AS nanW,
         coalesce(sum(w) FILTER (WHERE isinf(value)), 0) AS infW,
         sum(w) FILTER (WHERE isfinite(value)) AS finiteW,
         count(*) FILTER (WHERE isfinite(value)) AS finiteN,
         sum(w * value) FILTER (WHERE isfinite(value)) AS sumWX,
         sum(w * value * value) FILTER (WHERE isfinite(value)) AS sumWXX,
         min(value) FILTER (WHERE isfinite(value)) AS minV,
         max(value) FILTER (WHERE isfinite(value)) AS maxV
       FROM vals GROUP BY ok, kind, path`,
      [errorType],
    );
    // Weighted ECDFs of both groups at every distinct finite value; the KS distance is their
    // largest gap.
    const distances = await db.query(
      `${FIELD_VALUES},
       byValue AS (SELECT kind, path, value,
                coalesce(sum(w) FILTER (WHERE NOT ok), 0) AS wf, coalesce(sum(w) FILTER (WHERE ok), 0) AS ws
              FROM vals WHERE isfinite(value) GROUP BY kind, path, value),
       cdf AS (SELECT kind, path,
                 sum(wf) OVER (PARTITION BY kind, path ORDER BY value ROWS UNBOUNDED PRECEDING) AS cf,
                 sum(wf) OVER (PARTITION BY kind, path) AS tf,
                 sum(ws) OVER (PARTITION BY kind, path ORDER BY value ROWS UNBOUNDED PRECEDING) AS cs,
                 sum(ws) OVER (PARTITION BY kind, path) AS ts
               FROM byValue)
       SELECT kind, path, max(abs(cf / tf - cs / ts)) AS ks FROM cdf WHERE tf > 0 AND ts > 0 GROUP BY kind, path`,
      [errorType],
    );
    const groupOf = (ok: boolean): GroupStats => {
      const r = groups.rows.find((row) => row.ok === ok);
      return {
        entries: r ? num(r.entries) : 0,
        requests: r ? num(r.requests) : 0,
        meanNullCount: r ? numOrNull(r.meanNullCount) : null,
        meanNanCount: r ? numOrNull(r.meanNanCount) : null,
        meanInfCount: r ? numOrNull(r.meanInfCount) : null,
        meanFieldCount: r ? numOrNull(r.meanFieldCount) : null,
      };
    };
    const failing = groupOf(false);
    const succeeding = groupOf(true);
    const byKey = new Map<string, FieldComparison>();
    // Entries with a finite value, per field and group: the sample sizes of the KS distance.
    const finiteCount = new Map<string, number>();
    for (const r of fields.rows) {
      const kind = r.kind as FieldComparison['kind'];
      const path = String(r.path);
      const key = `${kind}\u0000${path}`;
      let cmp = byKey.get(key);
      if (cmp === undefined) {
        cmp = {
          path,
          kind,
          failing: emptyField(),
          succeeding: emptyField(),
          standardizedMeanDiff: null,
          ks: null,
          ksSignificant: false,
          score: 0,
        };
        byKey.set(key, cmp);
      }
      finiteCount.set(`${key}\u0000${r.ok}`, num(r.finiteN));
      const total = r.ok ? succeeding.requests : failing.requests;
      const finiteW = numOrNull(r.finiteW);
      const g: FieldGroupStats = emptyField();
      g.present = total > 0 ? num(r.presentW) / total : 0;
      g.nanShare = total > 0 ? num(r.nanW) / total : 0;
      g.infShare = total > 0 ? num(r.infW) / total : 0;
      if (finiteW !== null && finiteW > 0) {
        const mean = num(r.sumWX) / finiteW;
        g.mean = mean;
        g.std = Math.sqrt(Math.max(0, num(r.sumWXX) / finiteW - mean * mean));
        g.min = numOrNull(r.minV);
        g.max = numOrNull(r.maxV);
      }
      if (r.ok) cmp.succeeding = g;
      else cmp.failing = g;
    }
    for (const r of distances.rows) {
      const key = `${r.kind}\u0000${r.path}`;
      const c = byKey.get(key);
      if (c === undefined) continue;
      c.ks = num(r.ks);
      // 5% critical value of the two-sample KS distance, c(0.05) = 1.358, on the entry counts
      // (the weights stand for requests that were not logged, not for more evidence).
      const n = finiteCount.get(`${key}\u0000false`) ?? 0;
      const m = finiteCount.get(`${key}\u0000true`) ?? 0;
      c.ksSignificant = n > 0 && m > 0 && c.ks > 1.358 * Math.sqrt((n + m) / (n * m));
    }
    const out = [...byKey.values()];
    for (const c of out) {
      const f = c.failing;
      const s = c.succeeding;
      if (f.mean !== null && s.mean !== null) {
        c.standardizedMeanDiff = (f.mean - s.mean) / Math.max(s.std ?? 0, 1e-9);
      }
      const smd = c.standardizedMeanDiff === null ? 0 : Math.min(Math.abs(c.standardizedMeanDiff), 10) / 10;
      c.score = Math.max(
        Math.abs(f.present - s.present),
        Math.abs(f.nanShare + f.infShare - (s.nanShare + s.infShare)),
        smd,
        c.ksSignificant && c.ks !== null ? c.ks : 0,
      );
    }
    out.sort((a, b) => b.score - a.score || a.path.localeCompare(b.path) || a.kind.localeCompare(b.kind));
    return { errorType, failing, succeeding, fields: out };
  });
}

/** Traffic, errors and latency percentiles of one time bucket. */
export interface LatencyBucket {
  bucket: Date;
  /** Log entries in the bucket. */
  entries: number;
  /** Requests the entries stand for (sum of sampling weights). */
  requests: number;
  /** Failed predictions (every error is logged, with weight 1). */
  errors: number;
  /** errors / requests. */
  errorRate: number;
  /** Weighted percentiles over the entries with a finite latency. */
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

const INTERVAL = /^\d+ (second|minute|hour|day)s?$/;
const SHORT_INTERVAL = /^(\d+)(s|m|h|d)$/;
const UNIT_NAMES: Record<string, string> = { s: 'second', m: 'minute', h: 'hour', d: 'day' };

/**
 * Traffic, errors, error rate and p50/p95/p99 latency per time bucket. Latency percentiles are
 * weighted by sampling weight (the smallest latency whose cumulative weight reaches q of the
 * bucket's total) over the entries with a finite latency; a bucket none of whose entries has one
 * is left out. `bucket` is an interval like `5 minutes` or `1 hour`, or short: `5m`, `1h`, `1d`.
 * @default options.bucket '1 hour'
 * @throws LoggerError `INVALID_OPTIONS` when `bucket` is neither.
 */
export async function latencyPercentiles(
  source: string | LogDatabase,
  options: { bucket?: string } = {},
): Promise<LatencyBucket[]> {
  let bucket = options.bucket ?? '1 hour';
  const short = SHORT_INTERVAL.exec(bucket);
  if (short) bucket = `${short[1]} ${UNIT_NAMES[short[2]!]}`;
  if (!INTERVAL.test(bucket)) {
    throw new LoggerError(
      'INVALID_OPTIONS',
      `bucket: expected an interval like "5 minutes", "1 hour" or "1h", got "${options.bucket}"`,
    );
  }
  return withDb(source, async (db) => {
    const result = await db.query(
      `WITH p AS (SELECT time_bucket(INTERVAL '${bucket}', timestamp) AS bucket, latencyMs AS x,
                    samplingWeight AS w, ok FROM predictions),
       c AS (SELECT bucket, x,
               sum(w) OVER (PARTITION BY bucket ORDER BY x ROWS UNBOUNDED PRECEDING) AS cw,
               sum(w) OVER (PARTITION BY bucket) AS tw FROM p WHERE isfinite(x)),
       lat AS (SELECT bucket,
                 min(x) FILTER (WHERE cw >= 0.5 * tw) AS p50,
                 min(x) FILTER (WHERE cw >= 0.95 * tw) AS p95,
                 min(x) FILTER (WHERE cw >= 0.99 * tw) AS p99,
                 max(x) AS max
               FROM c GROUP BY bucket),
       agg AS (SELECT bucket, count(*) AS entries, sum(w) AS requests, count(*) FILTER (WHERE NOT ok) AS errors
               FROM p GROUP BY bucket)
       SELECT * FROM lat JOIN agg USING (bucket) ORDER BY bucket`,
    );
    return result.rows.map((r) => {
      const requests = num(r.requests);
      const errors = num(r.errors);
      return {
        bucket: r.bucket as Date,
        entries: num(r.entries),
        requests,
        errors,
        errorRate: requests > 0 ? errors / requests : 0,
        p50: num(r.p50),
        p95: num(r.p95),
        p99: num(r.p99),
        max: num(r.max),
      };
    });
  });
}

/** Memory trend of one process (host + pid). */
export interface ProcessMemoryTrend {
  host: string;
  pid: number;
  points: number;
  /** Requests the process's entries stand for (sum of sampling weights). */
  requests: number;
  firstSeen: Date;
  lastSeen: Date;
  firstRss: number;
  lastRss: number;
  /** Least-squares slope of rss against the cumulative request count, in bytes per 1,000 requests. */
  rssSlopePer1k: number | null;
  /** R² of that fit: near 1 when rss grows steadily with traffic. */
  r2: number | null;
  heapSlopePer1k: number | null;
  /**
   * The same slope over the later half of the process's requests. A leak keeps climbing; a
   * process warming up (code compiled, pools and caches filled, the heap grown to its working
   * size) climbs first and then levels off, so its later slope is near 0.
   */
  lateRssSlopePer1k: number | null;
  /** V8's heap ceiling the process logged (`--max-old-space-size`), when the entries carry it. */
  heapLimit: number | null;
  /** Highest heapUsed logged. */
  maxHeapUsed: number;
  /** maxHeapUsed / heapLimit: near 1, the process ran at its heap ceiling. */
  peakHeapShare: number | null;
  /**
   * True when another process on the same host logged its first entry after this one's last:
   * this process stopped and a successor took over (a restart, e.g. after an out-of-memory crash).
   */
  replaced: boolean;
  verdict: 'leak' | 'stable' | 'insufficient-data';
}

/** Memory trends and an overall leak verdict. */
export interface MemoryTrend {
  verdict: 'leak' | 'stable' | 'insufficient-data';
  processes: ProcessMemoryTrend[];
  /** The thresholds the verdict used. */
  thresholds: { leakBytesPer1k: number; minR2: number; minPoints: number; minGrowthBytes: number };
}

/**
 * Fits rss against the cumulative (weighted) request count per process: a steady climb
 * (slope ≥ `leakBytesPer1k` with R² ≥ `minR2`, over all its requests and over the later half of
 * them, so a warm-up that levels off is not one) is the "cache that grows forever". A climb of
 * less than `minGrowthBytes` in all is `insufficient-data`: over a short run a process still
 * warming up climbs the same way, and only more traffic tells the two apart.
 * @default options.leakBytesPer1k 262144 (256 KiB per 1,000 requests)
 * @default options.minR2 0.5
 * @default options.minPoints 30
 * @default options.minGrowthBytes 8388608 (8 MiB)
 */
export async function memoryTrend(
  source: string | LogDatabase,
  options: { leakBytesPer1k?: number; minR2?: number; minPoints?: number; minGrowthBytes?: number } = {},
): Promise<MemoryTrend> {
  const thresholds = {
    leakBytesPer1k: options.leakBytesPer1k ?? 256 * 1024,
    minR2: options.minR2 ?? 0.5,
    minPoints: options.minPoints ?? 30,
    minGrowthBytes: options.minGrowthBytes ?? 8 * 1024 * 1024,
  };
  return withDb(source, async (db) => {
    const result = await db.query(
      `WITH p AS (SELECT host, pid, timestamp, rss, heapUsed, heapLimit,
                    sum(samplingWeight) OVER (PARTITION BY host, pid ORDER BY timestamp, requestId
                                              ROWS UNBOUNDED PRECEDING) AS reqs
                  FROM predictions WHERE rss IS NOT NULL),
            q AS (SELECT *, max(reqs) OVER (PARTITION BY host, pid) AS total FROM p)
       SELECT host, pid, count(*) AS points, max(reqs) AS requests, min(timestamp) AS firstSeen,
         max(timestamp) AS lastSeen, arg_min(rss, reqs) AS firstRss, arg_max(rss, reqs) AS lastRss,
         regr_slope(rss, reqs) * 1000 AS slope, regr_r2(rss, reqs) AS r2, regr_slope(heapUsed, reqs) * 1000 AS heapSlope,
         regr_slope(rss, reqs) FILTER (WHERE reqs > total / 2) * 1000 AS lateSlope,
         max(heapLimit) AS heapLimit, max(heapUsed) AS maxHeap
       FROM q GROUP BY host, pid ORDER BY host, pid`,
    );
    const processes: ProcessMemoryTrend[] = result.rows.map((r) => {
      const points = num(r.points);
      const slope = numOrNull(r.slope);
      const r2 = numOrNull(r.r2);
      const lateSlope = numOrNull(r.lateSlope);
      let verdict: ProcessMemoryTrend['verdict'] = 'stable';
      if (points < thresholds.minPoints || slope === null) verdict = 'insufficient-data';
      else if (
        slope >= thresholds.leakBytesPer1k &&
        (r2 ?? 0) >= thresholds.minR2 &&
        (lateSlope ?? 0) >= thresholds.leakBytesPer1k
      )
        verdict =
          num(r.lastRss) - num(r.firstRss) >= thresholds.minGrowthBytes ? 'leak' : 'insufficient-data';
      const heapLimit = numOrNull(r.heapLimit);
      const maxHeapUsed = num(r.maxHeap);
      return {
        host: String(r.host),
        pid: num(r.pid),
        points,
        requests: num(r.requests),
        firstSeen: r.firstSeen as Date,
        lastSeen: r.lastSeen as Date,
        firstRss: num(r.firstRss),
        lastRss: num(r.lastRss),
        rssSlopePer1k: slope,
        r2,
        heapSlopePer1k: numOrNull(r.heapSlope),
        lateRssSlopePer1k: lateSlope,
        heapLimit,
        maxHeapUsed,
        peakHeapShare: heapLimit ? maxHeapUsed / heapLimit : null,
        replaced: false,
        verdict,
      };
    });
    for (const p of processes)
      p.replaced = processes.some(
        (q) => q !== p && q.host === p.host && q.firstSeen.getTime() >= p.lastSeen.getTime(),
      );
    return { verdict: overallVerdict(processes), processes, thresholds };
  });
}

/** Traffic, errors and latency of one model version. */
export interface ModelVersionStats {
  modelVersion: string;
  entries: number;
  /** Requests the entries stand for (sum of sampling weights). */
  requests: number;
  errors: number;
  errorRate: number;
  /** Weighted mean and weighted p95 latency over entries with a finite latency. */
  meanLatencyMs: number | null;
  p95LatencyMs: number | null;
  firstSeen: Date;
  lastSeen: Date;
}

/** Requests, errors, error rate and latency per model version. */
export async function byModelVersion(source: string | LogDatabase): Promise<ModelVersionStats[]> {
  return withDb(source, async (db) => {
    const result = await db.query(
      `WITH c AS (SELECT modelVersion, latencyMs AS x, samplingWeight AS w,
                    sum(samplingWeight) OVER (PARTITION BY modelVersion ORDER BY latencyMs ROWS UNBOUNDED PRECEDING) AS cw,
                    sum(samplingWeight) OVER (PARTITION BY modelVersion) AS tw
                  FROM predictions WHERE isfinite(latencyMs)),
       lat AS (SELECT modelVersion, sum(w * x) / sum(w) AS meanLatency, min(x) FILTER (WHERE cw >= 0.95 * tw) AS p95
               FROM c GROUP BY modelVersion),
       agg AS (SELECT modelVersion, count(*) AS entries, sum(samplingWeight) AS requests,
                 count(*) FILTER (WHERE NOT ok) AS errors, min(timestamp) AS firstSeen, max(timestamp) AS lastSeen
               FROM predictions GROUP BY modelVersion)
       SELECT agg.*, lat.meanLatency, lat.p95 FROM agg LEFT JOIN lat USING (modelVersion) ORDER BY modelVersion`,
    );
    return result.rows.map((r) => {
      const requests = num(r.requests);
      const errors = num(r.errors);
      return {
        modelVersion: String(r.modelVersion),
        entries: num(r.entries),
        requests,
        errors,
        errorRate: requests > 0 ? errors / requests : 0,
        meanLatencyMs: numOrNull(r.meanLatency),
        p95LatencyMs: numOrNull(r.p95),
        firstSeen: r.firstSeen as Date,
        lastSeen: r.lastSeen as Date,
      };
    });
  });
}

/**
 * Writes the `predictions` view to a Parquet file (`COPY ... TO ... (FORMAT parquet)`), for
 * ClickHouse, Spark or BigQuery. NaN and ±Infinity stay NaN and ±Infinity in the DOUBLE columns.
 * @returns the number of rows written.
 */
export async function exportParquet(source: string | LogDatabase, out: string): Promise<{ rows: number }> {
  return withDb(source, async (db) => {
    const result = await db.query(
      `COPY (SELECT * FROM predictions ORDER BY timestamp) TO ${literal(out)} (FORMAT parquet)`,
    );
    const first = result.rows[0];
    const rows = first === undefined ? 0 : num(Object.values(first)[0]);
    return { rows };
  });
}

export {
  type ProcessResourceTrend,
  type ResourceTrend,
  resourceTrend,
  type SourceGroup,
  type StageLatencyReport,
  type StageTiming,
  sourceBreakdown,
  stageLatency,
} from './query-runtime.js';
