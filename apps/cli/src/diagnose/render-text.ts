import { timelineSentence } from '../drift-timeline.js';
import type { Style } from '../output.js';
import type { DiagnoseReport } from './diagnose.js';
import { describeIsolation, describeShared, formatValue } from './format-value.js';

type Paint = (style: Style, text: string) => string;

const pad = (s: string, n: number) => (s.length >= n ? s : s + ' '.repeat(n - s.length));
const ms = (v: number) => `${v.toFixed(1)} ms`;

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
          (f.onnx?.inspected
            ? `, first non-finite ONNX node ${f.onnx.firstNonFinite ? `${f.onnx.firstNonFinite.node} (${f.onnx.firstNonFinite.opType})` : 'none'}`
            : f.onnx?.reason
              ? ` (${f.onnx.reason})`
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

  h('Probable root causes');
  if (r.rootCauses.length === 0) out.push('  none found');
  for (const c of r.rootCauses) {
    out.push(`  ${c.rank}. ${paint('bold', c.title)} ${paint('dim', `[${c.confidence}]`)}`);
    for (const e of c.evidence.slice(0, 4)) out.push(`     - ${e}`);
    out.push(`     next: ${paint('cyan', c.next)}`);
  }
  if (r.notChecked.length > 0) {
    h('Not checked');
    for (const n of r.notChecked) out.push(`  - ${n}`);
  }
  return `${out.join('\n')}\n`;
}
