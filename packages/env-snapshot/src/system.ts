import { readFile, statfs } from 'node:fs/promises';
import * as os from 'node:os';
import { dirname } from 'node:path';
import * as v8 from 'node:v8';
import type { Disk, Os, Resources, Runtime, Ulimits } from './schema.js';

/** The parts of `process.report.getReport()` this package reads (never `environmentVariables`). */
export interface ReportLike {
  header?: { glibcVersionRuntime?: string; glibcVersionCompiler?: string };
  userLimits?: Record<string, { soft?: number | string; hard?: number | string }>;
  sharedObjects?: string[];
}

/** The diagnostic report of this process, or `undefined` where the runtime has none. */
export function processReport(): ReportLike | undefined {
  const report = process.report?.getReport?.() as unknown;
  return report && typeof report === 'object' ? (report as ReportLike) : undefined;
}

/** Node, V8, ABI and library versions, flags, timezone and locale of this process. */
export function probeRuntime(): Runtime {
  const v = process.versions as Record<string, string | undefined>;
  const resolved = Intl.DateTimeFormat().resolvedOptions();
  return {
    node: process.versions.node,
    v8: process.versions.v8,
    modules: process.versions.modules,
    napi: v.napi ?? null,
    uv: v.uv ?? null,
    openssl: v.openssl ?? null,
    icu: v.icu ?? null,
    unicode: v.unicode ?? null,
    tzData: v.tz ?? null,
    execArgv: [...process.execArgv],
    timezone: resolved.timeZone ?? 'unknown',
    // `0 - x` rather than `-x`: -0 would not survive a JSON round trip.
    utcOffsetMinutes: 0 - new Date().getTimezoneOffset(),
    locale: resolved.locale,
    numberFormatSample: (1234567.891).toLocaleString(),
    uptimeSeconds: Math.round(process.uptime() * 1000) / 1000,
  };
}

/** Operating system, architecture and C library (glibc version from the diagnostic report header). */
export function probeOs(report: ReportLike | undefined): Os {
  const glibcRuntime = report?.header?.glibcVersionRuntime ?? null;
  let libc: Os['libc'] = 'none';
  if (process.platform === 'linux') {
    if (glibcRuntime) libc = 'glibc';
    else if (report?.sharedObjects?.some((so) => /ld-musl|libc\.musl/.test(so))) libc = 'musl';
    else libc = 'unknown';
  }
  return {
    platform: process.platform,
    arch: process.arch,
    type: os.type(),
    release: os.release(),
    version: os.version(),
    machine: os.machine(),
    libc,
    glibcVersionRuntime: glibcRuntime,
    glibcVersionCompiler: report?.header?.glibcVersionCompiler ?? null,
    hostname: os.hostname(),
  };
}

/** CPU count and model, total and free memory, V8 heap limit. */
export function probeResources(): Resources {
  const cpus = os.cpus();
  return {
    cpuCount: cpus.length,
    availableParallelism: os.availableParallelism(),
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    totalMemoryBytes: os.totalmem(),
    freeMemoryBytes: os.freemem(),
    heapLimitBytes: v8.getHeapStatistics().heap_size_limit,
  };
}

function ulimitValue(v: number | string | undefined): number | 'unlimited' {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && /^\d+$/.test(v)) return Number(v);
  return 'unlimited';
}

// /proc/self/limits row names mapped to the names process.report uses, so both sources agree.
const PROC_LIMIT_NAMES: Record<string, string> = {
  'Max cpu time': 'cpu_time_seconds',
  'Max file size': 'file_size_blocks',
  'Max data size': 'data_seg_size_kbytes',
  'Max stack size': 'stack_size_bytes',
  'Max core file size': 'core_file_size_blocks',
  'Max resident set': 'max_memory_size_kbytes',
  'Max processes': 'max_user_processes',
  'Max open files': 'open_files',
  'Max locked memory': 'max_locked_memory_bytes',
  'Max address space': 'virtual_memory_kbytes',
};

/** Parses `/proc/self/limits` (used when the diagnostic report has no `userLimits`). */
export function parseProcLimits(text: string): Ulimits {
  const out: Ulimits = {};
  for (const line of text.split('\n').slice(1)) {
    const m = /^(.+?)\s{2,}(\S+)\s+(\S+)/.exec(line);
    if (!m) continue;
    const name = PROC_LIMIT_NAMES[m[1]!.trim()];
    if (name) out[name] = { soft: ulimitValue(m[2]), hard: ulimitValue(m[3]) };
  }
  return out;
}

/** Resource limits (`ulimit`): from the diagnostic report, else from `<procRoot>/self/limits`. */
export async function probeUlimits(report: ReportLike | undefined, procRoot: string): Promise<Ulimits> {
  const limits = report?.userLimits;
  if (limits && Object.keys(limits).length > 0) {
    const out: Ulimits = {};
    for (const name of Object.keys(limits).sort()) {
      const l = limits[name]!;
      out[name] = { soft: ulimitValue(l.soft), hard: ulimitValue(l.hard) };
    }
    return out;
  }
  return parseProcLimits(await readFile(`${procRoot}/self/limits`, 'utf8'));
}

/**
 * Total and free space of the file system holding each directory (`fs.statfs`). A directory that
 * does not exist yet is measured at its nearest existing ancestor, where it would be created.
 */
export async function probeDisks(dirs: readonly string[]): Promise<Disk[]> {
  return Promise.all(
    dirs.map(async (path): Promise<Disk> => {
      let at = path;
      for (;;) {
        try {
          const s = await statfs(at);
          return { path, totalBytes: s.blocks * s.bsize, freeBytes: s.bavail * s.bsize };
        } catch (error) {
          const parent = dirname(at);
          if ((error as { code?: string }).code === 'ENOENT' && parent !== at) {
            at = parent;
            continue;
          }
          return {
            path,
            totalBytes: null,
            freeBytes: null,
            error: error instanceof Error ? error.message : String(error),
          };
        }
      }
    }),
  );
}
