import { access, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Cgroup } from './schema.js';

// cgroup v1 writes "no limit" as a huge page-aligned number (9223372036854771712 on x86-64).
const V1_UNLIMITED = 2 ** 60;

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch {
    return undefined;
  }
}

/** Directories from `leaf` up to and including `root`: a limit set on any ancestor applies too. */
function chain(root: string, leaf: string): string[] {
  const dirs: string[] = [];
  let dir = leaf;
  while (dir.startsWith(root) && dir.length >= root.length) {
    dirs.push(dir);
    if (dir === root) break;
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return dirs;
}

async function leafDir(mount: string, path: string): Promise<string> {
  // Inside a container's cgroup namespace the mount already is the process's cgroup, while
  // /proc/self/cgroup may still show the host path: fall back to the mount root.
  const candidate = join(mount, path);
  return path !== '/' && (await exists(candidate)) ? candidate : mount;
}

function minOrNull(values: (number | null)[]): number | null {
  const finite = values.filter((v): v is number => v !== null && Number.isFinite(v));
  return finite.length === 0 ? null : Math.min(...finite);
}

async function probeV2(root: string, path: string): Promise<Cgroup> {
  const dirs = chain(root, await leafDir(root, path));
  const memory: (number | null)[] = [];
  const cpu: (number | null)[] = [];
  for (const dir of dirs) {
    const mem = await readText(join(dir, 'memory.max'));
    if (mem !== undefined && mem !== 'max' && /^\d+$/.test(mem)) memory.push(Number(mem));
    const cpuMax = await readText(join(dir, 'cpu.max'));
    if (cpuMax !== undefined) {
      const [quota, period] = cpuMax.split(/\s+/);
      if (quota !== undefined && quota !== 'max' && period !== undefined && Number(period) > 0)
        cpu.push(Number(quota) / Number(period));
    }
  }
  return { version: 2, path, memoryLimitBytes: minOrNull(memory), cpuLimitCores: minOrNull(cpu) };
}

async function probeV1(root: string, lines: { controllers: string[]; path: string }[]): Promise<Cgroup> {
  const find = (controller: string) => lines.find((l) => l.controllers.includes(controller));
  const memLine = find('memory');
  const cpuLine = find('cpu');
  const memory: (number | null)[] = [];
  const cpu: (number | null)[] = [];
  if (memLine) {
    const mount = join(root, 'memory');
    for (const dir of chain(mount, await leafDir(mount, memLine.path))) {
      const text = await readText(join(dir, 'memory.limit_in_bytes'));
      if (text !== undefined && /^\d+$/.test(text) && Number(text) < V1_UNLIMITED) memory.push(Number(text));
    }
  }
  if (cpuLine) {
    let mount = join(root, 'cpu');
    if (!(await exists(mount))) mount = join(root, cpuLine.controllers.join(','));
    for (const dir of chain(mount, await leafDir(mount, cpuLine.path))) {
      const quota = Number(await readText(join(dir, 'cpu.cfs_quota_us')));
      const period = Number(await readText(join(dir, 'cpu.cfs_period_us')));
      if (quota > 0 && period > 0) cpu.push(quota / period);
    }
  }
  return {
    version: 1,
    path: memLine?.path ?? cpuLine?.path ?? null,
    memoryLimitBytes: minOrNull(memory),
    cpuLimitCores: minOrNull(cpu),
  };
}

/**
 * Container memory and CPU limits from cgroup v2 (`memory.max`, `cpu.max`) or v1
 * (`memory.limit_in_bytes`, `cpu.cfs_quota_us / cpu.cfs_period_us`), the tightest along the
 * cgroup's ancestors. `null` limits mean none is set; `version: null` means no cgroup file system.
 */
export async function probeCgroup(cgroupRoot: string, procRoot: string): Promise<Cgroup> {
  const text = await readText(join(procRoot, 'self', 'cgroup'));
  const lines = (text ?? '')
    .split('\n')
    .map((line) => /^(\d+):([^:]*):(.*)$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ id: m[1]!, controllers: m[2]!.split(',').filter((c) => c !== ''), path: m[3]! }));
  if (await exists(join(cgroupRoot, 'cgroup.controllers'))) {
    const unified = lines.find((l) => l.id === '0' && l.controllers.length === 0);
    return probeV2(cgroupRoot, unified?.path ?? '/');
  }
  if (lines.some((l) => l.controllers.includes('memory') || l.controllers.includes('cpu')))
    return probeV1(cgroupRoot, lines);
  return { version: null, path: null, memoryLimitBytes: null, cpuLimitCores: null };
}
