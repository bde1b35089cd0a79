/**
 * Self-contained HTML for the CLI's reports (diagnose, drift timeline): escaping, inline SVG bar
 * charts and tables, one page shell. No script, no network.
 */

export const esc = (s: unknown) =>
  String(s).replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );

const fmtNum = (v: number) => (Number.isInteger(v) ? String(v) : v.toPrecision(3));

/** A horizontal bar chart as inline SVG. */
export function barChart(
  title: string,
  bars: { label: string; value: number; color?: string }[],
  unit = '',
  caption = '',
): string {
  if (bars.length === 0) return '';
  const max = Math.max(...bars.map((b) => b.value), 1e-12);
  const row = 22;
  const labelW = 260;
  const width = 720;
  const height = bars.length * row + 30;
  const rows = bars
    .map((b, i) => {
      const w = Math.max(1, ((width - labelW - 80) * b.value) / max);
      const y = 24 + i * row;
      return `<text x="${labelW - 8}" y="${y + 14}" text-anchor="end">${esc(b.label.length > 38 ? `${b.label.slice(0, 37)}…` : b.label)}</text>
<rect x="${labelW}" y="${y + 2}" width="${w.toFixed(1)}" height="${row - 6}" fill="${b.color ?? '#4c78a8'}"><title>${esc(`${b.label}: ${b.value}${unit}`)}</title></rect>
<text x="${(labelW + w + 6).toFixed(1)}" y="${y + 14}">${esc(fmtNum(b.value))}${esc(unit)}</text>`;
    })
    .join('\n');
  return `<figure class="chart"><svg role="img" aria-label="${esc(title)}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" font-size="12" font-family="system-ui, sans-serif">
<text x="0" y="14" font-weight="bold">${esc(title)}</text>
${rows}
</svg>${caption ? `<figcaption>${esc(caption)}</figcaption>` : ''}</figure>`;
}

/**
 * A cell's text with break opportunities inside long tokens only (hashes, paths), so a narrow
 * column keeps "critical" whole while a 64-character hash can still wrap.
 */
const breakable = (value: unknown) =>
  String(value)
    .split(/(\s+)/)
    .map((t) => (t.length > 24 ? (t.match(/.{1,16}/gs) ?? []).map(esc).join('<wbr>') : esc(t)))
    .join('');

export const table = (head: string[], rows: unknown[][]) =>
  `<table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${breakable(c)}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;

/** One report page: `title` is the page title and heading; `body` is HTML. */
export function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:1100px;color:#222;padding:0 1rem}
h1{margin-bottom:.2rem}h2{border-bottom:1px solid #ddd;padding-bottom:.2rem;margin-top:2rem}
table{border-collapse:collapse;width:100%;font-size:13px;margin:.5rem 0}th,td{border:1px solid #e3e3e3;padding:4px 6px;text-align:left;vertical-align:top}
th{background:#f6f6f6}.tag{font-size:12px;color:#666}.cause{margin-bottom:1rem}.cause.high strong{color:#b00020}
code{background:#f3f3f3;padding:1px 4px}figure.chart{margin:.5rem 0;overflow-x:auto}figcaption{color:#555;font-size:.85rem;max-width:720px}
</style></head><body>
<h1>${esc(title)}</h1>
${body}
</body></html>
`;
}
