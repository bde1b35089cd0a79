import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type FaultRow, repoRoot, rowsFile } from './table.ts';

/** Formats the rows as the plain table the suite ends with. */
export function formatTable(rows: readonly FaultRow[]): string {
  const header = ['fault', 'cases', 'lost', 'figure'];
  const body = rows.map((r) => [r.fault, String(r.cases), String(r.lost), r.figure]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] as string).length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] as number)).join(' | ')} |`;
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

function readRows(): FaultRow[] {
  if (!existsSync(rowsFile)) return [];
  return readFileSync(rowsFile, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as FaultRow);
}

export function setup(): void {
  rmSync(rowsFile, { force: true });
}

export function teardown(): void {
  const rows = readRows();
  if (rows.length === 0) return;
  const table = formatTable(rows);
  writeFileSync(join(repoRoot, '.reports', 'faults', 'TABLE.md'), `${table}\n`);
  const lost = rows.reduce((n, r) => n + r.lost, 0);
  process.stdout.write(`\nfault-injection suite (${rows.length} faults, ${lost} lost):\n${table}\n`);
}
