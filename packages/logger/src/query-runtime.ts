import { LoggerError } from './errors.js';
import { type LogDatabase, num, numOrNull, overallVerdict, withDb } from './query.js';

/**
 * Queries over what a traced pipeline and the logger's process samples add to each entry: the
 * time of each stage, the data sources read, and the process's open handles and descriptors.
 */

/** Time spent in one pipeline stage. */
export interface StageTiming {
  stage: string;
  /** Entries that timed this stage. */
  entries: number;
  /** Weighted percentiles (by sampling weight) of the stage's milliseconds. */
  p50: number;
  p95: number;
  p99: number;
  max: number;
  /** Over the slow requests: the stage's weighted mean milliseconds. */
  slowMeanMs: number | null;
  /** Over the slow requests: the share of their latency spent in this stage (0..1). */
  slowShare: number | null;
  /** Over the requests at or below the median latency: the share of their latency in this stage. */
  typicalShare: number | null;
}

/** Where the slowest requests spend their time, stage by stage (see `stageLatency`). */
export interface StageLatencyReport {
  /** Entries with stage timings. */
  entries: number;
  /** The latency at the quantile that makes a request slow (weighted; latencyMs, else the sum of stage times). */
  slowThresholdMs: number | null;
  /** The quantile used. */
  quantile: number;
  /** Entries at or above the threshold. */
  slowEntries: number;
  /** Weighted median latency of all timed entries. */
  p50LatencyMs: number | null;
  /** Stages, the one the slow requests spend most time in first. */
  stages: StageTiming[];
  /**
   * The stage that takes at least half of the slow requests' time and a share of it at least 0.3
   * above its share of a typical request's: where the tail comes from, not only where time goes.
   */
  dominant: string | null;
}

/**
 * Which pipeline stage the slow requests spend their time in: per stage, weighted p50/p95/p99 of
 * its milliseconds, and over the requests at or above the `quantile` of latency, its mean time and
 * its share of their latency. Needs entries logged with `stages` (a traced `pipeline.run`).
 * @default options.quantile 0.99
 * @throws LoggerError `INVALID_OPTIONS` for a quantile outside (0, 1).
 */
export async function stageLatency(
  source: string | LogDatabase,
  options: { quantile?: number } = {},
): Promise<StageLatencyReport> {
  const quantile = options.quantile ?? 0.99;
  if (!(quantile > 0 && quantile < 1))
    throw new LoggerError('INVALID_OPTIONS', `quantile: expected a number between 0 and 1, got ${quantile}`);
  return withDb(source, async (db) => {
    const base = `WITH t AS (SELECT requestId, timestamp, samplingWeight AS w, stages,
                     coalesce(CASE WHEN isfinite(latencyMs) THEN latencyMs END,
                              list_sum(map_values(stages))) AS latency
                   FROM predictions WHERE stages IS NOT NULL AND cardinality(stages) > 0),
       c AS (SELECT latency, sum(w) OVER (ORDER BY latency ROWS UNBOUNDED PRECEDING) AS cw,
               sum(w) OVER () AS tw FROM t WHERE latency IS NOT NULL),
       q AS (SELECT min(latency) FILTER (WHERE cw >= ${quantile} * tw) AS slow,
               min(latency) FILTER (WHERE cw >= 0.5 * tw) AS p50 FROM c)`;
    const head = await db.query(
      `${base} SELECT (SELECT count(*) FROM t) AS entries, q.slow, q.p50,
         (SELECT count(*) FROM t, q WHERE t.latency >= q.slow) AS slowEntries FROM q`,
    );
    const h = head.rows[0] ?? {};
    const entries = num(h.entries);
    const slowThresholdMs = numOrNull(h.slow);
    if (!entries) {
      return {
        entries: 0,
        slowThresholdMs: null,
        quantile,
        slowEntries: 0,
        p50LatencyMs: null,
        stages: [],
        dominant: null,
      };
    }
    const rows = await db.query(
      `${base},
       s AS (SELECT t.w, t.latency, e.key AS stage, e.value AS ms FROM t, unnest(map_entries(t.stages)) AS u(e)
             WHERE isfinite(e.value)),
       p AS (SELECT stage, ms, w, sum(w) OVER (PARTITION BY stage ORDER BY ms ROWS UNBOUNDED PRECEDING) AS cw,
               sum(w) OVER (PARTITION BY stage) AS tw FROM s),
       pct AS (SELECT stage, count(*) AS entries,
                 min(ms) FILTER (WHERE cw >= 0.5 * tw) AS p50, min(ms) FILTER (WHERE cw >= 0.95 * tw) AS p95,
                 min(ms) FILTER (WHERE cw >= 0.99 * tw) AS p99, max(ms) AS max FROM p GROUP BY stage),
       slow AS (SELECT stage, sum(w * ms) / sum(w) AS slowMean,
                  sum(w * ms) / nullif(sum(w * latency), 0) AS slowShare
                FROM s, q WHERE s.latency >= q.slow GROUP BY stage),
       typical AS (SELECT stage, sum(w * ms) / nullif(sum(w * latency), 0) AS typicalShare
                   FROM s, q WHERE s.latency <= q.p50 GROUP BY stage)
       SELECT pct.*, slow.slowMean, slow.slowShare, typical.typicalShare
       FROM pct LEFT JOIN slow USING (stage) LEFT JOIN typical USING (stage)
       ORDER BY slow.slowShare DESC NULLS LAST, pct.p99 DESC`,
    );
    const stages: StageTiming[] = rows.rows.map((r) => ({
      stage: String(r.stage),
      entries: num(r.entries),
      p50: num(r.p50),
      p95: num(r.p95),
      p99: num(r.p99),
      max: num(r.max),
      slowMeanMs: numOrNull(r.slowMean),
      slowShare: numOrNull(r.slowShare),
      typicalShare: numOrNull(r.typicalShare),
    }));
    const top = stages[0];
    return {
      entries,
      slowThresholdMs,
      quantile,
      slowEntries: num(h.slowEntries),
      p50LatencyMs: numOrNull(h.p50),
      stages,
      dominant:
        top && (top.slowShare ?? 0) >= 0.5 && (top.slowShare ?? 0) - (top.typicalShare ?? 0) >= 0.3
          ? top.stage
          : null,
    };
  });
}

/** Requests that read one data source at one version (and cache hit or miss), and how they fared. */
export interface SourceGroup {
  name: string;
  /** The stage that read it. */
  stage: string | null;
  version: string | null;
  /** true: a cache answered; false: the origin did; null: not reported. */
  hit: boolean | null;
  entries: number;
  /** Requests the entries stand for (sum of sampling weights). */
  requests: number;
  /** Failed entries (every error is logged, with weight 1). */
  errors: number;
  /** errors / requests. */
  errorRate: number;
  /** The most common failures among these requests (name and message), at most 5. */
  errorClasses: { name: string; message: string; count: number }[];
  /** Oldest and newest `asOf` served (ISO strings as reported). */
  oldestAsOf: string | null;
  newestAsOf: string | null;
  /** Weighted median and p99 of the read's milliseconds, when reported. */
  p50Ms: number | null;
  p99Ms: number | null;
}

/**
 * Requests grouped by the data sources they read (name, version, cache hit): how many, how many
 * failed, how old the data served was, how long the reads took. When the failures share one
 * version or the cache hits, a stale source is the suspect. Needs entries logged with `sources`.
 */
export async function sourceBreakdown(source: string | LogDatabase): Promise<SourceGroup[]> {
  return withDb(source, async (db) => {
    const result = await db.query(
      `WITH r AS (SELECT name, stage, version, hit, "asOf", ms, ok, samplingWeight AS w FROM source_reads),
       m AS (SELECT name, stage, version, hit, ms, w,
               sum(w) OVER (PARTITION BY name, stage, version, hit ORDER BY ms ROWS UNBOUNDED PRECEDING) AS cw,
               sum(w) OVER (PARTITION BY name, stage, version, hit) AS tw
             FROM r WHERE ms IS NOT NULL AND isfinite(ms)),
       lat AS (SELECT name, stage, version, hit, min(ms) FILTER (WHERE cw >= 0.5 * tw) AS p50,
                 min(ms) FILTER (WHERE cw >= 0.99 * tw) AS p99 FROM m GROUP BY ALL),
       agg AS (SELECT name, stage, version, hit, count(*) AS entries, sum(w) AS requests,
                 count(*) FILTER (WHERE NOT ok) AS errors, min("asOf") AS oldest, max("asOf") AS newest
               FROM r GROUP BY ALL)
       SELECT agg.*, lat.p50, lat.p99 FROM agg LEFT JOIN lat
         ON agg.name = lat.name AND agg.stage IS NOT DISTINCT FROM lat.stage
        AND agg.version IS NOT DISTINCT FROM lat.version AND agg.hit IS NOT DISTINCT FROM lat.hit
       ORDER BY agg.name, agg.errors DESC, agg.requests DESC`,
    );
    const failures = await db.query(
      `SELECT name, stage, version, hit, errorName, errorMessage, count(*) AS n FROM source_reads
       WHERE NOT ok GROUP BY ALL ORDER BY n DESC`,
    );
    const groupKey = (r: Record<string, unknown>) => JSON.stringify([r.name, r.stage, r.version, r.hit]);
    const classes = new Map<string, SourceGroup['errorClasses']>();
    for (const f of failures.rows) {
      const list = classes.get(groupKey(f)) ?? [];
      if (list.length < 5)
        list.push({
          name: String(f.errorName ?? 'Error'),
          message: String(f.errorMessage ?? ''),
          count: num(f.n),
        });
      classes.set(groupKey(f), list);
    }
    return result.rows.map((r) => {
      const requests = num(r.requests);
      const errors = num(r.errors);
      return {
        errorClasses: classes.get(groupKey(r)) ?? [],
        name: String(r.name),
        stage: r.stage === null ? null : String(r.stage),
        version: r.version === null ? null : String(r.version),
        hit: typeof r.hit === 'boolean' ? r.hit : null,
        entries: num(r.entries),
        requests,
        errors,
        errorRate: requests > 0 ? Math.min(1, errors / requests) : 0,
        oldestAsOf: r.oldest === null ? null : String(r.oldest),
        newestAsOf: r.newest === null ? null : String(r.newest),
        p50Ms: numOrNull(r.p50),
        p99Ms: numOrNull(r.p99),
      };
    });
  });
}

/** Open handles and file descriptors of one process (host + pid) against its traffic. */
export interface ProcessResourceTrend {
  host: string;
  pid: number;
  points: number;
  /** Requests the entries stand for (sum of sampling weights). */
  requests: number;
  firstHandles: number;
  lastHandles: number;
  maxHandles: number;
  /** Least-squares slope of handles against the cumulative request count, per 1,000 requests. */
  handlesSlopePer1k: number | null;
  handlesR2: number | null;
  firstFds: number | null;
  lastFds: number | null;
  fdsSlopePer1k: number | null;
  fdsR2: number | null;
  /** `leak`: handles or descriptors climb steadily with traffic. */
  verdict: 'leak' | 'stable' | 'insufficient-data';
  /** Which of the two climbs, when the verdict is `leak`. */
  leaking: ('handles' | 'fds')[];
}

/** Resource trends and an overall verdict. */
export interface ResourceTrend {
  verdict: 'leak' | 'stable' | 'insufficient-data';
  processes: ProcessResourceTrend[];
  thresholds: { leakPer1k: number; minR2: number; minPoints: number; minGrowth: number };
}

/**
 * Fits open handles (sockets, servers, timers) and file descriptors against the cumulative
 * (weighted) request count per process: a steady climb (slope ≥ `leakPer1k`, R² ≥ `minR2`, and at
 * least `minGrowth` more than at the start) is a resource leak: a connection or file opened per
 * request and never closed. Needs entries logged with `resources` (written by this version of the logger on).
 * @default options.leakPer1k 20
 * @default options.minR2 0.8
 * @default options.minPoints 30
 * @default options.minGrowth 50
 */
export async function resourceTrend(
  source: string | LogDatabase,
  options: { leakPer1k?: number; minR2?: number; minPoints?: number; minGrowth?: number } = {},
): Promise<ResourceTrend> {
  const thresholds = {
    leakPer1k: options.leakPer1k ?? 20,
    minR2: options.minR2 ?? 0.8,
    minPoints: options.minPoints ?? 30,
    minGrowth: options.minGrowth ?? 50,
  };
  return withDb(source, async (db) => {
    const result = await db.query(
      `WITH p AS (SELECT host, pid, timestamp, handles, fds,
                    sum(samplingWeight) OVER (PARTITION BY host, pid ORDER BY timestamp, requestId
                                              ROWS UNBOUNDED PRECEDING) AS reqs
                  FROM predictions WHERE handles IS NOT NULL)
       SELECT host, pid, count(*) AS points, max(reqs) AS requests,
         arg_min(handles, reqs) AS firstHandles, arg_max(handles, reqs) AS lastHandles, max(handles) AS maxHandles,
         regr_slope(handles, reqs) * 1000 AS hSlope, regr_r2(handles, reqs) AS hR2,
         arg_min(fds, reqs) AS firstFds, arg_max(fds, reqs) AS lastFds,
         regr_slope(fds, reqs) * 1000 AS fSlope, regr_r2(fds, reqs) AS fR2
       FROM p GROUP BY host, pid ORDER BY host, pid`,
    );
    const processes = result.rows.map((r): ProcessResourceTrend => {
      const points = num(r.points);
      const climbs = (slope: number | null, r2: number | null, first: number | null, last: number | null) =>
        slope !== null &&
        slope >= thresholds.leakPer1k &&
        (r2 ?? 0) >= thresholds.minR2 &&
        first !== null &&
        last !== null &&
        last - first >= thresholds.minGrowth;
      const t: ProcessResourceTrend = {
        host: String(r.host),
        pid: num(r.pid),
        points,
        requests: num(r.requests),
        firstHandles: num(r.firstHandles),
        lastHandles: num(r.lastHandles),
        maxHandles: num(r.maxHandles),
        handlesSlopePer1k: numOrNull(r.hSlope),
        handlesR2: numOrNull(r.hR2),
        firstFds: numOrNull(r.firstFds),
        lastFds: numOrNull(r.lastFds),
        fdsSlopePer1k: numOrNull(r.fSlope),
        fdsR2: numOrNull(r.fR2),
        verdict: 'stable',
        leaking: [],
      };
      if (points < thresholds.minPoints || t.handlesSlopePer1k === null) t.verdict = 'insufficient-data';
      else {
        if (climbs(t.handlesSlopePer1k, t.handlesR2, t.firstHandles, t.lastHandles))
          t.leaking.push('handles');
        if (climbs(t.fdsSlopePer1k, t.fdsR2, t.firstFds, t.lastFds)) t.leaking.push('fds');
        if (t.leaking.length > 0) t.verdict = 'leak';
      }
      return t;
    });
    return { verdict: overallVerdict(processes), processes, thresholds };
  });
}
