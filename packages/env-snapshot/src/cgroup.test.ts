import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { probeCgroup } from './cgroup.js';

let roots: string[] = [];
function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'cgroup-test-'));
  roots.push(root);
  for (const [file, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, file)), { recursive: true });
    writeFileSync(join(root, file), content);
  }
  return root;
}
afterEach(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
  roots = [];
});

describe('probeCgroup', () => {
  it('cgroup v2: memory.max and cpu.max, the tightest along the ancestors', async () => {
    const root = tree({
      'proc/self/cgroup': '0::/kubepods/pod1/app\n',
      'cg/cgroup.controllers': 'cpu memory',
      'cg/kubepods/pod1/memory.max': '4294967296\n',
      'cg/kubepods/pod1/cpu.max': 'max 100000\n',
      'cg/kubepods/pod1/app/memory.max': 'max\n',
      'cg/kubepods/pod1/app/cpu.max': '150000 100000\n',
    });
    expect(await probeCgroup(join(root, 'cg'), join(root, 'proc'))).toEqual({
      version: 2,
      path: '/kubepods/pod1/app',
      memoryLimitBytes: 4294967296,
      cpuLimitCores: 1.5,
    });
  });

  it('cgroup v2 inside a cgroup namespace (path not under the mount): reads the mount root', async () => {
    const root = tree({
      'proc/self/cgroup': '0::/\n',
      'cg/cgroup.controllers': 'cpu memory',
      'cg/memory.max': '536870912',
      'cg/cpu.max': 'max 100000',
    });
    expect(await probeCgroup(join(root, 'cg'), join(root, 'proc'))).toMatchObject({
      version: 2,
      memoryLimitBytes: 536870912,
      cpuLimitCores: null,
    });
  });

  it('cgroup v1: memory.limit_in_bytes (huge value = unlimited) and cfs quota/period', async () => {
    const root = tree({
      'proc/self/cgroup': '4:memory:/docker/abc\n2:cpu,cpuacct:/docker/abc\n1:name=systemd:/\n',
      'cg/memory/memory.limit_in_bytes': '9223372036854771712',
      'cg/memory/docker/abc/memory.limit_in_bytes': '8589934592',
      'cg/cpu,cpuacct/docker/abc/cpu.cfs_quota_us': '200000',
      'cg/cpu,cpuacct/docker/abc/cpu.cfs_period_us': '100000',
    });
    expect(await probeCgroup(join(root, 'cg'), join(root, 'proc'))).toEqual({
      version: 1,
      path: '/docker/abc',
      memoryLimitBytes: 8589934592,
      cpuLimitCores: 2,
    });
  });

  it('no cgroup file system: version null, no limits', async () => {
    const root = tree({ 'proc/self/other': '' });
    expect(await probeCgroup(join(root, 'cg'), join(root, 'proc'))).toEqual({
      version: null,
      path: null,
      memoryLimitBytes: null,
      cpuLimitCores: null,
    });
  });

  it.runIf(process.platform === 'linux')('this machine', async () => {
    const real = await probeCgroup('/sys/fs/cgroup', '/proc');
    expect(real.version === 1 || real.version === 2).toBe(true);
    if (real.memoryLimitBytes !== null) expect(real.memoryLimitBytes).toBeGreaterThan(0);
  });
});
