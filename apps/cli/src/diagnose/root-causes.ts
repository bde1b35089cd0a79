import { timelineSentence } from '../drift-timeline.js';
import type { DiagnoseInputs, DiagnoseReport } from './diagnose.js';
import { describeIsolation, describeShared, formatValue } from './format-value.js';
import { describeAnomaly } from './signature.js';

/** One probable root cause, with the evidence for it and the command to run next. */
export interface RootCause {
  rank: number;
  kind:
    | 'non-finite-input'
    | 'missing-field'
    | 'unseen-category'
    | 'out-of-range'
    | 'zero-std-scaler'
    | 'model-mismatch'
    | 'config-mismatch'
    | 'environment'
    | 'memory-leak'
    | 'distribution-drift'
    | 'model-or-input';
  title: string;
  confidence: 'high' | 'medium' | 'low';
  /** Requests affected, when known; ranks causes of equal confidence. */
  affected: number;
  evidence: string[];
  next: string;
}

const weight = { high: 3, medium: 2, low: 1 } as const;
const q = (s: string | null | undefined) => (s ? (/\s/.test(s) ? JSON.stringify(s) : s) : '<path>');

/**
 * Turns the triage's findings into ranked probable causes. Each rule reads one kind of evidence:
 * reproduced replays (input faults, located by isolation), environment-only failures (the env
 * diff), the drift report (unseen categories, out-of-range values, new nulls) and the memory trend.
 */
export function rankRootCauses(r: DiagnoseReport, inputs: DiagnoseInputs): RootCause[] {
  const causes: Omit<RootCause, 'rank'>[] = [];
  const model = inputs.pipeline?.onnxPath;
  // Replays run on the same pipeline diagnose replayed on, rebuilt from the same flags.
  const replayCmd = (id: string) =>
    ['prodprobe capture replay', q(inputs.captures), id, ...(inputs.pipeline?.flags ?? []).map(q)].join(' ');
  const fieldReport = (name: string) => r.drift?.fields.find((f) => f.name === name);

  // Reproduced failures: the input itself breaks the model; isolation says where.
  for (const f of r.replays.filter((x) => x.reproduced)) {
    const where = f.isolation?.nonFiniteOrigin ?? f.isolation?.failedStage;
    const stage = where ? ` (first non-finite value produced in the ${where} stage)` : '';
    const onnx = f.onnx?.firstNonFinite
      ? ` First non-finite ONNX node: ${f.onnx.firstNonFinite.node} (${f.onnx.firstNonFinite.opType}).`
      : '';
    const base = [
      `${f.count} captured failure(s) "${f.classKey}" share this input pattern: ${f.signature}.`,
      `Replayed capture ${f.recordId} locally on ${f.modelVersion}: reproduced (${f.inputUsed} input) → model or input problem.${onnx}`,
      ...(f.isolation ? [`Isolation: ${describeIsolation(f.isolation)}.`] : []),
      ...(f.isolation?.issues.slice(0, 3) ?? []),
    ];
    const nonFinite = f.anomalies.filter(
      (a) =>
        a.kind === 'nan' || a.kind === 'infinite' || a.kind === 'non-numeric-string' || a.kind === 'null',
    );
    const missing = f.anomalies.filter((a) => a.kind === 'missing');
    for (const a of nonFinite) {
      causes.push({
        kind: 'non-finite-input',
        title: `Non-finite input: ${describeAnomaly(a)}, and validation lets it through${stage}`,
        confidence: 'high',
        affected: f.count,
        evidence: base,
        next: replayCmd(f.recordId),
      });
    }
    for (const a of missing) {
      const drift = fieldReport(a.field);
      const nulls = drift?.warnings.find((w) => w.code === 'new_nulls' || w.code === 'field_missing');
      causes.push({
        kind: 'missing-field',
        title: `Missing field: ${a.field} is absent from production requests${stage}`,
        confidence: 'high',
        affected: f.count,
        evidence: nulls ? [...base, `Drift: ${nulls.message}`] : base,
        next: replayCmd(f.recordId),
      });
    }
    if (nonFinite.length === 0 && missing.length === 0) {
      causes.push({
        kind: 'model-or-input',
        title: `Failure "${f.classKey}" reproduces locally with no visible input anomaly${stage}`,
        confidence: 'medium',
        affected: f.count,
        evidence: base,
        next: model ? `prodprobe layers inspect ${q(model)} --random-input` : replayCmd(f.recordId),
      });
    }
  }

  // Failures that do not reproduce: the environment differs; the env diff says how.
  const envOnly = r.replays.filter((x) => !x.reproduced);
  const affectedEnvOnly = envOnly.reduce((n, f) => n + f.count, 0);
  const envEvidence = envOnly.map(
    (f) =>
      `${f.count} captured failure(s) "${f.classKey}" with ${f.signature} do not reproduce locally (capture ${f.recordId}): ${f.explanation}${f.note ? ` ${f.note}` : ''}`,
  );
  const diffCmd = `prodprobe env diff ${q(r.inputs.envA)} ${q(r.inputs.envB)}`;
  const differences = r.envDiff?.differences ?? [];
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
      evidence: [
        `Environment diff: ${z.path} is ${formatValue(z.a, 80)} in A and 0 in B.`,
        ...envEvidence,
        ...sharedBy,
      ],
      next: diffCmd,
    });
  }
  const modelFiles = differences.filter((d) => d.category === 'model' && /sha256|hash/i.test(d.path));
  for (const d of modelFiles) {
    const isModel = /model/i.test(d.path) && !/preprocess/i.test(d.path);
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
        ? `Model file differs between the environments (${d.path})`
        : `A model-side file differs between the environments (${d.path})`,
      confidence: 'high',
      affected: affectedEnvOnly,
      evidence: [
        `sha256 in A: ${formatValue(d.a, 80)}`,
        `sha256 in B: ${formatValue(d.b, 80)}`,
        ...envEvidence,
      ],
      next: diffCmd,
    });
  }
  if (envOnly.length > 0 && !causes.some((c) => c.kind === 'zero-std-scaler') && modelFiles.length === 0) {
    const critical = differences.filter((d) => d.severity === 'critical').slice(0, 5);
    causes.push({
      kind: 'environment',
      title: 'Failures do not reproduce locally: the environment differs',
      confidence: critical.length ? 'medium' : 'low',
      affected: affectedEnvOnly,
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
      next: r.envDiff ? diffCmd : 'prodprobe env snapshot --out snap.json   # in each environment',
    });
  }

  // Drift warnings that explain silent failures (wrong predictions, no error). `drift compare`
  // reads a log folder's or a capture folder's inputs as diagnose does.
  const current = q(r.driftFrom === 'logs' ? r.inputs.logs : r.inputs.captures);
  for (const f of r.drift?.fields ?? []) {
    for (const w of f.warnings) {
      if (w.code === 'unseen_categories') {
        causes.push({
          kind: 'unseen-category',
          title: `Unseen category in ${f.name}: ${(w.values ?? []).slice(0, 3).join(', ')} never appeared in training`,
          confidence: (w.share ?? 0) >= 0.01 ? 'high' : 'medium',
          affected: Math.round((w.share ?? 0) * (f.current?.rows ?? 0)),
          evidence: [
            w.message,
            `${f.name}: drift ${f.drift ? 'detected' : 'not detected'} (severity ${f.severity}).`,
          ],
          next: `prodprobe drift compare ${q(r.inputs.reference)} ${current} --html drift.html`,
        });
      } else if (w.code === 'out_of_range') {
        causes.push({
          kind: 'out-of-range',
          title: `Out-of-range values in ${f.name}`,
          confidence: 'medium',
          affected: Math.round((w.share ?? 0) * (f.current?.rows ?? 0)),
          evidence: [w.message],
          next: `prodprobe drift compare ${q(r.inputs.reference)} ${current} --fields ${f.name}`,
        });
      } else if (
        (w.code === 'new_nulls' || w.code === 'field_missing') &&
        !causes.some((c) => c.kind === 'missing-field' && c.title.includes(` ${f.name} `))
      ) {
        causes.push({
          kind: 'missing-field',
          title: `New missing values in ${f.name}`,
          confidence: 'medium',
          affected: Math.round((w.share ?? 0) * (f.current?.rows ?? 0)),
          evidence: [w.message],
          next: `prodprobe drift compare ${q(r.inputs.reference)} ${current} --fields ${f.name}`,
        });
      }
    }
  }
  if (r.drift?.datasetDrift) {
    const drifted = r.drift.fields.filter((f) => f.drift).map((f) => f.name);
    causes.push({
      kind: 'distribution-drift',
      title: `Dataset drift: ${drifted.length} of ${r.drift.fields.length} fields drifted from training`,
      confidence: 'medium',
      affected: 0,
      evidence: [
        `Drifted fields: ${drifted.join(', ')}.`,
        ...(r.driftTimeline ? [`Over time: ${timelineSentence(r.driftTimeline)}.`] : []),
      ],
      // From logs, the next question is when it started (a deploy, an upstream change).
      next:
        r.driftFrom === 'logs'
          ? `prodprobe drift timeline ${q(r.inputs.reference)} ${current}`
          : `prodprobe drift compare ${q(r.inputs.reference)} ${current} --html drift.html`,
    });
  }

  // Memory that grows with traffic.
  if (r.memory?.verdict === 'leak') {
    const worst = [...r.memory.processes].sort((a, b) => (b.rssSlopePer1k ?? 0) - (a.rssSlopePer1k ?? 0))[0];
    causes.push({
      kind: 'memory-leak',
      title: 'Memory grows with traffic (a leak, e.g. a cache that is never evicted)',
      confidence: 'high',
      // No request has failed from it yet: ranked after the causes of failed requests.
      affected: 0,
      evidence: worst
        ? [
            `Process ${worst.host}/${worst.pid}: rss ${mb(worst.firstRss)} → ${mb(worst.lastRss)} over ~${Math.round(worst.requests)} requests, +${mb(worst.rssSlopePer1k ?? 0)} per 1,000 requests (R² ${(worst.r2 ?? 0).toFixed(2)}).`,
          ]
        : [],
      next: `prodprobe logs memory ${q(r.inputs.logs)}`,
    });
  }

  return causes
    .sort((a, b) => weight[b.confidence] - weight[a.confidence] || b.affected - a.affected)
    .map((c, i) => ({ rank: i + 1, ...c }));
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

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
