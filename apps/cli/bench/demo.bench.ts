// `prodprobe demo` end to end, warm (after a build and one run whose figure is discarded): the built
// CLI as a child process, at half, the default and twice the default number of requests (target at
// the default, as `pnpm demo` runs it: < 60 s). Needs `pnpm build` first.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BenchOptions, type BenchRow, row, runMain } from '../../../bench/rows.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const cli = join(root, 'apps/cli/dist/bin.js');
const DEFAULT_REQUESTS = 1500;

function demo(requests: number, out: string): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [cli, 'demo', '--requests', String(requests), '--out', out], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 1 << 26,
  });
  const seconds = (performance.now() - t0) / 1000;
  if (r.status !== 0)
    throw new Error(`demo --requests ${requests} exited ${r.status}: ${r.stderr.slice(-2000)}`);
  return seconds;
}

/** The demo's wall time at three request counts. */
export async function bench({ quick }: BenchOptions): Promise<BenchRow[]> {
  if (!existsSync(cli)) throw new Error(`build the CLI first: ${cli} is missing (pnpm build)`);
  const dir = mkdtempSync(join(tmpdir(), 'prodprobe-demo-bench-'));
  try {
    const sizes = quick ? [200] : [DEFAULT_REQUESTS / 2, DEFAULT_REQUESTS, DEFAULT_REQUESTS * 2];
    if (!quick) demo(DEFAULT_REQUESTS, join(dir, 'warm-up'));
    const rows: BenchRow[] = [];
    for (const n of sizes) {
      const seconds = demo(n, join(dir, `run-${n}`));
      console.log(`prodprobe demo --requests ${n}: ${seconds.toFixed(1)} s`);
      const isDefault = n === DEFAULT_REQUESTS;
      rows.push(
        row({
          measure: '`pnpm demo` end to end, warm',
          size: `${n} requests per environment${isDefault ? ' (the default)' : ''}`,
          unit: 's',
          baselineName: null,
          baseline: null,
          prodprobe: seconds,
          target: isDefault ? '< 60 s' : '— (growth only)',
          ok: isDefault ? seconds < 60 : null,
          note: 'node apps/cli/dist/bin.js demo as a child process after a discarded warm-up run: two services, traffic, diagnose, the regression test',
        }),
      );
    }
    return rows;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await runMain(import.meta.url, bench);
