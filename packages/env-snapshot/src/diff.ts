import { formatPath } from './errors.js';
import { isVolatilePath } from './fingerprint.js';
import { parseSnapshot } from './parse.js';
import {
  type Difference,
  type DifferenceCategory,
  type EnvDiff,
  type EnvSnapshot,
  type EnvVar,
  type JsonValue,
  type Package,
  type Severity,
  SNAPSHOT_SCHEMA_VERSION,
} from './schema.js';
import { compareVersions, versionChange } from './version.js';

/** Options for {@link diff}. */
export interface DiffOptions {
  /** Also report volatile fields (uptime, free memory, probe durations, hostname) as `info`. @default false */
  includeVolatile?: boolean;
}

/** An array element found by the value of its `name` (or `id`) key, written `[name=value]`. */
interface Keyed {
  by: string;
  value: string;
}
type Seg = string | number | Keyed;

/** `a.b[2][name=x].c`, as `formatPath` writes paths, plus keyed segments. */
function pathText(path: readonly Seg[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'object') out += `[${seg.by}=${seg.value}]`;
    else {
      const part = formatPath([seg]);
      out += out !== '' && !part.startsWith('[') ? `.${part}` : part;
    }
  }
  return out === '' ? '(root)' : out;
}

const ELEMENT_KEYS = ['name', 'id', 'key'] as const;

/**
 * The key that names every element of both arrays (objects with a unique string `name`, `id` or
 * `key`), so elements are matched by it whatever their order; undefined when there is none.
 */
function elementKey(a: readonly unknown[], b: readonly unknown[]): string | undefined {
  return ELEMENT_KEYS.find((k) =>
    [a, b].every((list) => {
      const seen = new Set<string>();
      for (const v of list) {
        const id = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
        if (typeof id !== 'string' || seen.has(id)) return false;
        seen.add(id);
      }
      return list.length > 0;
    }),
  );
}

const SEVERITY_ORDER: Record<Severity, number> = { critical: 0, warning: 1, info: 2 };
const CATEGORY_ORDER: readonly DifferenceCategory[] = [
  'probe-failed',
  'model',
  'native',
  'package',
  'runtime',
  'os',
  'resources',
  'config',
  'env',
  'data-source',
];

/** Deep equality of JSON values (key order ignored). */
function equal(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => equal(v, b[i]));
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return (
    ka.length === kb.length &&
    ka.every(
      (k) =>
        Object.hasOwn(b, k) && equal((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]),
    )
  );
}

function json(value: unknown): JsonValue {
  return value === undefined ? null : (value as JsonValue);
}

function pct(x: number): string {
  return `${Math.round(x * 100)}%`;
}

function human(n: number): string {
  if (!Number.isFinite(n)) return 'unlimited';
  if (Math.abs(n) >= 1024 ** 2) {
    const units = ['KiB', 'MiB', 'GiB', 'TiB'];
    let v = n / 1024;
    let u = 0;
    while (Math.abs(v) >= 1024 && u < units.length - 1) {
      v /= 1024;
      u++;
    }
    return `${v.toFixed(v >= 100 ? 0 : 1)} ${units[u]}`;
  }
  return String(n);
}

class Collector {
  readonly out: Difference[] = [];
  constructor(readonly includeVolatile: boolean) {}

  add(
    path: Seg[],
    a: unknown,
    b: unknown,
    category: DifferenceCategory,
    severity: Severity,
    message: string,
  ): void {
    this.out.push({ path: pathText(path), a: json(a), b: json(b), category, severity, message });
  }

  /** Reports a volatile field only when asked, always as info. Returns true when `path` is volatile. */
  volatile(path: Seg[], a: unknown, b: unknown, category: DifferenceCategory): boolean {
    if (!isVolatilePath(path.map((seg) => (typeof seg === 'object' ? `[${seg.by}=${seg.value}]` : seg))))
      return false;
    if (this.includeVolatile && !equal(a, b))
      this.add(path, a, b, category, 'info', 'volatile value changed');
    return true;
  }

  /** Every differing leaf under `path`, each with the same category and severity. */
  deep(
    path: Seg[],
    a: unknown,
    b: unknown,
    category: DifferenceCategory,
    severity: Severity,
    what: string,
  ): void {
    if (equal(a, b)) return;
    if (Array.isArray(a) && Array.isArray(b)) {
      // Lists of named entries (scalers per feature, models) match by name, so the difference
      // names the entry and the field: modelConfig.numeric[name=age].std, not the whole list.
      const by = elementKey(a, b);
      if (by !== undefined) {
        const byId = (list: readonly unknown[]) =>
          new Map(list.map((v) => [(v as Record<string, string>)[by]!, v]));
        const ea = byId(a);
        const eb = byId(b);
        for (const id of union(ea.keys(), eb.keys()))
          this.deep([...path, { by, value: id }], ea.get(id), eb.get(id), category, severity, what);
        return;
      }
      if (a.length === b.length) {
        for (let i = 0; i < a.length; i++) this.deep([...path, i], a[i], b[i], category, severity, what);
        return;
      }
    }
    const isObj = (v: unknown) => v !== null && typeof v === 'object' && !Array.isArray(v);
    if (isObj(a) && isObj(b)) {
      const ra = a as Record<string, unknown>;
      const rb = b as Record<string, unknown>;
      for (const key of union(Object.keys(ra), Object.keys(rb))) {
        const next = [...path, key];
        if (this.volatile(next, ra[key], rb[key], category)) continue;
        this.deep(next, ra[key], rb[key], category, severity, what);
      }
      return;
    }
    if (a === undefined) this.add(path, a, b, category, severity, `${what} added in b`);
    else if (b === undefined) this.add(path, a, b, category, severity, `${what} removed in b`);
    else this.add(path, a, b, category, severity, `${what} changed`);
  }

  /**
   * A resource in b against a: reduced by 50% or more is critical, by 20-50% a warning, anything
   * else (including more) info. `Infinity` stands for unlimited.
   */
  resource(path: Seg[], a: number, b: number, shownA: unknown = a, shownB: unknown = b): void {
    if (a === b) return;
    const reduction = a === Number.POSITIVE_INFINITY ? (Number.isFinite(b) ? 1 : 0) : a > 0 ? (a - b) / a : 0;
    // The epsilon keeps exact thresholds (8 GiB -> 4 GiB, 10 -> 8) on the stricter side despite rounding.
    const severity: Severity =
      reduction >= 0.5 - 1e-9 ? 'critical' : reduction >= 0.2 - 1e-9 ? 'warning' : 'info';
    const message =
      b > a
        ? `increased from ${human(a)} to ${human(b)}`
        : `reduced by ${a === Number.POSITIVE_INFINITY ? '100%' : pct(reduction)}: ${human(a)} -> ${human(b)}`;
    this.add(path, shownA, shownB, 'resources', severity, message);
  }

  /** A version pair by semver distance: major critical, minor warning, patch and prerelease info. */
  version(path: Seg[], a: string, b: string, category: DifferenceCategory, what: string): void {
    const change = versionChange(a, b);
    if (change === 'none') return;
    const severity: Severity =
      change === 'major' ? 'critical' : change === 'minor' || change === 'unknown' ? 'warning' : 'info';
    this.add(
      path,
      a,
      b,
      category,
      severity,
      `${what} ${change === 'unknown' ? 'version' : change} change ${a} -> ${b}`,
    );
  }
}

function union(a: Iterable<string>, b: Iterable<string>): string[] {
  return [...new Set([...a, ...b])].sort();
}

/** The category of the section a built-in probe fills. */
function probeCategory(name: string): DifferenceCategory {
  if (name === 'runtime' || name === 'os') return name;
  if (name === 'packages') return 'package';
  if (name.startsWith('native.')) return 'native';
  return 'resources';
}

const isFailed = (status: string | undefined) => status === 'failed' || status === 'timeout';

function diffProbes(c: Collector, a: EnvSnapshot, b: EnvSnapshot): Set<string> {
  const comparable = new Set<string>();
  for (const name of union(Object.keys(a.probes), Object.keys(b.probes))) {
    const pa = a.probes[name];
    const pb = b.probes[name];
    c.volatile(['probes', name, 'durationMs'], pa?.durationMs, pb?.durationMs, probeCategory(name));
    if (pa?.status === 'ok' && pb?.status === 'ok') {
      comparable.add(name);
      continue;
    }
    const path = ['probes', name, 'status'];
    if (isFailed(pa?.status) !== isFailed(pb?.status)) {
      const side = isFailed(pa?.status) ? 'a' : 'b';
      const error = (side === 'a' ? pa : pb)?.error ?? '';
      c.add(
        path,
        pa?.status,
        pb?.status,
        'probe-failed',
        'critical',
        `probe ${name} failed on ${side} only: ${error}`,
      );
    } else if (pa?.status !== pb?.status) {
      c.add(path, pa?.status, pb?.status, 'probe-failed', 'info', `probe ${name} not captured on both sides`);
    }
  }
  return comparable;
}

const RUNTIME_RULES: Record<string, { severity: Severity; why: string } | 'semver'> = {
  node: 'semver',
  modules: { severity: 'critical', why: 'native ABI changed: addons built for the other ABI will not load' },
  napi: { severity: 'warning', why: 'N-API version changed' },
  timezone: { severity: 'warning', why: 'timezone changed: dates and day boundaries shift' },
  locale: { severity: 'warning', why: 'locale changed: number and date parsing/formatting differ' },
  numberFormatSample: { severity: 'warning', why: 'numbers are formatted differently' },
  execArgv: { severity: 'warning', why: 'Node flags changed' },
};

function diffRuntime(
  c: Collector,
  a: NonNullable<EnvSnapshot['runtime']>,
  b: NonNullable<EnvSnapshot['runtime']>,
): void {
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  for (const key of union(Object.keys(ra), Object.keys(rb))) {
    const path = ['runtime', key];
    if (c.volatile(path, ra[key], rb[key], 'runtime') || equal(ra[key], rb[key])) continue;
    const rule = RUNTIME_RULES[key];
    if (rule === 'semver') c.version(path, String(ra[key]), String(rb[key]), 'runtime', 'Node.js');
    else if (rule) c.add(path, ra[key], rb[key], 'runtime', rule.severity, rule.why);
    else c.add(path, ra[key], rb[key], 'runtime', 'info', `${key} changed`);
  }
}

function diffOs(c: Collector, a: NonNullable<EnvSnapshot['os']>, b: NonNullable<EnvSnapshot['os']>): void {
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  for (const key of union(Object.keys(ra), Object.keys(rb))) {
    const path = ['os', key];
    if (c.volatile(path, ra[key], rb[key], 'os') || equal(ra[key], rb[key])) continue;
    if (key === 'platform' || key === 'arch' || key === 'libc' || key === 'type')
      c.add(path, ra[key], rb[key], 'os', 'critical', `${key} changed: native binaries differ`);
    else if (key === 'glibcVersionRuntime' && typeof ra[key] === 'string' && typeof rb[key] === 'string') {
      const change = versionChange(ra[key], rb[key]);
      c.add(
        path,
        ra[key],
        rb[key],
        'os',
        change === 'major' ? 'critical' : 'warning',
        'glibc version changed',
      );
    } else c.add(path, ra[key], rb[key], 'os', 'info', `${key} changed`);
  }
}

function diffResources(c: Collector, a: EnvSnapshot, b: EnvSnapshot, comparable: Set<string>): void {
  if (comparable.has('resources') && a.resources && b.resources) {
    const ra = a.resources as Record<string, unknown>;
    const rb = b.resources as Record<string, unknown>;
    for (const key of union(Object.keys(ra), Object.keys(rb))) {
      const path = ['resources', key];
      if (c.volatile(path, ra[key], rb[key], 'resources') || equal(ra[key], rb[key])) continue;
      if (typeof ra[key] === 'number' && typeof rb[key] === 'number') c.resource(path, ra[key], rb[key]);
      else c.add(path, ra[key], rb[key], 'resources', 'info', `${key} changed`);
    }
  }
  if (comparable.has('cgroup') && a.cgroup && b.cgroup) {
    // No limit means the machine's own memory is the ceiling, so compare effective values.
    const memA = a.cgroup.memoryLimitBytes ?? a.resources?.totalMemoryBytes ?? Number.POSITIVE_INFINITY;
    const memB = b.cgroup.memoryLimitBytes ?? b.resources?.totalMemoryBytes ?? Number.POSITIVE_INFINITY;
    if (a.cgroup.memoryLimitBytes !== b.cgroup.memoryLimitBytes)
      c.resource(
        ['cgroup', 'memoryLimitBytes'],
        memA,
        memB,
        a.cgroup.memoryLimitBytes,
        b.cgroup.memoryLimitBytes,
      );
    const cpuA = a.cgroup.cpuLimitCores ?? a.resources?.cpuCount ?? Number.POSITIVE_INFINITY;
    const cpuB = b.cgroup.cpuLimitCores ?? b.resources?.cpuCount ?? Number.POSITIVE_INFINITY;
    if (a.cgroup.cpuLimitCores !== b.cgroup.cpuLimitCores)
      c.resource(['cgroup', 'cpuLimitCores'], cpuA, cpuB, a.cgroup.cpuLimitCores, b.cgroup.cpuLimitCores);
    for (const key of ['version', 'path'] as const)
      if (a.cgroup[key] !== b.cgroup[key])
        c.add(['cgroup', key], a.cgroup[key], b.cgroup[key], 'resources', 'info', `cgroup ${key} changed`);
  }
  if (comparable.has('ulimits') && a.ulimits && b.ulimits) {
    const num = (v: number | 'unlimited') => (v === 'unlimited' ? Number.POSITIVE_INFINITY : v);
    for (const name of union(Object.keys(a.ulimits), Object.keys(b.ulimits))) {
      const la = a.ulimits[name];
      const lb = b.ulimits[name];
      if (!la || !lb) {
        c.add(['ulimits', name], la, lb, 'resources', 'info', `limit ${name} reported on one side only`);
        continue;
      }
      for (const kind of ['soft', 'hard'] as const)
        if (la[kind] !== lb[kind])
          c.resource(['ulimits', name, kind], num(la[kind]), num(lb[kind]), la[kind], lb[kind]);
    }
  }
  if (comparable.has('disks') && a.disks && b.disks) {
    const byPath = (list: NonNullable<EnvSnapshot['disks']>) => new Map(list.map((d) => [d.path, d]));
    const da = byPath(a.disks);
    const db = byPath(b.disks);
    for (const path of union(da.keys(), db.keys())) {
      const x = da.get(path);
      const y = db.get(path);
      if (!x || !y) continue; // directories differ with the model paths, reported there
      c.volatile(['disks', path, 'freeBytes'], x.freeBytes, y.freeBytes, 'resources');
      if (x.totalBytes !== null && y.totalBytes !== null && x.totalBytes !== y.totalBytes)
        c.resource(['disks', path, 'totalBytes'], x.totalBytes, y.totalBytes);
      if ((x.error === undefined) !== (y.error === undefined))
        c.add(
          ['disks', path, 'error'],
          x.error,
          y.error,
          'resources',
          'warning',
          'disk could not be measured on one side',
        );
    }
  }
}

interface PackageGroup {
  versions: string[];
  paths: string[];
  native: boolean;
  binaries: Package['binaries'];
}

function groupPackages(list: readonly Package[]): Map<string, PackageGroup> {
  const groups = new Map<string, PackageGroup>();
  for (const pkg of list) {
    const g = groups.get(pkg.name) ?? { versions: [], paths: [], native: false, binaries: [] };
    if (!g.versions.includes(pkg.version)) g.versions.push(pkg.version);
    g.paths.push(pkg.path);
    g.native ||= pkg.native;
    g.binaries.push(...pkg.binaries);
    groups.set(pkg.name, g);
  }
  for (const g of groups.values()) {
    g.versions.sort(compareVersions);
    g.paths.sort();
    g.binaries.sort((x, y) => (x.file < y.file ? -1 : x.file > y.file ? 1 : x.sizeBytes - y.sizeBytes));
  }
  return groups;
}

function diffPackages(
  c: Collector,
  a: NonNullable<EnvSnapshot['packages']>,
  b: NonNullable<EnvSnapshot['packages']>,
): void {
  const ga = groupPackages(a.list);
  const gb = groupPackages(b.list);
  for (const name of union(ga.keys(), gb.keys())) {
    const x = ga.get(name);
    const y = gb.get(name);
    const path = ['packages', name];
    const shown = (g: PackageGroup | undefined) => (g ? g.versions.join(', ') : null);
    if (!x || !y) {
      const native = (x ?? y)!.native;
      c.add(
        path,
        shown(x),
        shown(y),
        native ? 'native' : 'package',
        native ? 'critical' : 'warning',
        `${native ? 'native addon' : 'package'} ${x ? 'removed in b' : 'added in b'}`,
      );
      continue;
    }
    const native = x.native || y.native;
    if (!equal(x.versions, y.versions)) {
      if (native)
        c.add(
          path,
          shown(x),
          shown(y),
          'native',
          'critical',
          `native addon version changed ${shown(x)} -> ${shown(y)}`,
        );
      else c.version(path, x.versions.at(-1)!, y.versions.at(-1)!, 'package', name);
      if (equal(x.versions.at(-1), y.versions.at(-1)))
        c.add(path, shown(x), shown(y), 'package', 'info', 'different set of installed versions');
      continue;
    }
    if (!equal(x.binaries, y.binaries))
      c.add(
        [...path, 'binaries'],
        x.binaries.map((f) => `${f.file} (${f.sizeBytes} B)`),
        y.binaries.map((f) => `${f.file} (${f.sizeBytes} B)`),
        'native',
        'critical',
        'native binary differs at the same version',
      );
    if (!equal(x.paths, y.paths))
      c.add([...path, 'path'], x.paths, y.paths, 'package', 'info', 'installed at another path');
  }
  const key = (u: { name: string; from: string }) => `${u.name} (required by ${u.from})`;
  const ua = new Set(a.unresolved.map(key));
  const ub = new Set(b.unresolved.map(key));
  for (const u of union(ua, ub)) {
    if (ua.has(u) && ub.has(u)) continue;
    c.add(
      ['packages', '(unresolved)'],
      ua.has(u) ? u : null,
      ub.has(u) ? u : null,
      'package',
      'warning',
      `dependency cannot be resolved on ${ua.has(u) ? 'a' : 'b'}`,
    );
  }
  if (a.root?.version && b.root?.version && a.root.name === b.root.name)
    c.version(
      ['packages', '(root)', 'version'],
      a.root.version,
      b.root.version,
      'package',
      `app ${a.root.name ?? ''}`,
    );
  else if (a.root?.name !== b.root?.name)
    c.add(
      ['packages', '(root)', 'name'],
      a.root?.name,
      b.root?.name,
      'package',
      'warning',
      'a different app',
    );
  if (a.truncated !== b.truncated)
    c.add(
      ['packages', 'truncated'],
      a.truncated,
      b.truncated,
      'package',
      'info',
      'package walk was cut short',
    );
}

function diffNative(c: Collector, a: EnvSnapshot, b: EnvSnapshot, comparable: Set<string>): void {
  for (const name of ['onnxruntime', 'duckdb'] as const) {
    if (!comparable.has(`native.${name}`)) continue;
    const x = a.native[name] as Record<string, unknown> | null;
    const y = b.native[name] as Record<string, unknown> | null;
    if (!x || !y) continue;
    const path = ['native', name];
    if (x.installed !== y.installed) {
      c.add(
        [...path, 'installed'],
        x.installed,
        y.installed,
        'native',
        'critical',
        `${name} ${x.installed ? 'missing in b' : 'only in b'}`,
      );
      continue;
    }
    for (const key of union(Object.keys(x), Object.keys(y))) {
      if (key === 'installed' || equal(x[key], y[key])) continue;
      if (key === 'path')
        c.add([...path, key], x[key], y[key], 'native', 'info', `${name} loaded from another path`);
      else c.deep([...path, key], x[key], y[key], 'native', 'critical', `${name} ${key}`);
    }
  }
}

function diffModels(c: Collector, a: EnvSnapshot, b: EnvSnapshot): void {
  const ma = new Map(a.models.map((m) => [m.name, m]));
  const mb = new Map(b.models.map((m) => [m.name, m]));
  for (const name of union(ma.keys(), mb.keys())) {
    const x = ma.get(name);
    const y = mb.get(name);
    const path = ['models', name];
    if (!x || !y) {
      c.add(path, x?.path, y?.path, 'model', 'critical', `model ${x ? 'missing from b' : 'only in b'}`);
      continue;
    }
    if (c.includeVolatile && x.durationMs !== y.durationMs)
      c.add([...path, 'durationMs'], x.durationMs, y.durationMs, 'model', 'info', 'volatile value changed');
    if (x.status !== y.status) {
      const err = x.status === 'ok' ? y.error : x.error;
      c.add(
        [...path, 'status'],
        x.status,
        y.status,
        'model',
        'critical',
        `model file ${x.status === 'ok' ? y.status : x.status} on one side${err ? `: ${err}` : ''}`,
      );
      continue;
    }
    if (x.status !== 'ok') continue;
    if (x.sha256 && y.sha256 && x.sha256 !== y.sha256)
      c.add(
        [...path, 'sha256'],
        x.sha256,
        y.sha256,
        'model',
        'critical',
        'model file content differs (sha256)',
      );
    else if (x.sizeBytes !== y.sizeBytes)
      c.add([...path, 'sizeBytes'], x.sizeBytes, y.sizeBytes, 'model', 'critical', 'model file size differs');
    else if ((x.sha256 === null) !== (y.sha256 === null))
      c.add(
        [...path, 'sha256'],
        x.sha256,
        y.sha256,
        'model',
        'info',
        'model hashed on one side only: content not compared',
      );
    if (x.path !== y.path)
      c.add([...path, 'path'], x.path, y.path, 'model', 'info', 'model loaded from another path');
  }
  c.deep(['modelConfig'], a.modelConfig, b.modelConfig, 'model', 'warning', 'model config value');
}

function describeEnvVar(v: EnvVar | undefined): JsonValue {
  if (!v?.present) return null;
  if ('value' in v) return v.value;
  return `secret (length ${v.length}${v.hmac ? `, hmac ${v.hmac.slice(0, 12)}...` : ''})`;
}

function diffEnv(c: Collector, a: EnvSnapshot, b: EnvSnapshot): void {
  const sameKey = a.env.hmacKeyId !== null && a.env.hmacKeyId === b.env.hmacKeyId;
  for (const name of union(Object.keys(a.env.vars), Object.keys(b.env.vars))) {
    const x = a.env.vars[name];
    const y = b.env.vars[name];
    const path = ['env', name];
    // Every env difference shows both sides the same way (secrets as length and hmac prefix only).
    const report = (severity: Severity, note: string) =>
      c.add(path, describeEnvVar(x), describeEnvVar(y), 'env', severity, note);
    if (!x || !y) {
      // Recorded on one side only: the allowlists differ; a variable set on one side is still news.
      if ((x ?? y!).present) report('info', 'variable not allowlisted on both sides');
      continue;
    }
    if (x.present !== y.present) {
      report('warning', `variable ${x.present ? 'unset' : 'set'} in b`);
      continue;
    }
    if (!x.present || !y.present) continue;
    const sx = 'secret' in x;
    const sy = 'secret' in y;
    if ('value' in x && 'value' in y) {
      if (x.value !== y.value) c.add(path, x.value, y.value, 'env', 'warning', 'value changed');
    } else if (sx && sy && 'length' in x && 'length' in y) {
      if (x.length !== y.length) report('warning', 'secret value changed (length differs)');
      else if (x.hmac && y.hmac && sameKey) {
        if (x.hmac !== y.hmac) report('warning', 'secret value changed (hmac differs)');
      } else if (x.hmac && y.hmac) report('info', 'secret hashed with different keys: cannot compare');
    } else if (sx !== sy) {
      report('info', 'treated as secret on one side only: cannot compare');
    }
  }
}

function diffDataSources(c: Collector, a: EnvSnapshot, b: EnvSnapshot): void {
  for (const name of union(Object.keys(a.dataSources), Object.keys(b.dataSources))) {
    const x = a.dataSources[name];
    const y = b.dataSources[name];
    const path = ['dataSources', name];
    if (!x || !y) {
      c.add(
        path,
        x?.status,
        y?.status,
        'data-source',
        'warning',
        `data source probed ${x ? 'on a only' : 'on b only'}`,
      );
      continue;
    }
    c.volatile([...path, 'durationMs'], x.durationMs, y.durationMs, 'data-source');
    if (isFailed(x.status) !== isFailed(y.status)) {
      const side = isFailed(x.status) ? 'a' : 'b';
      c.add(
        [...path, 'status'],
        x.status,
        y.status,
        'probe-failed',
        'critical',
        `data source ${name} ${side === 'a' ? x.status : y.status} on ${side} only: ${(side === 'a' ? x : y).error ?? ''}`,
      );
      continue;
    }
    if (x.status === 'ok' && y.status === 'ok')
      c.deep([...path, 'value'], x.value, y.value, 'data-source', 'warning', 'data source value');
  }
}

/**
 * Compares two snapshots: `a` is the reference (staging, where it works), `b` the target
 * (production). Inputs may be parsed JSON of unknown shape: both are validated first and a
 * malformed or foreign one throws `EnvSnapshotError` naming the field. Differences come sorted
 * critical first. Volatile fields are left out unless `includeVolatile`.
 */
export function diff(a: unknown, b: unknown, options: DiffOptions = {}): EnvDiff {
  const sa = parseSnapshot(a, 'snapshot a');
  const sb = parseSnapshot(b, 'snapshot b');
  const c = new Collector(options.includeVolatile ?? false);
  const comparable = diffProbes(c, sa, sb);
  if (comparable.has('runtime') && sa.runtime && sb.runtime) diffRuntime(c, sa.runtime, sb.runtime);
  if (comparable.has('os') && sa.os && sb.os) diffOs(c, sa.os, sb.os);
  diffResources(c, sa, sb, comparable);
  if (comparable.has('packages') && sa.packages && sb.packages) diffPackages(c, sa.packages, sb.packages);
  diffNative(c, sa, sb, comparable);
  diffModels(c, sa, sb);
  c.deep(['config'], sa.config, sb.config, 'config', 'warning', 'config value');
  diffEnv(c, sa, sb);
  diffDataSources(c, sa, sb);

  const differences = c.out.sort(
    (x, y) =>
      SEVERITY_ORDER[x.severity] - SEVERITY_ORDER[y.severity] ||
      CATEGORY_ORDER.indexOf(x.category) - CATEGORY_ORDER.indexOf(y.category) ||
      (x.path < y.path ? -1 : x.path > y.path ? 1 : 0),
  );
  const summary = { critical: 0, warning: 0, info: 0 };
  for (const d of differences) summary[d.severity]++;
  const side = (s: EnvSnapshot) => ({ label: s.label, fingerprint: s.fingerprint, createdAt: s.createdAt });
  return {
    kind: 'prodprobe.env-diff',
    schemaVersion: SNAPSHOT_SCHEMA_VERSION,
    a: side(sa),
    b: side(sb),
    sameFingerprint: sa.fingerprint === sb.fingerprint,
    summary,
    differences,
  };
}

/** Whether any difference is at least as severe as `threshold` (for CI gates and exit codes). */
export function hasDifferencesAtLeast(result: EnvDiff, threshold: Severity): boolean {
  return result.differences.some((d) => SEVERITY_ORDER[d.severity] <= SEVERITY_ORDER[threshold]);
}
