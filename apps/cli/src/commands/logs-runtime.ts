import { resourceTrend, sourceBreakdown, stageLatency } from '@prodprobe/logger/query';
import type { Command } from 'commander';
import { CliError, colorEnabled, ExitCode, type Io, painter, printJson } from '../output.js';
import { setExitCode } from '../program.js';
import { json, pct, table, withLogs } from './logs.js';

/**
 * `prodprobe logs stages|sources|resources`: what a traced pipeline and the logger's process
 * samples add to each entry (stage times, data sources read, open handles and descriptors).
 */
export function registerLogsRuntime(logs: Command, io: Io): void {
  const paint = painter(colorEnabled(io.stdout, io.env));

  logs
    .command('stages')
    .description(
      'which pipeline stage the slowest requests spend their time in (needs entries logged with stages)',
    )
    .argument('<dir>', 'log directory')
    .option('--quantile <q>', 'requests at or above this latency quantile count as slow', '0.99')
    .action(async (dir: string, opts: { quantile: string }, command: Command) => {
      const quantile = Number(opts.quantile);
      if (!(quantile > 0 && quantile < 1))
        throw new CliError(`--quantile ${opts.quantile}: expected a number between 0 and 1`);
      const report = await withLogs(io, dir, (db) => stageLatency(db, { quantile }));
      if (json(command)) {
        printJson(io, report);
        return;
      }
      if (report.entries === 0) {
        io.stdout.write(
          'no entry carries stage timings (log a traced pipeline.run: pass the trace to log())\n',
        );
        return;
      }
      io.stdout.write(
        `${report.entries} entries with stage timings; requests at p${+(quantile * 100).toPrecision(3)} take >= ${report.slowThresholdMs} ms (median ${report.p50LatencyMs} ms), ${report.slowEntries} such entries\n`,
      );
      io.stdout.write(
        table(
          [
            'stage',
            'entries',
            'p50 ms',
            'p95 ms',
            'p99 ms',
            'max ms',
            'slow: mean ms',
            'slow: share of time',
          ],
          report.stages.map((s) => [
            s.stage,
            s.entries,
            s.p50,
            s.p95,
            s.p99,
            s.max,
            s.slowMeanMs,
            pct(s.slowShare),
          ]),
        ),
      );
      if (report.dominant)
        io.stdout.write(paint('bold', `the slow requests spend most of their time in ${report.dominant}\n`));
    });

  logs
    .command('sources')
    .description(
      'requests by the data sources they read (name, version, cache hit): errors, data age, read time',
    )
    .argument('<dir>', 'log directory')
    .action(async (dir: string, _opts: unknown, command: Command) => {
      const groups = await withLogs(io, dir, (db) => sourceBreakdown(db));
      if (json(command)) {
        printJson(io, groups);
        return;
      }
      if (groups.length === 0) {
        io.stdout.write(
          'no entry records a data source (report reads with ctx.source in the pipeline stages)\n',
        );
        return;
      }
      io.stdout.write(
        table(
          [
            'source',
            'stage',
            'version',
            'hit',
            'entries',
            '~requests',
            'errors',
            'error rate',
            'oldest asOf',
            'newest asOf',
            'p50 ms',
            'p99 ms',
          ],
          groups.map((g) => [
            g.name,
            g.stage,
            g.version,
            g.hit,
            g.entries,
            Math.round(g.requests),
            g.errors,
            pct(g.errorRate),
            g.oldestAsOf,
            g.newestAsOf,
            g.p50Ms,
            g.p99Ms,
          ]),
        ),
      );
    });

  logs
    .command('resources')
    .description(
      'open handles and file descriptors against traffic per process, and a leak verdict (exit 1 on a leak)',
    )
    .argument('<dir>', 'log directory')
    .action(async (dir: string, _opts: unknown, command: Command) => {
      const trend = await withLogs(io, dir, (db) => resourceTrend(db));
      if (trend.verdict === 'leak') setExitCode(command, ExitCode.finding);
      if (json(command)) {
        printJson(io, trend);
        return;
      }
      io.stdout.write(`verdict: ${trend.verdict === 'leak' ? paint('red', 'leak') : trend.verdict}\n`);
      io.stdout.write(
        table(
          [
            'host',
            'pid',
            'points',
            '~requests',
            'handles first',
            'last',
            '/ 1k req',
            'r2',
            'fds first',
            'last',
            '/ 1k req',
            'r2',
            'verdict',
          ],
          trend.processes.map((p) => [
            p.host,
            p.pid,
            p.points,
            Math.round(p.requests),
            p.firstHandles,
            p.lastHandles,
            p.handlesSlopePer1k,
            p.handlesR2,
            p.firstFds,
            p.lastFds,
            p.fdsSlopePer1k,
            p.fdsR2,
            p.leaking.length ? `leak (${p.leaking.join(', ')})` : p.verdict,
          ]),
        ),
      );
    });
}
