import { existsSync, readFileSync } from 'node:fs';
import {
  type CaptureRecord,
  createFileCaptureStore,
  describeFailure,
  failureName,
  type ReplayManyResult,
  replay,
  replayMany,
} from '@prodprobe/capture';
import {
  compare,
  createProfileBuilder,
  createTimelineBuilder,
  type DriftReport,
  type DriftTimeline,
  driftTimeline,
  type Profile,
  parseProfile,
  type TimelineBuilder,
  valueShare,
} from '@prodprobe/drift';
import { diff, type EnvDiff, type EnvSnapshot, parseSnapshotJson } from '@prodprobe/env-snapshot';
import type { Pipeline, Service } from '@prodprobe/layers';
import { scanSegments } from '@prodprobe/logger';
import {
  errorSummary,
  type LatencyBucket,
  latencyPercentiles,
  type MemoryTrend,
  memoryTrend,
  type ResourceTrend,
  resourceTrend,
  type SourceGroup,
  type StageLatencyReport,
  sourceBreakdown,
  stageLatency,
} from '@prodprobe/logger/query';
import { capturedRows, scanLoggedInputs } from '../input-rows.js';
import { type IsolationFinding, isolateInput } from '../isolation.js';
import { CliError } from '../output.js';
import type { ServiceModule } from '../service-module.js';
import { type RootCause, rankRootCauses } from './root-causes.js';
import {
  describeAnomaly,
  type FieldKinds,
  type InputAnomaly,
  inputAnomalies,
  signatureKey,
} from './signature.js';

/** What `diagnose` reads; every part is optional and the report says what it could not check. */
export interface DiagnoseInputs {
  captures?: string;
  logs?: string;
  reference?: string;
  envA?: string;
  envB?: string;
  /** The team's service (`--pipeline`): what replay, isolation and the concurrency check run. */
  service?: ServiceModule;
  /** At most this many (class, signature) groups are replayed. @default 12 */
  maxReplays?: number;
  /** Replays in flight in the concurrency check (a race shows only when calls overlap). @default 8 */
  concurrency?: number;
  onProgress?: (message: string) => void;
}

/** One kind of failure seen in production. */
export interface FailureClass {
  key: string;
  name: string;
  message: string;
  /** Failures the captures and logs show (logs counted once per entry, not weighted). */
  count: number;
  captured: number;
  logged: number;
  firstSeen: string | null;
  lastSeen: string | null;
  modelVersions: string[];
}

/** A group of captures of one class with the same input anomalies, and what replaying one showed. */
export interface ReplayFinding {
  classKey: string;
  signature: string;
  anomalies: InputAnomaly[];
  /** Captures in this group. */
  count: number;
  recordId: string;
  modelVersion: string;
  reproduced: boolean;
  verdict: 'model-or-input' | 'environment';
  explanation: string;
  note?: string;
  /**
   * The replay failed, but with another failure than the one captured (another class): that does
   * not reproduce the captured failure (the local run cannot run the input as production did, e.g.
   * a data source it cannot reach), so `reproduced` is false.
   */
  otherFailure?: { name: string; message: string };
  inputUsed: string;
  /** For reproduced failures: the stage that fails, where NaN/Inf begins, the ONNX node. */
  isolation?: IsolationFinding;
  /**
   * Fields with the same value in every captured input of the group (groups of 5 or more), with
   * that value's share of the training values when the reference profile knows it.
   */
  shared: { field: string; value: unknown; referenceShare: number | null }[];
}

/** Captured inputs replayed one at a time and then concurrently: does overlapping change outputs? */
export interface ConcurrencyCheck {
  /** Captures replayed (a spread over the failure groups, at most 48). */
  records: number;
  concurrency: number;
  rounds: number;
  /** Of those, how many fail when replayed alone. */
  reproducedAlone: number;
  /** Records whose outcome changed under concurrency (a race or shared state). */
  differences: ReplayManyResult['differences'];
  /** Records whose two sequential runs already differed (nondeterministic; not blamed on concurrency). */
  unstable: string[];
  raceSuspected: boolean;
  /** Per failure group (as in `replays`): captures replayed, and how many changed under concurrency. */
  groups: { classKey: string; signature: string; replayed: number; changed: number }[];
}

/** The whole triage. */
export interface DiagnoseReport {
  schemaVersion: 1;
  generatedAt: string;
  inputs: Record<string, string | null>;
  /** What could not be checked, and why. */
  notChecked: string[];
  failures: FailureClass[];
  replays: ReplayFinding[];
  envDiff: EnvDiff | null;
  drift: DriftReport | null;
  /** Where the production inputs for the drift check came from: a sentence, and which input. */
  driftSource: string | null;
  driftFrom: 'logs' | 'captures' | null;
  /** The logged inputs' drift hour by hour, when the logs span two hours or more (at most 1,000). */
  driftTimeline: DriftTimeline | null;
  latency: LatencyBucket[] | null;
  memory: MemoryTrend | null;
  /** Where the slowest requests spend their time, from the logged stage timings. */
  stages: StageLatencyReport | null;
  /** Logged requests by the data sources they read (name, version, cache hit). */
  sources: SourceGroup[] | null;
  /** Open handles and descriptors against traffic, per process. */
  resources: ResourceTrend | null;
  /** The captured inputs replayed concurrently (a race condition check). */
  concurrency: ConcurrencyCheck | null;
  totals: { captures: number; loggedEntries: number; loggedErrors: number };
  rootCauses: RootCause[];
}

function readJson(path: string, flag: string): unknown {
  if (!existsSync(path)) throw new CliError(`${flag} ${path}: no such file`);
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (cause) {
    throw new CliError(`${flag} ${path}: not valid JSON (${(cause as Error).message})`, undefined, { cause });
  }
}

function fieldKinds(reference: Profile | undefined, inputs: unknown[]): FieldKinds {
  const kinds = new Map<string, 'numeric' | 'categorical' | 'other'>();
  if (reference) {
    for (const [name, f] of Object.entries(reference.fields)) {
      kinds.set(
        name,
        f.types.number > 0 && f.types.string === 0 ? 'numeric' : f.types.string > 0 ? 'categorical' : 'other',
      );
    }
    return kinds;
  }
  // Without a reference, a field is expected when most inputs carry it.
  const seen = new Map<string, number>();
  for (const input of inputs) {
    if (typeof input !== 'object' || input === null) continue;
    for (const [k, v] of Object.entries(input)) {
      seen.set(k, (seen.get(k) ?? 0) + 1);
      if (typeof v === 'number' && !kinds.has(k)) kinds.set(k, 'numeric');
    }
  }
  for (const [k, n] of seen) if (n > inputs.length / 2 && !kinds.has(k)) kinds.set(k, 'other');
  return kinds;
}

const stringOf = (v: unknown) => (v instanceof Date ? v.toISOString() : v == null ? null : String(v));

function classKeyOf(name: string, message: string) {
  // A bad output and the logged error for it share the message; the capture calls it BadOutput.
  return message || name;
}

/** The failure class of one capture (`failureName` is capture's own name for it). */
function failureOf(r: CaptureRecord) {
  const name = failureName(r);
  const message = r.failure.kind === 'error' ? r.failure.error.message : r.failure.reason;
  return { name, message, key: classKeyOf(name, message) };
}

/** Runs the triage over whatever was given. Never throws for one missing or broken part. */
export async function diagnose(inputs: DiagnoseInputs): Promise<DiagnoseReport> {
  const progress = inputs.onProgress ?? (() => {});
  const notChecked: string[] = [];
  const report: DiagnoseReport = {
    schemaVersion: 1,
    generatedAt: new Date().toISOString(),
    inputs: {
      captures: inputs.captures ?? null,
      logs: inputs.logs ?? null,
      reference: inputs.reference ?? null,
      envA: inputs.envA ?? null,
      envB: inputs.envB ?? null,
      pipeline: inputs.service?.description ?? null,
    },
    notChecked,
    failures: [],
    replays: [],
    envDiff: null,
    drift: null,
    driftSource: null,
    driftFrom: null,
    driftTimeline: null,
    latency: null,
    memory: null,
    stages: null,
    sources: null,
    resources: null,
    concurrency: null,
    totals: { captures: 0, loggedEntries: 0, loggedErrors: 0 },
    rootCauses: [],
  };

  // 1. What failed: captures and logged errors, grouped into classes.
  let records: CaptureRecord[] = [];
  if (inputs.captures) {
    if (!existsSync(inputs.captures)) throw new CliError(`--captures ${inputs.captures}: no such directory`);
    progress('reading captures');
    const scan = await createFileCaptureStore(inputs.captures).scan();
    records = scan.records;
    report.totals.captures = records.length;
    if (scan.skipped.length > 0) {
      // Every one named (up to 20), each with its reason: a folder can hold several kinds of bad file.
      const named = scan.skipped
        .slice(0, 20)
        .map((s) => `${s.file}: ${s.reason}`)
        .join('; ');
      const more = scan.skipped.length > 20 ? `; and ${scan.skipped.length - 20} more` : '';
      notChecked.push(
        `captures: ${scan.skipped.length} record file(s) in ${inputs.captures} could not be read and were skipped (${named}${more})`,
      );
    } else if (records.length === 0)
      notChecked.push(`captures: ${inputs.captures} holds no capture records, so nothing was replayed`);
  } else notChecked.push('captures: not given (--captures DIR), so nothing was replayed');

  const classes = new Map<string, FailureClass>();
  const classOf = (name: string, message: string) => {
    const key = classKeyOf(name, message);
    let c = classes.get(key);
    if (!c) {
      c = {
        key,
        name,
        message,
        count: 0,
        captured: 0,
        logged: 0,
        firstSeen: null,
        lastSeen: null,
        modelVersions: [],
      };
      classes.set(key, c);
    }
    return c;
  };
  const seenAt = (c: FailureClass, first: string | null, last: string | null, versions: string[]) => {
    if (first && (!c.firstSeen || first < c.firstSeen)) c.firstSeen = first;
    if (last && (!c.lastSeen || last > c.lastSeen)) c.lastSeen = last;
    c.modelVersions = [...new Set([...c.modelVersions, ...versions])].sort();
  };
  for (const r of records) {
    const { name, message } = failureOf(r);
    const c = classOf(name, message);
    c.captured++;
    seenAt(c, r.timestamp, r.timestamp, [r.modelVersion]);
  }

  // Production inputs for the drift check, profiled while the logs are read, and what they stand for.
  const logged = createProfileBuilder();
  // The same rows hour by hour, to date a drift; dropped past the builder's 1,000 windows (hours).
  let hourly: TimelineBuilder | undefined = createTimelineBuilder(3_600_000);
  let loggedSource = '';
  if (inputs.logs) {
    if (!existsSync(inputs.logs)) throw new CliError(`--logs ${inputs.logs}: no such directory`);
    progress('querying prediction logs with DuckDB');
    try {
      // The uniform sample of requests when the logs have one (streamed: the folder's size does
      // not matter), else every logged entry; the source says which.
      const scan = await scanLoggedInputs(inputs.logs, (row, timestamp) => {
        logged.add(row);
        try {
          hourly?.add(row, Date.parse(timestamp));
        } catch {
          hourly = undefined;
        }
      });
      report.totals.loggedEntries = scan.entries;
      loggedSource = `logged inputs: ${scan.source}`;
      const segments = await scanSegments(inputs.logs);
      if (segments.tornLines > 0)
        notChecked.push(
          `logs: skipped ${segments.tornLines} torn last line(s) (a crash cut a write short) in ${segments.tornFiles.join(', ')}`,
        );
      if (scan.entries === 0) notChecked.push(`logs: ${inputs.logs} holds no prediction log entries`);
      else {
        const summary = await errorSummary(inputs.logs, { limit: 100 });
        report.totals.loggedErrors = summary.errors;
        for (const g of summary.groups) {
          const c = classOf(g.errorName, g.errorMessage);
          if (c.name === 'BadOutput') c.name = g.errorName;
          c.logged += g.count;
          seenAt(c, stringOf(g.firstSeen), stringOf(g.lastSeen), g.modelVersions);
        }
        report.latency = await latencyPercentiles(inputs.logs);
        report.memory = await memoryTrend(inputs.logs);
        if (report.memory.verdict === 'insufficient-data') {
          const t = report.memory.thresholds;
          notChecked.push(
            `memory growth: no process logged ${t.minPoints} memory samples with a climb of ${Math.round(t.minGrowthBytes / 2 ** 20)} MiB or more, too little to tell a leak from a warm-up; a longer run under traffic would decide it`,
          );
        }
        await readRuntime(inputs.logs, report);
      }
    } catch (error) {
      notChecked.push(`logs: could not query ${inputs.logs}: ${(error as Error).message}`);
    }
  } else
    notChecked.push(
      'logs: not given (--logs DIR), so no error rates, latency, per-stage timing, data sources, memory or open-handle trend',
    );
  for (const c of classes.values()) c.count = Math.max(c.captured, c.logged);
  report.failures = [...classes.values()].sort((a, b) => b.count - a.count);

  // 5 (first, because replay groups need the reference's field kinds). Drift of production inputs.
  let reference: Profile | undefined;
  if (inputs.reference) {
    try {
      reference = parseProfile(readJson(inputs.reference, '--reference'));
    } catch (error) {
      if (error instanceof CliError) throw error;
      throw new CliError(`--reference ${inputs.reference}: ${(error as Error).message}`, undefined, {
        cause: error,
      });
    }
    // The logged inputs, or without them the captured ones (failures only).
    const fromLogs = logged.rowCount > 0;
    const current = fromLogs ? logged : createProfileBuilder();
    // A captured tensor or text is not a row: drift covers the inputs that are.
    if (!fromLogs) for (const row of capturedRows(records)) current.add(row);
    if (current.rowCount === 0)
      notChecked.push('drift: no production inputs in the logs or captures to compare');
    else {
      progress('comparing production inputs with the training profile');
      report.drift = compare(reference, current.toJSON());
      if (fromLogs && hourly) {
        const timeline = driftTimeline(reference, hourly);
        if (timeline.windows.length >= 2) report.driftTimeline = timeline;
      }
      const source = fromLogs
        ? loggedSource
        : 'captured inputs: failures only, so this is the drift of what failed';
      report.driftSource = `${current.rowCount} ${source} (sanitized: numbers rounded to 2 significant digits)`;
      report.driftFrom = fromLogs ? 'logs' : 'captures';
    }
  } else notChecked.push('drift: no training profile given (--reference PROFILE)');

  // 4. The environment diff (used by the verdicts below).
  if (inputs.envA && inputs.envB) {
    let a: EnvSnapshot;
    let b: EnvSnapshot;
    try {
      a = parseSnapshotJson(readFileSync(inputs.envA, 'utf8'));
      b = parseSnapshotJson(readFileSync(inputs.envB, 'utf8'));
    } catch (error) {
      throw new CliError(`environment snapshots: ${(error as Error).message}`, undefined, { cause: error });
    }
    report.envDiff = diff(a, b);
  } else
    notChecked.push(
      'environment: needs both --env-a and --env-b snapshots to tell model or config file mismatches, dependency version mismatches and a lower memory limit',
    );

  // 2 and 3. Replay a representative of each (class, input signature); isolate the reproduced ones.
  const service = inputs.service?.service;
  if (records.length > 0 && !service) {
    notChecked.push(
      'replay: no service given (--pipeline pipeline.ts exporting defineService), so nothing was replayed or isolated',
    );
    notChecked.push(
      'race condition: needs --pipeline to replay the captured inputs one at a time and then concurrently',
    );
  } else if (records.length > 0 && service) {
    const kinds = fieldKinds(
      reference,
      records.map((r) => r.input),
    );
    const groups = new Map<string, ReplayGroup>();
    for (const r of records) {
      const classKey = failureOf(r).key;
      const anomalies = inputAnomalies(r.input, kinds);
      const key = `${classKey}\u0000${signatureKey(anomalies)}`;
      const g = groups.get(key);
      if (g) {
        g.count++;
        g.members.push(r);
        keepShared(g.shared, r.input);
      } else
        groups.set(key, {
          record: r,
          members: [r],
          anomalies,
          count: 1,
          classKey,
          shared: scalarFields(r.input),
        });
    }
    const ordered = [...groups.values()].sort((x, y) => y.count - x.count);
    const limit = inputs.maxReplays ?? 12;
    if (ordered.length > limit)
      notChecked.push(
        `replay: ${ordered.length - limit} smaller failure groups were not replayed (--max-replays)`,
      );
    for (const [i, g] of ordered.slice(0, limit).entries()) {
      progress(
        `replaying failure group ${i + 1}/${Math.min(limit, ordered.length)} (${describeFailure(g.record)})`,
      );
      report.replays.push(await replayGroup(g, service, reference));
    }
    progress('replaying captured inputs concurrently (race check)');
    report.concurrency = await concurrencyCheck(ordered, service, inputs.concurrency ?? 8);
  } else if (!inputs.captures)
    notChecked.push(
      'race condition: needs --captures and --pipeline (concurrent replay of the captured inputs)',
    );

  notChecked.push(...memoryLimitGaps(report));
  report.rootCauses = rankRootCauses(report, inputs);
  return report;
}

/**
 * A lower memory limit is decided from the env diff (B's ceiling is lower) together with the logs
 * (the heap runs near it, processes get replaced). With one of the two, say what the other would add.
 */
function memoryLimitGaps(report: DiagnoseReport): string[] {
  const lower = (report.envDiff?.differences ?? []).filter(
    (d) =>
      /heapLimitBytes|memoryLimitBytes/.test(d.path) &&
      typeof d.a === 'number' &&
      typeof d.b === 'number' &&
      d.b < d.a,
  );
  const logged = report.memory?.processes.some((p) => p.heapLimit !== null) ?? false;
  if (lower.length > 0 && !logged)
    return [
      `memory limit: B's limit is lower (${lower.map((d) => `${d.path} ${d.a} → ${d.b} bytes`).join(', ')}); whether its heap runs near it, or processes crash and restart, needs --logs with heap samples`,
    ];
  if (logged && !report.envDiff)
    return [
      'memory limit: the logs show how close each heap ran to its limit; whether B runs with a lower limit than A needs --env-a and --env-b',
    ];
  return [];
}

/** Captured failures with the same class and input signature; one of them is replayed. */
interface ReplayGroup {
  record: CaptureRecord;
  /** Every capture of the group, the representative first. */
  members: CaptureRecord[];
  anomalies: InputAnomaly[];
  count: number;
  classKey: string;
  /** Top-level scalar fields equal in every input so far (`Object.is`, so NaN equals NaN). */
  shared: Map<string, unknown>;
}

/** A group this small shares values by chance too often to be worth reporting. */
const MIN_SHARED_GROUP = 5;

function scalarFields(input: unknown): Map<string, unknown> {
  const out = new Map<string, unknown>();
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return out;
  for (const [k, v] of Object.entries(input)) {
    if (v === null || typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') out.set(k, v);
  }
  return out;
}

function keepShared(shared: Map<string, unknown>, input: unknown): void {
  const fields = scalarFields(input);
  for (const [k, v] of shared) if (!fields.has(k) || !Object.is(fields.get(k), v)) shared.delete(k);
}

/** Replay options for a service: its loader and, when it declares one, its failure check. */
function replayOptions(service: Service) {
  return {
    loadModel: (version: string) => service.loadModel(version),
    ...(service.isFailure ? { isFailure: service.isFailure } : {}),
  };
}

async function replayGroup(
  g: ReplayGroup,
  service: Service,
  reference: Profile | undefined,
): Promise<ReplayFinding> {
  const result = await replay(g.record, replayOptions(service));
  // The class of the replay's own failure: the captured one reproduced only if it is the same.
  const replayedKey = result.error
    ? classKeyOf(result.error.name, result.error.message)
    : result.failureReason !== undefined
      ? classKeyOf('BadOutput', result.failureReason)
      : undefined;
  const other = result.reproduced && replayedKey !== g.classKey;
  const otherFailure = other
    ? result.error
      ? { name: result.error.name, message: result.error.message }
      : { name: 'BadOutput', message: result.failureReason ?? '' }
    : undefined;
  const finding: ReplayFinding = {
    classKey: g.classKey,
    signature: signatureText(g.anomalies),
    anomalies: g.anomalies,
    count: g.count,
    recordId: g.record.id,
    modelVersion: g.record.modelVersion,
    reproduced: result.reproduced && !other,
    verdict: other ? 'environment' : result.verdict,
    explanation: otherFailure
      ? `Replayed locally on model ${result.modelVersion}, it fails another way (${otherFailure.name}: ${otherFailure.message}), not with the captured failure: the local run cannot run this input as production did, so the captured failure is not reproduced.`
      : result.explanation,
    note: result.note,
    ...(otherFailure ? { otherFailure } : {}),
    inputUsed: result.inputUsed,
    shared:
      g.count < MIN_SHARED_GROUP
        ? []
        : [...g.shared]
            // The signature already names the anomalous fields.
            .filter(([field]) => !g.anomalies.some((a) => a.field === field))
            .map(([field, value]) => ({
              field,
              value,
              referenceShare: reference?.fields[field] ? valueShare(reference.fields[field]!, value) : null,
            }))
            // Kept when chance explains it poorly: `count` training values all equal to it with
            // probability share^count; a value most training rows have is shared by chance.
            .filter((x) => x.referenceShare === null || x.referenceShare ** g.count < 0.01),
  };
  if (!finding.reproduced) return finding;
  // Isolation runs on the stored (sanitized) input: the sealed raw input stays with replay.
  const pipeline: Pipeline<never, unknown> = await service.pipeline(g.record.modelVersion);
  finding.isolation = (await isolateInput(pipeline, g.record.input)).finding;
  return finding;
}

const signatureText = (anomalies: readonly InputAnomaly[]) =>
  anomalies.length ? anomalies.map(describeAnomaly).join('; ') : 'no anomaly in the input';

/** Captures replayed in the concurrency check: at most this many, spread over the groups. */
const MAX_CONCURRENCY_RECORDS = 48;

/**
 * Replays a spread of the captures (every group represented, largest first) one at a time, twice,
 * then `concurrency` at a time for three rounds on one loaded model (as the service shares one
 * between requests): an outcome that changes only when calls overlap is a race on shared state.
 */
async function concurrencyCheck(
  groups: readonly ReplayGroup[],
  service: Service,
  concurrency: number,
): Promise<ConcurrencyCheck> {
  const picked: { record: CaptureRecord; group: number }[] = [];
  const queues = groups.map((g) => [...g.members]);
  while (picked.length < MAX_CONCURRENCY_RECORDS && queues.some((q) => q.length > 0)) {
    queues.forEach((q, group) => {
      const record = q.shift();
      if (record && picked.length < MAX_CONCURRENCY_RECORDS) picked.push({ record, group });
    });
  }
  const rounds = 3;
  const result = await replayMany(
    picked.map((p) => p.record),
    { ...replayOptions(service), concurrency, rounds },
  );
  const changed = new Set(result.differences.map((d) => d.recordId));
  return {
    records: picked.length,
    concurrency,
    rounds,
    reproducedAlone: result.results.filter((r) => r.reproduced).length,
    differences: result.differences,
    unstable: result.unstable,
    raceSuspected: result.raceSuspected,
    groups: groups.map((g, i) => {
      const mine = picked.filter((p) => p.group === i);
      return {
        classKey: g.classKey,
        signature: signatureText(g.anomalies),
        replayed: mine.length,
        changed: mine.filter((p) => changed.has(p.record.id)).length,
      };
    }),
  };
}

/**
 * The runtime signals of the logs: per-stage timing, data sources, open handles. A signal the
 * entries do not carry is named under "not checked" with what would decide it.
 */
async function readRuntime(dir: string, report: DiagnoseReport): Promise<void> {
  const stages = await stageLatency(dir);
  if (stages.entries > 0) report.stages = stages;
  else
    report.notChecked.push(
      'slow stage: the log entries carry no per-stage timings; log a traced pipeline.run (pass the trace to log()) to tell which stage the slow requests spend their time in',
    );
  const sources = await sourceBreakdown(dir);
  if (sources.length > 0) report.sources = sources;
  else
    report.notChecked.push(
      "stale or slow data source: the log entries record no data sources; report reads with ctx.source(name, { version, asOf, hit, ms }) in the pipeline's stages and pass the trace to log()",
    );
  const resources = await resourceTrend(dir);
  if (resources.processes.length > 0) report.resources = resources;
  else
    report.notChecked.push(
      'open handles: the log entries carry no resource samples (resources.handles, written by this version of @prodprobe/logger on)',
    );
}
