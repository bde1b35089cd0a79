/**
 * Renderings of a DriftReport: a terminal table, markdown, and a self-contained HTML page (inline
 * CSS and SVG, no scripts, no network).
 */
import type { DriftReport, FieldReport } from './report-schema.js';
import { formatDate, formatSpan } from './time-format.js';

/** Options of {@link renderText}. */
export interface TextReportOptions {
  /** Colour with ANSI escapes (the caller decides: TTY, NO_COLOR). @default false */
  color?: boolean;
  /** Also list fields without drift or warnings. @default true */
  all?: boolean;
}

const num = (x: number | null | undefined, digits = 3): string => {
  if (x === null || x === undefined || Number.isNaN(x)) return '-';
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (a < 1e-3 || a >= 1e6) return x.toExponential(digits - 1);
  return String(+x.toPrecision(digits));
};

const pValueOf = (f: FieldReport) => f.tests.ks?.pValue ?? f.tests.chiSquare?.pValue;

/** A date field holds epoch milliseconds: its values read as dates, its spread as a span. */
const isDateField = (f: FieldReport) => f.reference?.dominantType === 'date';

function verdictLine(r: DriftReport): string {
  return `${r.datasetDrift ? 'DATASET DRIFT' : 'no dataset drift'}: ${r.driftedFields.length} of ${r.fields.filter((f) => f.status === 'ok').length} compared fields drifted (${num(r.driftedShare * 100, 3)}%, threshold ${num(r.settings.datasetDriftShare * 100, 3)}%); reference ${r.reference.rows} rows (${r.reference.source}), current ${r.current.rows} rows (${r.current.source})${r.approximate ? '; some tests ran on sketches (approximate)' : ''}`;
}

function rows(r: DriftReport): string[][] {
  return r.fields.map((f) => [
    f.name,
    f.kind,
    f.status === 'ok' ? (f.drift ? 'DRIFT' : 'ok') : f.status,
    f.status === 'ok' ? f.severity : '-',
    num(pValueOf(f)),
    num(f.tests.ks?.statistic ?? f.tests.chiSquare?.statistic),
    num(f.tests.wasserstein?.normalized),
    num(f.tests.psi?.value),
    num(f.tests.jensenShannon?.value),
    f.warnings.map((w) => w.code).join(',') || (f.reason ?? ''),
  ]);
}

const HEADER = [
  'field',
  'kind',
  'status',
  'severity',
  'p-value',
  'KS / chi2',
  'W1/std',
  'PSI',
  'JS',
  'warnings',
];

/** A fixed-width table for a terminal. */
export function renderText(report: DriftReport, options: TextReportOptions = {}): string {
  const color = options.color ?? false;
  const paint = (code: number, s: string) => (color ? `\u001b[${code}m${s}\u001b[0m` : s);
  const shown =
    options.all === false ? report.fields.filter((f) => f.drift || f.warnings.length > 0) : report.fields;
  const body = rows({ ...report, fields: shown });
  const widths = HEADER.map((h, i) => Math.min(40, Math.max(h.length, ...body.map((r) => r[i]!.length))));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (c.length > widths[i]! ? `${c.slice(0, widths[i]! - 1)}…` : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const out = [paint(report.datasetDrift ? 31 : 32, verdictLine(report)), '', paint(1, line(HEADER))];
  body.forEach((r, i) => {
    const f = shown[i]!;
    const text = line(r);
    out.push(f.drift ? paint(31, text) : f.status !== 'ok' || f.warnings.length ? paint(33, text) : text);
  });
  const warned = shown.filter((f) => f.warnings.length > 0);
  if (warned.length) {
    out.push('', paint(1, 'warnings'));
    for (const f of warned) for (const w of f.warnings) out.push(`  ${f.name}: [${w.code}] ${w.message}`);
  }
  // The table cuts long reasons: the fields that were not compared get theirs in full.
  const notCompared = shown.filter((f) => f.status !== 'ok' && f.reason);
  if (notCompared.length) {
    out.push('', paint(1, 'not compared'));
    for (const f of notCompared) out.push(`  ${f.name}: ${f.reason}`);
  }
  return `${out.join('\n')}\n`;
}

const mdEscape = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** A markdown report (for PR comments and issues). */
export function renderMarkdown(report: DriftReport): string {
  const out = [`# Drift report`, '', `**${verdictLine(report)}**`, ''];
  out.push(`| ${HEADER.join(' | ')} |`, `| ${HEADER.map(() => '---').join(' | ')} |`);
  for (const r of rows(report)) out.push(`| ${r.map(mdEscape).join(' | ')} |`);
  for (const f of report.fields.filter((x) => x.drift || x.warnings.length > 0)) {
    out.push('', `## ${mdEscape(f.name)}${f.drift ? ` — drift (${f.severity})` : ''}`, '');
    for (const w of f.warnings) out.push(`- \`${w.code}\`: ${mdEscape(w.message)}`);
    const bins = [...f.explanation.psiBins].sort((a, b) => b.contribution - a.contribution).slice(0, 5);
    if (f.drift && bins.length) {
      out.push('', '| PSI bin | reference | current | contribution |', '| --- | --- | --- | --- |');
      for (const b of bins)
        out.push(
          `| ${mdEscape(b.label)} | ${num(b.reference * 100)}% | ${num(b.current * 100)}% | ${num(b.contribution)} |`,
        );
    }
    if (f.drift && f.explanation.movedCategories.length) {
      out.push('', '| category | reference | current | change |', '| --- | --- | --- | --- |');
      for (const m of f.explanation.movedCategories.slice(0, 5)) {
        out.push(
          `| ${mdEscape(m.value)} | ${num(m.reference * 100)}% | ${num(m.current * 100)}% | ${m.delta >= 0 ? '+' : ''}${num(m.delta * 100)} pp |`,
        );
      }
    }
  }
  return `${out.join('\n')}\n`;
}

const esc = (s: string) =>
  s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');

const REF = '#4c78a8';
const CUR = '#f58518';

function chartSvg(f: FieldReport): string {
  const c = f.chart;
  if (!c) return '';
  const W = 560;
  const H = 200;
  const pad = { l: 44, r: 8, t: 10, b: 40 };
  const iw = W - pad.l - pad.r;
  const ih = H - pad.t - pad.b;
  const max = Math.max(1e-12, ...c.reference, ...c.current);
  const y = (v: number) => pad.t + ih - (v / max) * ih;
  const parts: string[] = [];
  const n = c.reference.length;
  if (c.kind === 'histogram') {
    const bw = iw / n;
    for (let i = 0; i < n; i++) {
      const x = pad.l + i * bw;
      parts.push(
        `<rect x="${x.toFixed(1)}" y="${y(c.reference[i]!).toFixed(1)}" width="${Math.max(bw - 1, 0.5).toFixed(1)}" height="${(pad.t + ih - y(c.reference[i]!)).toFixed(1)}" fill="${REF}" fill-opacity="0.55"/>`,
      );
      parts.push(
        `<rect x="${x.toFixed(1)}" y="${y(c.current[i]!).toFixed(1)}" width="${Math.max(bw - 1, 0.5).toFixed(1)}" height="${(pad.t + ih - y(c.current[i]!)).toFixed(1)}" fill="${CUR}" fill-opacity="0.55"/>`,
      );
    }
    // An axis end is a day: the time of day would crowd the label.
    const edge = isDateField(f) ? (x: number) => formatDate(x).slice(0, 10) : (x: number) => num(x);
    parts.push(`<text x="${pad.l}" y="${H - 22}" font-size="10">${esc(edge(c.edges[0]!))}</text>`);
    parts.push(
      `<text x="${W - pad.r}" y="${H - 22}" font-size="10" text-anchor="end">${esc(edge(c.edges[c.edges.length - 1]!))}</text>`,
    );
  } else {
    const gw = iw / n;
    const bw = Math.max((gw - 2) / 2, 0.5);
    for (let i = 0; i < n; i++) {
      const x = pad.l + i * gw;
      parts.push(
        `<rect x="${x.toFixed(1)}" y="${y(c.reference[i]!).toFixed(1)}" width="${bw.toFixed(1)}" height="${(pad.t + ih - y(c.reference[i]!)).toFixed(1)}" fill="${REF}"><title>${esc(c.categories[i]!)} reference ${num(c.reference[i]! * 100)}%</title></rect>`,
      );
      parts.push(
        `<rect x="${(x + bw).toFixed(1)}" y="${y(c.current[i]!).toFixed(1)}" width="${bw.toFixed(1)}" height="${(pad.t + ih - y(c.current[i]!)).toFixed(1)}" fill="${CUR}"><title>${esc(c.categories[i]!)} current ${num(c.current[i]! * 100)}%</title></rect>`,
      );
      if (n <= 12) {
        const label = c.categories[i]!.length > 12 ? `${c.categories[i]!.slice(0, 11)}…` : c.categories[i]!;
        parts.push(
          `<text x="${(x + gw / 2).toFixed(1)}" y="${H - 24}" font-size="10" text-anchor="middle">${esc(label)}</text>`,
        );
      }
    }
  }
  parts.push(`<line x1="${pad.l}" y1="${pad.t + ih}" x2="${W - pad.r}" y2="${pad.t + ih}" stroke="#888"/>`);
  parts.push(
    `<text x="${pad.l - 4}" y="${pad.t + 8}" font-size="10" text-anchor="end">${esc(num(max * 100))}%</text>`,
  );
  parts.push(
    `<rect x="${pad.l}" y="${H - 14}" width="10" height="10" fill="${REF}"/><text x="${pad.l + 14}" y="${H - 5}" font-size="11">reference</text>`,
  );
  parts.push(
    `<rect x="${pad.l + 90}" y="${H - 14}" width="10" height="10" fill="${CUR}"/><text x="${pad.l + 104}" y="${H - 5}" font-size="11">current</text>`,
  );
  return `<svg class="chart" data-field="${esc(f.name)}" role="img" aria-label="${esc(`${f.name}: reference vs current`)}" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" xmlns="http://www.w3.org/2000/svg">${parts.join('')}</svg>`;
}

function testsTable(f: FieldReport): string {
  const t = f.tests;
  const rowsHtml: string[] = [];
  if (t.ks)
    rowsHtml.push(
      `<tr><td>Kolmogorov-Smirnov (${t.ks.method})</td><td>D = ${num(t.ks.statistic, 4)}</td><td>p = ${num(t.ks.pValue, 4)}</td></tr>`,
    );
  if (t.chiSquare)
    rowsHtml.push(
      `<tr><td>chi-square</td><td>${num(t.chiSquare.statistic, 4)} (df ${t.chiSquare.df})</td><td>p = ${num(t.chiSquare.pValue, 4)}</td></tr>`,
    );
  if (t.wasserstein)
    rowsHtml.push(
      `<tr><td>Wasserstein-1</td><td>${num(t.wasserstein.value, 4)}</td><td>${num(t.wasserstein.normalized, 4)} × std</td></tr>`,
    );
  if (t.psi) rowsHtml.push(`<tr><td>PSI</td><td>${num(t.psi.value, 4)}</td><td></td></tr>`);
  if (t.jensenShannon)
    rowsHtml.push(`<tr><td>Jensen-Shannon</td><td>${num(t.jensenShannon.value, 4)}</td><td></td></tr>`);
  if (f.adjustedPValue !== null)
    rowsHtml.push(
      `<tr><td>adjusted p (${f.decidedBy === 'p-value' ? 'decides' : 'reported'})</td><td>${num(f.adjustedPValue, 4)}</td><td></td></tr>`,
    );
  return rowsHtml.length ? `<table class="tests">${rowsHtml.join('')}</table>` : '';
}

function explanationHtml(f: FieldReport): string {
  const parts: string[] = [];
  const bins = [...f.explanation.psiBins].sort((a, b) => b.contribution - a.contribution).slice(0, 5);
  if (bins.length && f.status === 'ok') {
    parts.push(
      `<table class="psi"><caption>PSI contributions (largest first)</caption><tr><th>bin</th><th>reference</th><th>current</th><th>contribution</th></tr>${bins
        .map(
          (b) =>
            `<tr><td>${esc(b.label)}</td><td>${num(b.reference * 100)}%</td><td>${num(b.current * 100)}%</td><td>${num(b.contribution)}</td></tr>`,
        )
        .join('')}</table>`,
    );
  }
  if (f.explanation.movedCategories.length) {
    parts.push(
      `<table class="moved"><caption>categories that moved most</caption><tr><th>value</th><th>reference</th><th>current</th><th>change</th></tr>${f.explanation.movedCategories
        .slice(0, 8)
        .map(
          (m) =>
            `<tr><td>${esc(m.value)}</td><td>${num(m.reference * 100)}%</td><td>${num(m.current * 100)}%</td><td>${m.delta >= 0 ? '+' : ''}${num(m.delta * 100)} pp</td></tr>`,
        )
        .join('')}</table>`,
    );
  }
  return parts.join('');
}

/** A self-contained HTML report: ranked fields, one chart per compared field, tests, warnings, explanations. */
export function renderHtml(report: DriftReport, title = 'Drift report'): string {
  const ranking = report.fields
    .map(
      (f, i) =>
        `<tr class="${f.drift ? 'drift' : f.status !== 'ok' ? 'skipped' : ''}"><td>${i + 1}</td><td><a href="#f-${i}">${esc(f.name)}</a></td><td>${f.kind}</td><td>${f.status === 'ok' ? (f.drift ? `drift (${f.severity})` : 'ok') : esc(f.status)}</td><td>${num(pValueOf(f))}</td><td>${num(f.tests.wasserstein?.normalized)}</td><td>${num(f.tests.psi?.value)}</td><td>${num(f.tests.jensenShannon?.value)}</td><td>${f.warnings.map((w) => `<code>${w.code}</code>`).join(' ')}</td></tr>`,
    )
    .join('');
  const sections = report.fields
    .map((f, i) => {
      const warnings = f.warnings.length
        ? `<ul class="warnings">${f.warnings.map((w) => `<li><code>${w.code}</code> ${esc(w.message)}</li>`).join('')}</ul>`
        : '';
      const stats =
        f.reference && f.current
          ? `<table class="stats"><tr><th></th><th>reference</th><th>current</th></tr>${(
              [
                ['values', f.reference.values, f.current.values],
                ['missing', f.reference.missing, f.current.missing],
                ['null', f.reference.nulls, f.current.nulls],
                ['NaN', f.reference.nan, f.current.nan],
                ['mean', f.reference.mean, f.current.mean],
                ['std', f.reference.std, f.current.std],
                ['min', f.reference.min, f.current.min],
                ['max', f.reference.max, f.current.max],
                ['distinct', f.reference.distinct, f.current.distinct],
              ] as [string, number | null, number | null][]
            )
              .filter(([, a, b]) => a !== null || b !== null)
              .map(([k, a, b]) => {
                const asTime = isDateField(f) && (k === 'mean' || k === 'std' || k === 'min' || k === 'max');
                const cell = (x: number | null) =>
                  !asTime || x === null ? num(x, 4) : k === 'std' ? formatSpan(x) : formatDate(x);
                return `<tr><td>${k}</td><td>${cell(a)}</td><td>${cell(b)}</td></tr>`;
              })
              .join('')}</table>`
          : '';
      return `<section class="field" id="f-${i}"><h2>${esc(f.name)} <span class="badge ${f.drift ? 'drift' : f.status}">${f.status === 'ok' ? (f.drift ? `drift · ${f.severity}` : 'no drift') : esc(f.status)}</span>${f.approximate ? ' <span class="badge approx">approximate</span>' : ''}</h2>${f.reason ? `<p class="reason">${esc(f.reason)}</p>` : ''}${warnings}<div class="row">${chartSvg(f)}<div>${testsTable(f)}${stats}</div></div>${explanationHtml(f)}</section>`;
    })
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#222;max-width:1200px}
h1{font-size:22px}h2{font-size:17px;margin:0 0 8px}
.verdict{padding:10px 14px;border-radius:6px;background:#eef6ee}.verdict.drift{background:#fdecea}
table{border-collapse:collapse;margin:6px 0}td,th{padding:3px 8px;border-bottom:1px solid #e4e4e4;text-align:left;font-variant-numeric:tabular-nums}
tr.drift td{color:#b00020}tr.skipped td{color:#777}
.field{border-top:1px solid #ddd;padding:14px 0}.row{display:flex;gap:20px;flex-wrap:wrap;align-items:flex-start}
.badge{font-size:12px;padding:2px 6px;border-radius:4px;background:#e8f0e8}.badge.drift{background:#fdecea;color:#b00020}.badge.skipped,.badge.error{background:#eee}.badge.approx{background:#fff4d6}
.warnings li{margin:2px 0}code{background:#f3f3f3;padding:0 3px;border-radius:3px}caption{text-align:left;font-weight:600}
.reason{color:#666}
</style></head><body>
<h1>${esc(title)}</h1>
<p class="verdict${report.datasetDrift ? ' drift' : ''}">${esc(verdictLine(report))}</p>
<h2>Fields ranked by drift</h2>
<table class="ranking"><tr><th>#</th><th>field</th><th>kind</th><th>status</th><th>p-value</th><th>W1/std</th><th>PSI</th><th>JS</th><th>warnings</th></tr>${ranking}</table>
${sections}
<p style="color:#888;font-size:12px">Generated by @prodprobe/drift (schema ${report.schemaVersion}). Verdicts: p-values (Benjamini-Hochberg) when the reference has at most ${report.settings.pValueMaxRows} rows, else effect sizes (W1/std ≥ ${report.settings.wassersteinThreshold}, JS ≥ ${report.settings.jensenShannonThreshold}, PSI ≥ ${report.settings.psiThreshold}) that are also significant (p &lt; ${report.settings.pValueThreshold}).</p>
</body></html>
`;
}
