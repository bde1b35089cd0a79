import { timelineSentence } from '../drift-timeline.js';
import { describeIsolation } from '../isolation.js';
import type { DiagnoseInputs, DiagnoseReport, ReplayFinding } from './diagnose.js';
import { describeShared, formatValue } from './format-value.js';
import { describeAnomaly } from './signature.js';

/** The kinds of cause diagnose can name. */
export type RootCauseKind =
  | 'non-finite-input'
  | 'missing-field'
  | 'stage-error'
  | 'unseen-category'
  | 'out-of-range'
  | 'zero-std-scaler'
  | 'model-mismatch'
  | 'config-mismatch'
  | 'dependency-mismatch'
  | 'memory-limit'
  | 'race-condition'
  | 'stale-data'
  | 'data-source'
  | 'slow-stage'
  | 'resource-leak'
  | 'memory-leak'
  | 'environment'
  | 'distribution-drift'
  | 'model-or-input';

/** One probable root cause, with the evidence for it, what would refute it, and the command to run next. */
export interface RootCause {
  rank: number;
  kind: RootCauseKind;
  title: string;
  confidence: 'high' | 'medium' | 'low';
  /** Requests affected, when known. */
  affected: number;
  /** Failed requests (captures and logged errors) this cause accounts for, of all the failures seen. */
  explains: { failures: number; of: number };
  evidence: string[];
  /** What would show this cause wrong: the observation, and how to make it. */
  refutedBy: string[];
  /** Other causes that account for some of the same failures, and which accounts for more. */
  overlaps: string[];
  next: string;
}

/**
 * A cause while it is being ranked: the failures it accounts for, keyed by failure class and input
 * signature (`class\0signature`), or by class alone (`class\0*`) when the evidence is per class
 * (logged errors carry no signature).
 */
type Draft = Omit<RootCause, 'rank' | 'explains' | 'overlaps'> & { accounts: Map<string, number> };
const ANY = '*';
const groupKey = (f: { classKey: string; signature: string }) => `${f.classKey}\u0000${f.signature}`;
const wholeClass = (key: string) => `${key}\u0000${ANY}`;

const weight = { high: 3, medium: 2, low: 1 } as const;
/** Causes that name no mechanism, only where to look: ranked after the specific ones of equal confidence. */
const generic = new Set<RootCauseKind>(['environment', 'model-or-input', 'distribution-drift']);
const q = (s: string | null | undefined) => (s ? (/\s/.test(s) ? JSON.stringify(s) : s) : '<path>');
const pct = (x: number) => `${(x * 100).toFixed(x < 0.1 && x > 0 ? 1 : 0)}%`;
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
const msText = (v: number) => `${v < 10 ? v.toFixed(1) : Math.round(v)} ms`;

function accounts(entries: Iterable<[string, number]>): Map<string, number> {
  const m = new Map<string, number>();
  for (const [k, n] of entries) if (n > 0) m.set(k, (m.get(k) ?? 0) + n);
  return m;
}

/**
 * Turns the triage's findings into ranked probable causes. Each rule reads one kind of evidence:
 * reproduced replays (input faults and failing stages, located by isolation), the concurrency
 * check (races), environment-only failures with the env diff (model, config, dependency, memory
 * limit), the data sources the logs recorded (stale data), the stage timings (slow stages), the
 * memory and handle trends, and the drift report. Ranked by confidence, specific before generic,
 * then by the failures explained; causes that share failures say which explains more of them.
 */
export function rankRootCauses(r: DiagnoseReport, inputs: DiagnoseInputs): RootCause[] {
  const causes: Draft[] = [];
  const flags = inputs.service?.flags ?? [];
  const replayCmd = (id: string) =>
    ['prodprobe capture replay', q(inputs.captures), id, ...flags.map(q)].join(' ');
  const isolateCmd = (id: string) =>
    ['prodprobe layers isolate', ...flags.map(q), '--capture', q(inputs.captures), '--id', id].join(' ');
  const fieldReport = (name: string) => r.drift?.fields.find((f) => f.name === name);
  const classCount = new Map(r.failures.map((f) => [f.key, f.count]));
  const totalFailures = r.failures.reduce((n, f) => n + f.count, 0);

  // Reproduced failures: the input itself breaks the pipeline; isolation says where.
  for (const f of r.replays.filter((x) => x.reproduced))
    causes.push(...reproducedCauses(f, replayCmd, isolateCmd, fieldReport));

  // A race: outcomes that change only when the captured inputs are replayed concurrently.
  const raced = new Set<string>();
  const conc = r.concurrency;
  if (conc?.raceSuspected) {
    const groups = conc.groups.filter((g) => g.changed > 0);
    for (const g of groups) raced.add(groupKey(g));
    const aloneFine = r.replays.filter((f) => !f.reproduced && raced.has(groupKey(f)));
    const [d] = conc.differences;
    const show = (o: { error?: { name: string; message: string }; result?: unknown }) =>
      o.error ? `${o.error.name}: ${o.error.message}` : formatValue(o.result, 80);
    causes.push({
      kind: 'race-condition',
      title: 'Race condition on shared state: outputs change when requests overlap',
      confidence: aloneFine.length > 0 && conc.unstable.length === 0 ? 'high' : 'medium',
      affected: aloneFine.reduce((n, f) => n + f.count, 0),
      accounts: accounts(aloneFine.map((f) => [groupKey(f), f.count])),
      evidence: [
        `Replayed ${conc.records} captured inputs one at a time, twice: ${conc.reproducedAlone} fail, and both runs agree${conc.unstable.length ? ` (except ${conc.unstable.length} nondeterministic record(s), left out)` : ''}.`,
        `Replayed ${conc.concurrency} at a time (${conc.rounds} rounds) on one loaded model: ${conc.differences.length} outcome(s) change.`,
        ...(d
          ? [`Capture ${d.recordId}: alone ${show(d.sequential)}; concurrently ${show(d.concurrent)}.`]
          : []),
        ...aloneFine.map(
          (f) =>
            `${f.count} captured failure(s) "${f.classKey}" do not reproduce alone (so a sequential replay blames the environment) but change under concurrency.`,
        ),
      ],
      refutedBy: [
        'the same outcomes changing with --concurrency 1 (then it is nondeterminism, not overlapping calls)',
        'the failures reproducing one at a time on a fresh process (then it is the input, not shared state)',
      ],
      next: [
        'prodprobe capture replay',
        q(inputs.captures),
        '--all',
        ...flags.map(q),
        '--concurrency',
        String(conc.concurrency),
      ].join(' '),
    });
  }

  // Failures that do not reproduce (and no race explains): the environment differs. What in it?
  const envOnly = r.replays.filter((x) => !x.reproduced && !raced.has(groupKey(x)));
  const envAccounts = () => accounts(envOnly.map((f) => [groupKey(f), f.count]));
  const affectedEnvOnly = envOnly.reduce((n, f) => n + f.count, 0);
  const envEvidence = envOnly.map(
    (f) =>
      `${f.count} captured failure(s) "${f.classKey}" with ${f.signature} do not reproduce locally (capture ${f.recordId}): ${f.explanation}${f.note ? ` ${f.note}` : ''}`,
  );
  const diffCmd = `prodprobe env diff ${q(r.inputs.envA)} ${q(r.inputs.envB)}`;
  const differences = r.envDiff?.differences ?? [];
  const notReproducing =
    envOnly.length > 0 ? 'failures that do not reproduce locally' : 'no replayed failure';
  for (const z of zeroStdScalers(differences)) {
    // The failures that do not reproduce here, all with one value of the scaled field: the
    // value the zero std breaks.
    const sharedBy = envOnly.flatMap((f) =>
      f.shared
        .filter((x) => x.field === z.field)
        .map((x) => {
          const why =
            x.value === z.meanB
              ? `: B's scaler has mean ${z.meanB}, so standardising gives (${z.meanB} − ${z.meanB}) / 0 = NaN`
              : '';
          return `All ${f.count} of them have ${describeShared([x])}${why}.`;
        }),
    );
    causes.push({
      kind: 'zero-std-scaler',
      title: `Zero-std scaler in B's preprocessing config${z.field ? ` for ${z.field}` : ''}: standardising divides by 0`,
      confidence: envOnly.length > 0 ? 'high' : 'medium',
      affected: affectedEnvOnly,
      accounts: envAccounts(),
      evidence: [
        `Environment diff: ${z.path} is ${formatValue(z.a, 80)} in A and 0 in B.`,
        ...envEvidence,
        ...sharedBy,
      ],
      refutedBy: [`the ${notReproducing} still failing with B's config restored to A's ${z.path}`],
      next: diffCmd,
    });
  }
  const modelFiles = differences.filter((d) => d.category === 'model' && /sha256|hash/i.test(d.path));
  for (const d of modelFiles) {
    const isModel = /model/i.test(d.path) && !/preprocess|config/i.test(d.path);
    const scaler = causes.find((c) => c.kind === 'zero-std-scaler');
    if (!isModel && scaler) {
      // The changed config file is where the zero std lives: evidence for that cause, not another one.
      scaler.evidence.splice(
        1,
        0,
        `${d.path} differs: ${formatValue(d.a, 16)} in A, ${formatValue(d.b, 16)} in B.`,
      );
      continue;
    }
    causes.push({
      kind: isModel ? 'model-mismatch' : 'config-mismatch',
      title: isModel
        ? `Model file differs between the environments (${d.path}): production loads another file than staging`
        : `A model-side file differs between the environments (${d.path})`,
      confidence: envOnly.length > 0 ? 'high' : 'medium',
      affected: affectedEnvOnly,
      accounts: envAccounts(),
      evidence: [
        `sha256 in A: ${formatValue(d.a, 80)}`,
        `sha256 in B: ${formatValue(d.b, 80)}`,
        ...envEvidence,
      ],
      refutedBy: [
        `the ${notReproducing} still failing when B loads A's file (same sha256)`,
        "a replay on B's file (--pipeline loading it) that does not fail",
      ],
      next: diffCmd,
    });
  }
  const deps = differences.filter(
    (d) =>
      (d.category === 'package' || d.category === 'native') &&
      d.severity !== 'info' &&
      d.path.startsWith('packages'),
  );
  if (deps.length > 0) {
    const names = deps.map(
      (d) => `${d.path.replace(/^packages\./, '')} ${formatValue(d.a, 30)} → ${formatValue(d.b, 30)}`,
    );
    causes.push({
      kind: 'dependency-mismatch',
      title: `Dependency versions differ: ${names.slice(0, 3).join(', ')}${names.length > 3 ? ` and ${names.length - 3} more` : ''}`,
      confidence: envOnly.length > 0 ? (deps.length <= 3 ? 'high' : 'medium') : 'low',
      affected: affectedEnvOnly,
      accounts: envAccounts(),
      evidence: [
        ...deps
          .slice(0, 5)
          .map(
            (d) =>
              `Environment diff (${d.severity}): ${d.path}: ${formatValue(d.a, 60)} in A, ${formatValue(d.b, 60)} in B (${d.message}).`,
          ),
        ...envEvidence,
      ],
      refutedBy: [
        `the ${notReproducing} still failing with B's dependency versions installed to match A's`,
        "the failures reproducing locally with A's versions (then the versions are not the cause)",
      ],
      next: `${diffCmd} --category package`,
    });
  }

  // A lower memory limit: the env diff says B's ceiling is lower; the logs say how close the heap ran.
  const limits = differences.filter(
    (d) =>
      /heapLimitBytes|memoryLimitBytes/.test(d.path) &&
      typeof d.a === 'number' &&
      typeof d.b === 'number' &&
      d.b < d.a,
  );
  const hot = (r.memory?.processes ?? []).filter((p) => (p.peakHeapShare ?? 0) >= 0.8);
  const crashed = hot.filter((p) => p.replaced);
  if (limits.length > 0 && hot.length > 0) {
    const worst = [...hot].sort((a, b) => (b.peakHeapShare ?? 0) - (a.peakHeapShare ?? 0))[0]!;
    causes.push({
      kind: 'memory-limit',
      title: `Lower memory limit in B: ${limits.map((d) => `${d.path} ${mb(d.a as number)} → ${mb(d.b as number)}`).join(', ')}, and the heap runs at it${crashed.length ? ' (processes crash out of memory and restart)' : ''}`,
      confidence: 'high',
      affected: Math.round(crashed.reduce((n, p) => n + p.requests, 0)),
      accounts: new Map(),
      evidence: [
        ...limits.map(
          (d) =>
            `Environment diff (${d.severity}): ${d.path} is ${mb(d.a as number)} in A and ${mb(d.b as number)} in B.`,
        ),
        `Process ${worst.host}/${worst.pid}: heap peaked at ${mb(worst.maxHeapUsed)} of its ${mb(worst.heapLimit ?? 0)} limit (${pct(worst.peakHeapShare ?? 0)}).`,
        ...crashed.map(
          (p) =>
            `Process ${p.host}/${p.pid} stopped logging at ${p.lastSeen.toISOString()} with its heap at ${pct(p.peakHeapShare ?? 0)} of the limit, and a new process took over: a crash (out of memory) and a restart.`,
        ),
      ],
      refutedBy: [
        "B's heap staying well under its limit under the same traffic",
        'processes replaced while their heap was far from the limit (then something else kills them)',
      ],
      next: `prodprobe logs memory ${q(r.inputs.logs)}`,
    });
  } else if (hot.length > 0) {
    const worst = hot[0]!;
    causes.push({
      kind: 'memory-limit',
      title: `The heap runs near its limit (${pct(worst.peakHeapShare ?? 0)} of ${mb(worst.heapLimit ?? 0)})${crashed.length ? ', and processes restart' : ''}`,
      confidence: crashed.length > 0 ? 'medium' : 'low',
      affected: 0,
      accounts: new Map(),
      evidence: hot.map(
        (p) =>
          `Process ${p.host}/${p.pid}: heap peaked at ${mb(p.maxHeapUsed)} of ${mb(p.heapLimit ?? 0)}${p.replaced ? '; a new process took over after it' : ''}.`,
      ),
      refutedBy: ["the environment diff showing the same limit in A and B (then A's heap also runs near it)"],
      next: r.envDiff
        ? `prodprobe logs memory ${q(r.inputs.logs)}`
        : 'prodprobe env snapshot --out snap.json   # in each environment, then diagnose --env-a --env-b',
    });
  }

  // Stale or misbehaving data sources: the logged failures share what a source served.
  causes.push(...dataSourceCauses(r));

  if (
    envOnly.length > 0 &&
    !causes.some((c) =>
      ['zero-std-scaler', 'model-mismatch', 'dependency-mismatch', 'stale-data'].includes(c.kind),
    )
  ) {
    const critical = differences.filter((d) => d.severity === 'critical').slice(0, 5);
    causes.push({
      kind: 'environment',
      title: 'Failures do not reproduce locally: the environment differs',
      confidence: critical.length ? 'medium' : 'low',
      affected: affectedEnvOnly,
      accounts: envAccounts(),
      evidence: [
        ...envEvidence,
        ...(critical.length
          ? critical.map(
              (d) => `Critical difference: ${d.path}: ${formatValue(d.a, 80)} → ${formatValue(d.b, 80)}`,
            )
          : [
              r.envDiff
                ? 'The environment diff shows no critical difference.'
                : 'No environment snapshots were given.',
            ]),
      ],
      refutedBy: [
        'the failures reproducing locally with the sealed raw input (--key-file): then the sanitized input hid the trigger',
      ],
      next: r.envDiff ? diffCmd : 'prodprobe env snapshot --out snap.json   # in each environment',
    });
  }

  // Slow requests: which stage takes their time.
  const st = r.stages;
  if (st?.dominant && st.slowThresholdMs !== null && st.p50LatencyMs !== null) {
    const stage = st.stages.find((s) => s.stage === st.dominant)!;
    const tail = st.slowThresholdMs >= 5 * Math.max(st.p50LatencyMs, 0.1) && st.slowThresholdMs >= 20;
    if (tail) {
      const reads = (r.sources ?? []).filter((g) => g.stage === stage.stage && g.p99Ms !== null);
      const slowRead = [...reads].sort((a, b) => (b.p99Ms ?? 0) - (a.p99Ms ?? 0))[0];
      causes.push({
        kind: 'slow-stage',
        title: `Slow stage ${stage.stage}${slowRead ? ` (data source ${slowRead.name})` : ''}: p99 latency is spent there`,
        confidence: (stage.slowShare ?? 0) >= 0.7 ? 'high' : 'medium',
        affected: Math.round(st.slowEntries),
        accounts: new Map(),
        evidence: [
          `Requests at p${Math.round(st.quantile * 100)} take ${msText(st.slowThresholdMs)} or more; the median request takes ${msText(st.p50LatencyMs)}.`,
          `Those requests spend ${pct(stage.slowShare ?? 0)} of their time in ${stage.stage} (mean ${msText(stage.slowMeanMs ?? 0)}; a typical request spends ${pct(stage.typicalShare ?? 0)} there), which takes ${msText(stage.p50)} at p50 and ${msText(stage.p99)} at p99.`,
          ...st.stages
            .filter((s) => s.stage !== stage.stage)
            .slice(0, 3)
            .map(
              (s) =>
                `${s.stage}: p50 ${msText(s.p50)}, p99 ${msText(s.p99)} (${pct(s.slowShare ?? 0)} of the slow requests' time).`,
            ),
          ...(slowRead
            ? [
                `${slowRead.name} reads (${slowRead.hit === true ? 'cache hits' : slowRead.hit === false ? 'cache misses' : 'all'}${slowRead.version ? `, version ${slowRead.version}` : ''}): p50 ${msText(slowRead.p50Ms ?? 0)}, p99 ${msText(slowRead.p99Ms ?? 0)}.`,
              ]
            : []),
        ],
        refutedBy: [`slow requests whose time is spread over the stages rather than in ${stage.stage}`],
        next: `prodprobe logs stages ${q(r.inputs.logs)}`,
      });
    }
  }

  // Open handles that grow with traffic.
  if (r.resources?.verdict === 'leak') {
    const leaking = r.resources.processes.filter((p) => p.verdict === 'leak');
    const worst = [...leaking].sort((a, b) => (b.handlesSlopePer1k ?? 0) - (a.handlesSlopePer1k ?? 0))[0]!;
    const what = worst.leaking.includes('handles')
      ? 'open handles (sockets, timers, servers)'
      : 'open file descriptors';
    causes.push({
      kind: 'resource-leak',
      title: `Resource leak: ${what} grow with traffic`,
      confidence: 'high',
      affected: 0,
      accounts: new Map(),
      evidence: leaking.map((p) =>
        p.leaking.includes('handles')
          ? `Process ${p.host}/${p.pid}: ${p.firstHandles} → ${p.lastHandles} open handles over ~${Math.round(p.requests)} requests, +${(p.handlesSlopePer1k ?? 0).toFixed(0)} per 1,000 requests (R² ${(p.handlesR2 ?? 0).toFixed(2)}).`
          : `Process ${p.host}/${p.pid}: ${p.firstFds} → ${p.lastFds} open file descriptors over ~${Math.round(p.requests)} requests, +${(p.fdsSlopePer1k ?? 0).toFixed(0)} per 1,000 requests (R² ${(p.fdsR2 ?? 0).toFixed(2)}).`,
      ),
      refutedBy: ['the count falling back when traffic stops (then they are in-flight requests, not a leak)'],
      next: `prodprobe logs resources ${q(r.inputs.logs)}`,
    });
  }

  // Drift warnings that explain silent failures (wrong predictions, no error).
  causes.push(...driftCauses(r, causes));

  // Memory that grows with traffic.
  if (r.memory?.verdict === 'leak') {
    const worst = [...r.memory.processes].sort((a, b) => (b.rssSlopePer1k ?? 0) - (a.rssSlopePer1k ?? 0))[0];
    causes.push({
      kind: 'memory-leak',
      title: 'Memory grows with traffic (a leak, e.g. a cache that is never evicted)',
      confidence: 'high',
      // No request has failed from it yet: ranked after the causes of failed requests.
      affected: 0,
      accounts: new Map(),
      evidence: worst
        ? [
            `Process ${worst.host}/${worst.pid}: rss ${mb(worst.firstRss)} → ${mb(worst.lastRss)} over ~${Math.round(worst.requests)} requests, +${mb(worst.rssSlopePer1k ?? 0)} per 1,000 requests (R² ${(worst.r2 ?? 0).toFixed(2)}).`,
          ]
        : [],
      refutedBy: ['rss levelling off after a warm-up under the same traffic (a cache reaching its bound)'],
      next: `prodprobe logs memory ${q(r.inputs.logs)}`,
    });
  }

  return finish(causes, classCount, totalFailures);
}

/** The causes of one reproduced failure group: its input anomalies, or the stage that throws. */
function reproducedCauses(
  f: ReplayFinding,
  replayCmd: (id: string) => string,
  isolateCmd: (id: string) => string,
  fieldReport: (name: string) => NonNullable<DiagnoseReport['drift']>['fields'][number] | undefined,
): Draft[] {
  const iso = f.isolation;
  const where = iso?.nonFiniteOrigin ?? iso?.failedStage;
  const stage = where ? ` (first non-finite value produced in the ${where} stage)` : '';
  const onnx = iso?.onnx.firstNonFinite
    ? ` First non-finite ONNX node: ${iso.onnx.firstNonFinite.node} (${iso.onnx.firstNonFinite.opType}).`
    : '';
  const base = [
    `${f.count} captured failure(s) "${f.classKey}" share this input pattern: ${f.signature}.`,
    `Replayed capture ${f.recordId} locally on ${f.modelVersion}: reproduced (${f.inputUsed} input) → model or input problem.${onnx}`,
    ...(iso ? [`Isolation: ${describeIsolation(iso)}.`] : []),
    ...(iso?.issues.slice(0, 3) ?? []),
  ];
  const own = (): Map<string, number> => new Map([[groupKey(f), f.count]]);
  const patternRefute = `failures of "${f.classKey}" whose inputs do not have this pattern (${f.signature})`;
  const nonFinite = f.anomalies.filter(
    (a) => a.kind === 'nan' || a.kind === 'infinite' || a.kind === 'non-numeric-string' || a.kind === 'null',
  );
  const missing = f.anomalies.filter((a) => a.kind === 'missing');
  const out: Draft[] = [];
  for (const a of nonFinite) {
    out.push({
      kind: 'non-finite-input',
      title: `Non-finite input: ${describeAnomaly(a)}, and validation lets it through${stage}`,
      confidence: 'high',
      affected: f.count,
      accounts: own(),
      evidence: base,
      refutedBy: [patternRefute, `the same input with ${a.field} finite still failing`],
      next: replayCmd(f.recordId),
    });
  }
  for (const a of missing) {
    const drift = fieldReport(a.field);
    const nulls = drift?.warnings.find((w) => w.code === 'new_nulls' || w.code === 'field_missing');
    out.push({
      kind: 'missing-field',
      title: `Missing field: ${a.field} is absent from production requests${stage}`,
      confidence: 'high',
      affected: f.count,
      accounts: own(),
      evidence: nulls ? [...base, `Drift: ${nulls.message}`] : base,
      refutedBy: [patternRefute, `the same input with ${a.field} given still failing`],
      next: replayCmd(f.recordId),
    });
  }
  if (out.length > 0) return out;
  if (iso?.failedStage && iso.failedKind !== 'validation') {
    const empty = f.anomalies.filter((a) => a.kind === 'empty-array');
    return [
      {
        kind: 'stage-error',
        title: `Stage ${iso.failedStage} (${iso.failedKind}) throws${iso.error ? ` ${iso.error.name}: ${iso.error.message}` : ''}${empty.length ? ` when ${empty.map(describeAnomaly).join(' and ')}` : ''}`,
        confidence: 'high',
        affected: f.count,
        accounts: own(),
        evidence: base,
        refutedBy: [patternRefute, `layers isolate on the same input passing ${iso.failedStage}`],
        next: isolateCmd(f.recordId),
      },
    ];
  }
  return [
    {
      kind: 'model-or-input',
      title: `Failure "${f.classKey}" reproduces locally with no visible input anomaly${stage}`,
      confidence: 'medium',
      affected: f.count,
      accounts: own(),
      evidence: base,
      refutedBy: ['the failure not reproducing on the staging model version (--use-version)'],
      next: isolateCmd(f.recordId),
    },
  ];
}

/**
 * Data sources the failing requests have in common: a source version or cache state (hit/miss)
 * whose requests fail while the others of the same source succeed. Older data (by `asOf`, or a
 * cache hit against a fresh miss) is stale data; otherwise it is a bad source version.
 */
function dataSourceCauses(r: DiagnoseReport): Draft[] {
  const groups = r.sources ?? [];
  const out: Draft[] = [];
  const totalErrors = r.totals.loggedErrors;
  for (const name of new Set(groups.map((g) => g.name))) {
    const mine = groups.filter((g) => g.name === name);
    const bad = mine
      .filter((g) => g.errors >= 3 && g.errorRate >= 0.5)
      .sort((a, b) => b.errors - a.errors)[0];
    const good = mine
      .filter((g) => g.errorRate <= 0.05 && g.requests >= 10)
      .sort((a, b) => b.requests - a.requests)[0];
    if (!bad || !good) continue;
    const olderAsOf = bad.newestAsOf !== null && good.oldestAsOf !== null && bad.newestAsOf < good.oldestAsOf;
    const staleHit = bad.hit === true && good.hit === false;
    const stale = olderAsOf || staleHit;
    const share = totalErrors > 0 ? bad.errors / totalErrors : 0;
    const describe = (g: typeof bad) =>
      [
        g.version ? `version ${g.version}` : null,
        g.hit === true ? 'cache hit' : g.hit === false ? 'cache miss' : null,
        g.newestAsOf
          ? `data as of ${g.oldestAsOf === g.newestAsOf ? g.newestAsOf : `${g.oldestAsOf}…${g.newestAsOf}`}`
          : null,
      ]
        .filter(Boolean)
        .join(', ') || 'unversioned';
    out.push({
      kind: stale ? 'stale-data' : 'data-source',
      title: stale
        ? `Stale data from ${name}: requests it served ${describe(bad)} fail, fresh reads succeed`
        : `Failures follow what ${name} served: ${describe(bad)}`,
      confidence: share >= 0.8 && good.errorRate <= 0.01 ? 'high' : 'medium',
      affected: bad.errors,
      accounts: accounts(bad.errorClasses.map((c) => [wholeClass(c.message || c.name), c.count])),
      evidence: [
        `${bad.errors} of the ${totalErrors} logged errors read ${name} (${bad.stage ? `stage ${bad.stage}, ` : ''}${describe(bad)}): error rate ${pct(bad.errorRate)} over ~${Math.round(bad.requests)} requests.`,
        `Requests that read ${name} with ${describe(good)}: error rate ${pct(good.errorRate)} over ~${Math.round(good.requests)} requests.`,
        ...bad.errorClasses.slice(0, 2).map((c) => `Their failures: ${c.count} × ${c.name}: ${c.message}`),
        ...(olderAsOf
          ? [
              `The failing reads served older data (as of ${bad.newestAsOf} at the newest) than the succeeding ones (from ${good.oldestAsOf}).`,
            ]
          : []),
      ],
      refutedBy: [
        `failures spread evenly over what ${name} served`,
        `a failing request replayed with ${name} serving ${describe(good)} still failing`,
      ],
      next: `prodprobe logs sources ${q(r.inputs.logs)}`,
    });
  }
  return out;
}

/** Drift warnings that explain silent failures (wrong predictions, no error). */
function driftCauses(r: DiagnoseReport, causes: readonly Draft[]): Draft[] {
  const out: Draft[] = [];
  // `drift compare` reads a log folder's or a capture folder's inputs as diagnose does.
  const current = q(r.driftFrom === 'logs' ? r.inputs.logs : r.inputs.captures);
  const none = () => new Map<string, number>();
  for (const f of r.drift?.fields ?? []) {
    for (const w of f.warnings) {
      const affected = Math.round((w.share ?? 0) * (f.current?.rows ?? 0));
      if (w.code === 'unseen_categories') {
        out.push({
          kind: 'unseen-category',
          title: `Unseen category in ${f.name}: ${(w.values ?? []).slice(0, 3).join(', ')} never appeared in training`,
          confidence: (w.share ?? 0) >= 0.01 ? 'high' : 'medium',
          affected,
          accounts: none(),
          evidence: [
            w.message,
            `${f.name}: drift ${f.drift ? 'detected' : 'not detected'} (severity ${f.severity}).`,
          ],
          refutedBy: [`accuracy on the requests with these ${f.name} values matching the rest`],
          next: `prodprobe drift compare ${q(r.inputs.reference)} ${current} --html drift.html`,
        });
      } else if (w.code === 'out_of_range') {
        out.push({
          kind: 'out-of-range',
          title: `Out-of-range values in ${f.name}`,
          confidence: 'medium',
          affected,
          accounts: none(),
          evidence: [w.message],
          refutedBy: [`predictions on the out-of-range ${f.name} values as good as on the others`],
          next: `prodprobe drift compare ${q(r.inputs.reference)} ${current} --fields ${f.name}`,
        });
      } else if (
        (w.code === 'new_nulls' || w.code === 'field_missing') &&
        !causes.some((c) => c.kind === 'missing-field' && c.title.includes(` ${f.name} `))
      ) {
        out.push({
          kind: 'missing-field',
          title: `New missing values in ${f.name}`,
          confidence: 'medium',
          affected,
          accounts: none(),
          evidence: [w.message],
          refutedBy: [`requests missing ${f.name} succeeding as often as the others`],
          next: `prodprobe drift compare ${q(r.inputs.reference)} ${current} --fields ${f.name}`,
        });
      }
    }
  }
  if (r.drift?.datasetDrift) {
    const drifted = r.drift.fields.filter((f) => f.drift).map((f) => f.name);
    out.push({
      kind: 'distribution-drift',
      title: `Dataset drift: ${drifted.length} of ${r.drift.fields.length} fields drifted from training`,
      confidence: 'medium',
      affected: 0,
      accounts: none(),
      evidence: [
        `Drifted fields: ${drifted.join(', ')}.`,
        ...(r.driftTimeline ? [`Over time: ${timelineSentence(r.driftTimeline)}.`] : []),
      ],
      refutedBy: ['accuracy on recent labelled production data matching the training accuracy'],
      // From logs, the next question is when it started (a deploy, an upstream change).
      next:
        r.driftFrom === 'logs'
          ? `prodprobe drift timeline ${q(r.inputs.reference)} ${current}`
          : `prodprobe drift compare ${q(r.inputs.reference)} ${current} --html drift.html`,
    });
  }
  return out;
}

/** A draft's accounts per failure class, by signature (`*` for the class as a whole). */
function byClass(accounts: Map<string, number>): Map<string, Map<string, number>> {
  const out = new Map<string, Map<string, number>>();
  for (const [key, n] of accounts) {
    const [cls, sig] = key.split('\u0000') as [string, string];
    const m = out.get(cls) ?? new Map<string, number>();
    m.set(sig, (m.get(sig) ?? 0) + n);
    out.set(cls, m);
  }
  return out;
}

const total = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);

/**
 * Failures two drafts both account for: per class, by signature when both know the signatures,
 * else the smaller of the two class totals.
 */
function sharedFailures(a: Map<string, Map<string, number>>, b: Map<string, Map<string, number>>): number {
  let shared = 0;
  for (const [cls, sa] of a) {
    const sb = b.get(cls);
    if (!sb) continue;
    if (sa.has(ANY) || sb.has(ANY)) shared += Math.min(total(sa), total(sb));
    else for (const [sig, n] of sa) shared += Math.min(n, sb.get(sig) ?? 0);
  }
  return shared;
}

/** Ranks the drafts, and tells each cause which others account for the same failures. */
function finish(drafts: Draft[], classCount: Map<string, number>, totalFailures: number): RootCause[] {
  const ranked = drafts
    .map((d) => {
      const classes = byClass(d.accounts);
      let failures = 0;
      for (const [cls, m] of classes) failures += Math.min(total(m), classCount.get(cls) ?? total(m));
      return { d, classes, failures };
    })
    .sort(
      (a, b) =>
        weight[b.d.confidence] - weight[a.d.confidence] ||
        Number(generic.has(a.d.kind)) - Number(generic.has(b.d.kind)) ||
        b.failures - a.failures ||
        b.d.affected - a.d.affected,
    );
  return ranked.map(({ d, classes, failures }, i) => {
    const overlaps: string[] = [];
    ranked.forEach((other, j) => {
      if (j === i) return;
      const shared = sharedFailures(classes, other.classes);
      if (shared === 0) return;
      const more =
        failures > other.failures
          ? 'this one explains more of them'
          : failures < other.failures
            ? `#${j + 1} explains more of them`
            : 'both explain as many';
      overlaps.push(
        `Shares ${shared} failure(s) with #${j + 1} (${other.d.kind}): this one explains ${failures}, #${j + 1} explains ${other.failures}; ${more}.`,
      );
    });
    const { accounts: _accounts, ...rest } = d;
    return { rank: i + 1, ...rest, explains: { failures, of: totalFailures }, overlaps };
  });
}

/**
 * Scalers whose std (or scale) is 0 in B and not in A: every value then standardises to ±Infinity,
 * or NaN when it equals the mean. The env diff names list entries by their name
 * (`modelConfig.numeric[name=age].std`): `field` is that name, `meanB` the entry's mean in B when
 * it changed too (the diff lists only what changed).
 */
function zeroStdScalers(differences: readonly { path: string; a?: unknown; b?: unknown }[]) {
  return differences.flatMap((d) => {
    const m = /^(.*?)\.(?:std|scale|stddev)$/i.exec(d.path);
    if (!m || d.b !== 0 || typeof d.a !== 'number' || d.a === 0) return [];
    const prefix = m[1]!;
    const named = /\[(?:name|id|key)=([^\]]+)\]$/.exec(prefix);
    const mean = differences.find((x) => x.path === `${prefix}.mean`)?.b;
    return [
      {
        path: d.path,
        a: d.a,
        field: named ? named[1] : undefined,
        meanB: typeof mean === 'number' ? mean : undefined,
      },
    ];
  });
}
