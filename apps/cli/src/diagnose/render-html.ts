import type { DriftReport } from '@prodprobe/drift';
import { timelineSentence } from '../drift-timeline.js';
import { barChart, esc, page, table } from '../html.js';
import type { DiagnoseReport } from './diagnose.js';
import { describeShared, formatValue } from './format-value.js';
import { explainsText, runtimeLines } from './render-text.js';

/** What the drift chart's bars and colours mean, for the way this report decided. */
function driftCaption(drift: DriftReport): string {
  const p = drift.settings.pValueThreshold;
  const score =
    'Score: the largest effect size (Wasserstein, PSI, Jensen-Shannon) over its threshold; 1 is at the threshold.';
  // With a small reference p-values decide every field that has one; otherwise none is decided by them.
  return drift.fields.some((f) => f.decidedBy === 'p-value')
    ? `${score} Red: drifted. With a reference this small (${drift.reference.rows} rows) the adjusted p-value decides (drift below ${p}), not the score.`
    : `${score} Red: drifted, a score of 1 or more with a significant difference (adjusted p < ${p}); a blue bar past 1 is within the sampling noise of ${drift.current.rows} rows.`;
}

/** The diagnose report as one self-contained HTML page. */
export function renderDiagnoseHtml(r: DiagnoseReport): string {
  const sev = { critical: 0, warning: 1, info: 2 } as const;
  const diffs = [...(r.envDiff?.differences ?? [])].sort((a, b) => sev[a.severity] - sev[b.severity]);
  const driftFields = [...(r.drift?.fields ?? [])].sort((a, b) => b.score - a.score);
  const sections = [
    `<section id="root-causes"><h2>Probable root causes</h2>${
      r.rootCauses.length === 0
        ? '<p>None found.</p>'
        : `<ol>${r.rootCauses
            .map(
              (
                c,
              ) => `<li class="cause ${esc(c.confidence)}"><strong>${esc(c.title)}</strong> <span class="tag">${esc(c.kind)} · ${esc(c.confidence)} · ${esc(explainsText(c))}</span>
<ul>${c.evidence.map((e) => `<li>${esc(e)}</li>`).join('')}</ul>${
                c.refutedBy.length
                  ? `<p class="refute">Would be refuted by: ${c.refutedBy.map(esc).join('; ')}.</p>`
                  : ''
              }${c.overlaps.map((o) => `<p class="overlap">${esc(o)}</p>`).join('')}<p>Next: <code>${esc(c.next)}</code></p></li>`,
            )
            .join('')}</ol>`
    }</section>`,
    `<section id="failures"><h2>1. What failed</h2>${barChart(
      'Failures by class',
      r.failures
        .slice(0, 12)
        .map((f) => ({ label: `${f.name}: ${f.message}`, value: f.count, color: '#e45756' })),
    )}${table(
      ['count', 'class', 'captured', 'logged', 'first seen', 'last seen', 'model versions'],
      r.failures.map((f) => [
        f.count,
        `${f.name}: ${f.message}`,
        f.captured,
        f.logged,
        f.firstSeen ?? '',
        f.lastSeen ?? '',
        f.modelVersions.join(', '),
      ]),
    )}</section>`,
    `<section id="replays"><h2>2–3. Replay and isolation</h2>${table(
      [
        'captures',
        'input pattern',
        'reproduced',
        'verdict',
        'failed stage',
        'non-finite origin',
        'first non-finite ONNX node',
        'every capture has',
      ],
      r.replays.map((f) => [
        f.count,
        f.signature,
        f.reproduced ? 'yes' : 'no',
        f.verdict,
        f.isolation?.failedStage ?? '',
        f.isolation?.nonFiniteOrigin ?? '',
        f.isolation?.onnx.firstNonFinite
          ? `${f.isolation.onnx.firstNonFinite.node} (${f.isolation.onnx.firstNonFinite.opType})`
          : (f.isolation?.onnx.reason ?? ''),
        describeShared(f.shared),
      ]),
    )}</section>`,
    `<section id="environment"><h2>4. Environment differences</h2>${
      r.envDiff
        ? table(
            ['severity', 'category', 'path', 'A', 'B'],
            diffs
              .slice(0, 60)
              .map((d) => [d.severity, d.category, d.path, formatValue(d.a, 70), formatValue(d.b, 70)]),
          )
        : '<p>Not checked.</p>'
    }</section>`,
    `<section id="drift"><h2>5. Drift of production inputs</h2>${
      r.drift
        ? `<p>Dataset drift: <strong>${r.drift.datasetDrift ? 'yes' : 'no'}</strong> (${(r.drift.driftedShare * 100).toFixed(0)}% of fields). ${esc(r.driftSource ?? '')}</p>${
            r.driftTimeline
              ? `<p class="over-time">Over time: ${esc(timelineSentence(r.driftTimeline))}.</p>`
              : ''
          }${barChart(
            'Drift score by field',
            driftFields.map((f) => ({
              label: f.name,
              value: f.score,
              color: f.drift ? '#e45756' : '#4c78a8',
            })),
            '',
            driftCaption(r.drift),
          )}${table(
            ['field', 'drift', 'severity', 'score', 'adjusted p', 'warnings'],
            driftFields.map((f) => [
              f.name,
              f.drift ? 'yes' : 'no',
              f.severity,
              f.status === 'ok' ? f.score.toFixed(2) : '',
              f.adjustedPValue === null
                ? ''
                : f.adjustedPValue < 0.001
                  ? '< 0.001'
                  : f.adjustedPValue.toPrecision(2),
              f.warnings.map((w) => w.message).join(' · '),
            ]),
          )}`
        : '<p>Not checked.</p>'
    }</section>`,
    `<section id="latency"><h2>6. Latency and memory</h2>${
      r.latency?.length
        ? barChart(
            'Latency percentiles (worst bucket)',
            (() => {
              const w = [...r.latency].sort((a, b) => b.p99 - a.p99)[0]!;
              return [
                { label: 'p50', value: w.p50 },
                { label: 'p95', value: w.p95 },
                { label: 'p99', value: w.p99 },
                { label: 'max', value: w.max },
              ];
            })(),
            ' ms',
          )
        : '<p>Latency not checked.</p>'
    }${
      r.memory
        ? `<p>Memory trend: <strong>${esc(r.memory.verdict)}</strong></p>${barChart(
            'RSS growth per 1,000 requests, by process',
            r.memory.processes.map((p) => ({
              label: `${p.host}/${p.pid}`,
              value: Math.max(0, (p.rssSlopePer1k ?? 0) / 1024 / 1024),
              color: p.verdict === 'leak' ? '#e45756' : '#4c78a8',
            })),
            ' MB',
          )}`
        : ''
    }</section>`,
    `<section id="runtime"><h2>7. Concurrency, stages, data sources, handles</h2>${
      runtimeLines(r).length
        ? `<ul>${runtimeLines(r)
            .map((l) => `<li>${esc(l)}</li>`)
            .join('')}</ul>`
        : '<p>Not checked.</p>'
    }</section>`,
    r.notChecked.length
      ? `<section id="not-checked"><h2>Not checked</h2><ul>${r.notChecked.map((n) => `<li>${esc(n)}</li>`).join('')}</ul></section>`
      : '',
  ];
  return page(
    'prodprobe diagnose',
    `<p>${esc(r.generatedAt)} · ${r.totals.captures} captures · ${r.totals.loggedEntries} log entries (${r.totals.loggedErrors} errors)</p>
${sections.join('\n')}`,
  );
}
