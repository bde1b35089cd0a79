import { existsSync, readFileSync } from 'node:fs';
import {
  type CaptureRecord,
  createFileCaptureStore,
  describeFailure,
  failureName,
  replay,
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
import { isolate, type LayerReport, type Pipeline } from '@prodprobe/layers';
import {
  errorSummary,
  type LatencyBucket,
  latencyPercentiles,
  type MemoryTrend,
  memoryTrend,
} from '@prodprobe/logger/query';
import { capturedRows, scanLoggedInputs } from '../input-rows.js';
import { CliError } from '../output.js';
import type { LocalPipeline } from './local-pipeline.js';
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
  pipeline?: LocalPipeline;
  /** At most this many (class, signature) groups are replayed. @default 12 */
  maxReplays?: number;
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
  inputUsed: string;
  isolation?: {
    failedStage: string | null;
    nonFiniteOrigin: string | null;
    issues: string[];
  };
  onnx?: {
    inspected: boolean;
    firstNonFinite: { node: string; opType: string; output: string } | null;
    reason?: string;
  };
  /**
   * Fields with the same value in every captured input of the group (groups of 5 or more), with
   * that value's share of the training values when the reference profile knows it.
   */
  shared: { field: string; value: unknown; referenceShare: number | null }[];
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
      pipeline: inputs.pipeline?.description ?? null,
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
    const [first] = scan.skipped;
    if (first)
      notChecked.push(
        `captures: ${scan.skipped.length} record file(s) in ${inputs.captures} could not be read and were skipped (${first.file}: ${first.reason})`,
      );
    else if (records.length === 0)
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
      }
    } catch (error) {
      notChecked.push(`logs: could not query ${inputs.logs}: ${(error as Error).message}`);
    }
  } else notChecked.push('logs: not given (--logs DIR), so no error rates, latency or memory trend');
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
  } else notChecked.push('environment: needs both --env-a and --env-b snapshots');

  // 2 and 3. Replay a representative of each (class, input signature); isolate the reproduced ones.
  if (records.length > 0 && !inputs.pipeline) {
    notChecked.push('replay: no local model given (--model MODEL.onnx or --pipeline module.js)');
  } else if (records.length > 0 && inputs.pipeline) {
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
        keepShared(g.shared, r.input);
      } else groups.set(key, { record: r, anomalies, count: 1, classKey, shared: scalarFields(r.input) });
    }
    const ordered = [...groups.values()].sort((x, y) => y.count - x.count);
    const limit = inputs.maxReplays ?? 12;
    if (ordered.length > limit)
      notChecked.push(
        `replay: ${ordered.length - limit} smaller failure groups were not replayed (--max-replays)`,
      );
    const cache = new Map<string, Promise<Pipeline>>();
    const pipelineFor = (version: string) => {
      const cached = cache.get(version);
      if (cached) return cached;
      const loaded = inputs.pipeline!.load(version);
      cache.set(version, loaded);
      return loaded;
    };
    for (const [i, g] of ordered.slice(0, limit).entries()) {
      progress(
        `replaying failure group ${i + 1}/${Math.min(limit, ordered.length)} (${describeFailure(g.record)})`,
      );
      report.replays.push(await replayGroup(g, inputs.pipeline, pipelineFor, reference));
    }
  }

  report.rootCauses = rankRootCauses(report, inputs);
  return report;
}

/** Captured failures with the same class and input signature; one of them is replayed. */
interface ReplayGroup {
  record: CaptureRecord;
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

async function replayGroup(
  g: ReplayGroup,
  local: LocalPipeline,
  pipelineFor: (version: string) => Promise<Pipeline>,
  reference: Profile | undefined,
): Promise<ReplayFinding> {
  const pipeline = await pipelineFor(g.record.modelVersion);
  const result = await replay(g.record, {
    loadModel: async () => (input: unknown) => pipeline.run(input),
    isFailure: (output) => local.isFailure(output) || undefined,
  });
  const finding: ReplayFinding = {
    classKey: g.classKey,
    signature: g.anomalies.length ? g.anomalies.map(describeAnomaly).join('; ') : 'no anomaly in the input',
    anomalies: g.anomalies,
    count: g.count,
    recordId: g.record.id,
    modelVersion: g.record.modelVersion,
    reproduced: result.reproduced,
    verdict: result.verdict,
    explanation: result.explanation,
    note: result.note,
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
  if (!result.reproduced) return finding;
  // Isolation runs on the stored (sanitized) input: the sealed raw input stays with replay.
  const layers: LayerReport = await isolate(pipeline, g.record.input, { keepOutputs: true });
  finding.isolation = {
    failedStage: layers.failedStage,
    nonFiniteOrigin: layers.nonFiniteOrigin,
    issues: [
      ...layers.input.issues.map((i) => `input: ${issueText(i)}`),
      ...layers.stages.flatMap((s) =>
        (s.health?.issues ?? []).slice(0, 3).map((i) => `${s.stage}: ${issueText(i)}`),
      ),
    ].slice(0, 8),
  };
  finding.onnx = await inspectInference(layers, local);
  return finding;
}

function issueText(issue: unknown): string {
  const i = issue as { path?: string; kind?: string; message?: string };
  return i.message ?? `${i.path ?? '(root)'} ${i.kind ?? ''}`.trim();
}

/** For a failure that starts in inference, the first ONNX node whose output goes non-finite. */
async function inspectInference(layers: LayerReport, local: LocalPipeline): Promise<ReplayFinding['onnx']> {
  const inferenceFault = layers.failedStage === 'forward' || layers.nonFiniteOrigin === 'forward';
  if (!inferenceFault) {
    return {
      inspected: false,
      firstNonFinite: null,
      reason: 'not in inference: ONNX nodes not inspected',
    };
  }
  if (!local.onnxPath || !local.onnxInputName)
    return { inspected: false, firstNonFinite: null, reason: 'no ONNX model to inspect' };
  const pre = layers.stages.find((s) => s.stage === 'preprocess');
  const features = pre?.output;
  if (!(features instanceof Float32Array))
    return { inspected: false, firstNonFinite: null, reason: 'preprocess output is not a float32 tensor' };
  const { inspectOnnx } = await import('@prodprobe/layers/onnx');
  const inspection = await inspectOnnx(local.onnxPath, {
    [local.onnxInputName]: { type: 'float32', dims: [1, features.length], data: features },
  });
  const f = inspection.firstNonFinite;
  return { inspected: true, firstNonFinite: f ? { node: f.node, opType: f.opType, output: f.output } : null };
}
