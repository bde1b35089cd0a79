import type { EnvDiff, EnvSnapshot, JsonValue, Severity } from './schema.js';

/** Options for {@link formatDiffText}. */
export interface FormatTextOptions {
  /** Styles the severity cell (the CLI colours it); applied after padding so columns stay aligned. @default identity */
  style?: (severity: Severity, text: string) => string;
  /** Longest value shown in the a/b columns before it is cut with `...`. @default 40 */
  maxValueWidth?: number;
}

function show(value: JsonValue, max: number): string {
  const text = value === null ? '-' : typeof value === 'string' ? value : JSON.stringify(value);
  const flat = text.replace(/\s+/g, ' ');
  return flat.length > max ? `${flat.slice(0, Math.max(1, max - 3))}...` : flat;
}

function side(s: EnvDiff['a'], name: string): string {
  return `${name}${s.label ? ` (${s.label})` : ''} ${s.fingerprint.slice(0, 12)}`;
}

function summaryLine(d: EnvDiff): string {
  return `${d.summary.critical} critical, ${d.summary.warning} warning, ${d.summary.info} info`;
}

/** A plain-text table of the differences, critical first, one per line. */
export function formatDiffText(d: EnvDiff, options: FormatTextOptions = {}): string {
  const style = options.style ?? ((_s: Severity, t: string) => t);
  const max = options.maxValueWidth ?? 40;
  const head = [
    `env diff: ${side(d.a, 'a')} vs ${side(d.b, 'b')}${d.sameFingerprint ? ' (same fingerprint)' : ''}`,
    summaryLine(d),
  ];
  if (d.differences.length === 0) return `${head.join('\n')}\nno differences\n`;
  const rows = d.differences.map((x) => [
    x.severity,
    x.category,
    x.path,
    show(x.a, max),
    show(x.b, max),
    x.message,
  ]);
  const header = ['SEVERITY', 'CATEGORY', 'PATH', 'A', 'B', 'NOTE'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[], sev?: Severity) =>
    cells
      .map((cell, i) => {
        const padded = i === cells.length - 1 ? cell : cell.padEnd(widths[i]!);
        return i === 0 && sev ? style(sev, padded) : padded;
      })
      .join('  ')
      .trimEnd();
  return `${head.join('\n')}\n\n${line(header)}\n${rows.map((r, i) => line(r, d.differences[i]!.severity)).join('\n')}\n`;
}

function md(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/** The differences as a Markdown table (for PR comments and reports). */
export function formatDiffMarkdown(d: EnvDiff): string {
  const out = [
    `### Environment diff: ${md(side(d.a, 'a'))} vs ${md(side(d.b, 'b'))}`,
    '',
    `**${summaryLine(d)}**${d.sameFingerprint ? ' (same fingerprint)' : ''}`,
    '',
  ];
  if (d.differences.length === 0) return `${out.join('\n')}No differences.\n`;
  out.push('| Severity | Category | Path | A | B | Note |', '| --- | --- | --- | --- | --- | --- |');
  for (const x of d.differences)
    out.push(
      `| ${x.severity} | ${x.category} | \`${md(x.path)}\` | ${md(show(x.a, 80))} | ${md(show(x.b, 80))} | ${md(x.message)} |`,
    );
  return `${out.join('\n')}\n`;
}

/** The diff as indented JSON. */
export function formatDiffJson(d: EnvDiff): string {
  return `${JSON.stringify(d, null, 2)}\n`;
}

function bytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return 'none';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(u === 0 ? 0 : 1)} ${units[u]}`;
}

/** A short human summary of a snapshot (one line per section; failed probes listed). */
export function formatSnapshotText(s: EnvSnapshot): string {
  const lines: string[] = [
    `env snapshot${s.label ? ` ${s.label}` : ''}  fingerprint ${s.fingerprint}  (${Math.round(s.durationMs)} ms)`,
  ];
  const row = (name: string, text: string) => lines.push(`${name.padEnd(10)} ${text}`);
  const r = s.runtime;
  if (r)
    row(
      'runtime',
      `Node ${r.node} (ABI ${r.modules}, V8 ${r.v8}) · timezone ${r.timezone} · locale ${r.locale}`,
    );
  const o = s.os;
  if (o)
    row(
      'os',
      `${o.platform} ${o.arch} · ${o.type} ${o.release} · libc ${o.libc}${o.glibcVersionRuntime ? ` ${o.glibcVersionRuntime}` : ''}`,
    );
  const res = s.resources;
  if (res)
    row(
      'resources',
      `${res.cpuCount} CPUs (${res.cpuModel}) · ${bytes(res.totalMemoryBytes)} memory · V8 heap limit ${bytes(res.heapLimitBytes)}`,
    );
  if (s.cgroup)
    row(
      'cgroup',
      s.cgroup.version === null
        ? 'none'
        : `v${s.cgroup.version} · memory limit ${bytes(s.cgroup.memoryLimitBytes)} · cpu limit ${s.cgroup.cpuLimitCores ?? 'none'}`,
    );
  const nofile = s.ulimits?.open_files;
  if (nofile) row('ulimits', `open files ${nofile.soft} (hard ${nofile.hard})`);
  for (const d of s.disks ?? [])
    row('disk', `${d.path}: ${d.error ? d.error : `${bytes(d.freeBytes)} free of ${bytes(d.totalBytes)}`}`);
  if (s.packages)
    row(
      'packages',
      `${s.packages.list.length} resolved (${s.packages.list.filter((p) => p.native).length} native)` +
        `${s.packages.unresolved.length > 0 ? `, ${s.packages.unresolved.length} unresolved` : ''}` +
        `${s.packages.truncated ? ', truncated' : ''}`,
    );
  const ort = s.native.onnxruntime;
  if (ort?.installed)
    row(
      'native',
      `onnxruntime-node ${ort.versions.node ?? ort.packageVersion ?? '?'} (${ort.backends.map((b) => b.name).join(', ')})`,
    );
  const duck = s.native.duckdb;
  if (duck?.installed) row('native', `duckdb ${duck.version}`);
  for (const m of s.models)
    row(
      'model',
      `${m.name}: ${m.status === 'ok' ? `${bytes(m.sizeBytes)}${m.sha256 ? ` sha256 ${m.sha256.slice(0, 16)}` : ''}` : `${m.status}${m.error ? ` (${m.error})` : ''}`}`,
    );
  const vars = Object.values(s.env.vars);
  row(
    'env',
    `${vars.filter((v) => v.present).length} of ${vars.length} allowlisted set (${vars.filter((v) => 'secret' in v).length} secret, value not stored)`,
  );
  for (const [name, d] of Object.entries(s.dataSources))
    row('data', `${name}: ${d.status}${d.error ? ` (${d.error})` : ''}`);
  for (const [name, p] of Object.entries(s.probes))
    if (p.status === 'failed' || p.status === 'timeout')
      row('FAILED', `probe ${name}: ${p.status}${p.error ? ` (${p.error})` : ''}`);
  return `${lines.join('\n')}\n`;
}
