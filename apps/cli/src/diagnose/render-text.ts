import { timelineSentence } from '../drift-timeline.js';
import { describeIsolation } from '../isolation.js';
import type { Style } from '../output.js';
import type { DiagnoseReport } from './diagnose.js';
import { describeShared, formatValue } from './format-value.js';
import type { RootCause } from './root-causes.js';

type Paint = (style: Style, text: string) => string;

const pad = (s: string, n: number) => (s.length >= n ? s : s + ' '.repeat(n - s.length));
const ms = (v: number) => `${v.toFixed(1)} ms`;

/** How many of the failures a cause accounts for, as a phrase. */
export function explainsText(c: RootCause): string {
  if (c.explains.of === 0 || c.explains.failures === 0)
    return c.affected > 0 ? `affects ~${c.affected} requests` : 'no failed request attributed';
  return `explains ${c.explains.failures} of ${c.explains.of} failures`;
}

/** The concurrency check, stage timings, data sources and handle trend, one line each. */
export function runtimeLines(r: DiagnoseReport): string[] {
  const lines: string[] = [];
  const c = r.concurrency;
  if (c)
    lines.push(
      `race check: ${c.records} captures replayed alone (${c.reproducedAlone} fail) and ${c.concurrency} at a time over ${c.rounds} rounds: ${c.differences.length} outcome(s) changed${c.unstable.length ? `, ${c.unstable.length} nondeterministic` : ''}`,
    );
  const st = r.stages;
  if (st && st.slowThresholdMs !== null) {
    const top = st.stages[0];
    lines.push(
      `stages: requests at p${Math.round(st.quantile * 100)} take ≥ ${ms(st.slowThresholdMs)} (median ${ms(st.p50LatencyMs ?? 0)})${top ? `; ${((top.slowShare ?? 0) * 100).toFixed(0)}% of their time in ${top.stage}` : ''}`,
    );
  }
  for (const g of (r.sources ?? []).slice(0, 6)) {
    lines.push(
      `source ${g.name}${g.version ? ` ${g.version}` : ''}${g.hit === null ? '' : g.hit ? ' (hit)' : ' (miss)'}: ~${Math.round(g.requests)} requests, error rate ${(g.errorRate * 100).toFixed(1)}%${g.p99Ms === null ? '' : `, read p99 ${ms(g.p99Ms)}`}`,
    );
  }
  if (r.resources) {
    const worst = [...r.resources.processes].sort(
      (a, b) => (b.handlesSlopePer1k ?? 0) - (a.handlesSlopePer1k ?? 0),
    )[0];
    lines.push(
      `open handles: ${r.resources.verdict}${worst ? ` (process ${worst.host}/${worst.pid}: ${worst.firstHandles} → ${worst.lastHandles})` : ''}`,
    );
  }
  return lines;
}

/** The terminal triage: what failed, replays, environment, drift, latency and memory, root causes. */
export function renderDiagnoseText(r: DiagnoseReport, paint: Paint): string {
  const out: string[] = [];
  const h = (s: string) => out.push('', paint('bold', s));
  out.push(paint('bold', 'prodprobe diagnose'));
  out.push(
    `  ${r.totals.captures} captures, ${r.totals.loggedEntries} log entries (${r.totals.loggedErrors} errors)` +
      (r.inputs.pipeline ? `, replayed on ${r.inputs.pipeline}` : ''),
  );

  h('1. What failed');
  if (r.failures.length === 0) out.push('  no failures in the captures or logs');
  for (const f of r.failures.slice(0, 10)) {
    out.push(
      `  ${pad(String(f.count), 6)} ${paint('red', f.name)}: ${f.message}  ${paint('dim', `(captured ${f.captured}, logged ${f.logged}; first ${f.firstSeen ?? '?'}; ${f.modelVersions.join(', ')})`)}`,
    );
  }

  h('2-3. Replayed locally');
  if (r.replays.length === 0) out.push('  nothing replayed');
  for (const f of r.replays) {
    const verdict = f.reproduced
      ? paint('yellow', 'reproduced → model or input')
      : paint('cyan', 'not reproduced → environment');
    out.push(`  ${pad(String(f.count), 6)} ${f.signature}: ${verdict}`);
    if (f.shared.length > 0) out.push(`         every one has ${describeShared(f.shared)}`);
    if (f.isolation) {
      out.push(
        `         isolate: ${paint('bold', describeIsolation(f.isolation))}` +
          (f.isolation.onnx.inspected
            ? `, first non-finite ONNX node ${f.isolation.onnx.firstNonFinite ? `${f.isolation.onnx.firstNonFinite.node} (${f.isolation.onnx.firstNonFinite.opType})` : 'none'}`
            : f.isolation.onnx.reason
              ? ` (${f.isolation.onnx.reason})`
              : ''),
      );
    }
  }

  h('4. Environment differences (critical first)');
  const diffs = r.envDiff?.differences ?? [];
  if (!r.envDiff) out.push('  not checked');
  else if (diffs.length === 0) out.push('  none');
  const order = { critical: 0, warning: 1, info: 2 } as const;
  for (const d of [...diffs].sort((a, b) => order[a.severity] - order[b.severity]).slice(0, 10)) {
    const sev =
      d.severity === 'critical'
        ? paint('red', 'critical')
        : d.severity === 'warning'
          ? paint('yellow', 'warning ')
          : 'info    ';
    out.push(`  ${sev} ${pad(d.category, 12)} ${d.path}: ${formatValue(d.a, 40)} → ${formatValue(d.b, 40)}`);
  }
  if (diffs.length > 10) out.push(paint('dim', `  ... ${diffs.length - 10} more (prodprobe env diff)`));

  h('5. Drift of production inputs vs training');
  if (!r.drift) out.push('  not checked');
  else {
    out.push(
      `  dataset drift: ${r.drift.datasetDrift ? paint('red', 'yes') : 'no'} (${(r.drift.driftedShare * 100).toFixed(0)}% of fields)  ${paint('dim', r.driftSource ?? '')}`,
    );
    if (r.driftTimeline) out.push(`  over time: ${timelineSentence(r.driftTimeline)}`);
    for (const f of [...r.drift.fields].sort((a, b) => b.score - a.score).slice(0, 8)) {
      const warnings = f.warnings.map((w) => w.code).join(', ');
      out.push(
        `  ${pad(f.name, 20)} ${f.drift ? paint('red', 'drift') : 'ok   '} ${pad(f.severity, 7)} ${warnings}`,
      );
    }
  }

  h('6. Latency and memory');
  if (r.latency && r.latency.length > 0) {
    const worst = [...r.latency].sort((a, b) => b.p99 - a.p99)[0]!;
    const total = r.latency.reduce((n, b) => n + b.requests, 0);
    out.push(
      `  ~${Math.round(total)} requests; worst bucket p50 ${ms(worst.p50)}, p95 ${ms(worst.p95)}, p99 ${ms(worst.p99)}`,
    );
  } else out.push('  latency: not checked');
  if (r.memory) {
    const leak = r.memory.verdict === 'leak';
    out.push(`  memory trend: ${leak ? paint('red', 'leak') : r.memory.verdict}`);
  }

  h('7. Concurrency, stages, data sources, handles');
  const runtime = runtimeLines(r);
  if (runtime.length === 0) out.push('  not checked');
  for (const l of runtime) out.push(`  ${l}`);

  h('Probable root causes');
  if (r.rootCauses.length === 0) out.push('  none found');
  for (const c of r.rootCauses) {
    out.push(
      `  ${c.rank}. ${paint('bold', c.title)} ${paint('dim', `[${c.confidence}; ${explainsText(c)}]`)}`,
    );
    for (const e of c.evidence.slice(0, 4)) out.push(`     - ${e}`);
    if (c.refutedBy.length > 0) out.push(paint('dim', `     refuted by: ${c.refutedBy.join('; ')}`));
    for (const o of c.overlaps) out.push(paint('dim', `     ${o}`));
    out.push(`     next: ${paint('cyan', c.next)}`);
  }
  if (r.notChecked.length > 0) {
    h('Not checked');
    for (const n of r.notChecked) out.push(`  - ${n}`);
  }
  return `${out.join('\n')}\n`;
}
