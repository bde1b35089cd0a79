import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { diagnose } from '../diagnose/diagnose.js';
import { renderDiagnoseHtml } from '../diagnose/render-html.js';
import { renderDiagnoseText } from '../diagnose/render-text.js';
import { CliError, colorEnabled, ExitCode, painter, printJson } from '../output.js';
import { type RegisterCommand, setExitCode } from '../program.js';
import { loadServiceModule } from '../service-module.js';

interface DiagnoseFlags {
  captures?: string;
  logs?: string;
  reference?: string;
  envA?: string;
  envB?: string;
  pipeline?: string;
  html?: string;
  maxReplays: string;
  concurrency: string;
}

/** `prodprobe diagnose`: the whole method over what production left behind. */
export const registerDiagnose: RegisterCommand = (program, io) => {
  program
    .command('diagnose')
    .description(
      'triage production failures: what failed, does it reproduce, which layer, which environment differences, which fields drifted; ranked root causes',
    )
    .option('--captures <dir>', 'capture directory (prodprobe capture)')
    .option('--logs <dir>', 'prediction log directory (prodprobe logs)')
    .option('--reference <profile.json>', 'training profile (prodprobe drift profile)')
    .option('--env-a <snap.json>', 'environment snapshot of the side that works (e.g. staging)')
    .option('--env-b <snap.json>', 'environment snapshot of the side that fails (e.g. production)')
    .option(
      '--pipeline <module>',
      'your service: a .ts or .js module whose default export is defineService(...) of @prodprobe/layers; replays, isolates and race-checks the captures on it',
    )
    .option('--html <file>', 'also write a self-contained HTML report')
    .option('--max-replays <n>', 'most failure groups to replay', '12')
    .option('--concurrency <n>', 'replays in flight in the race check', '8')
    .addHelpText(
      'after',
      '\nAny subset of inputs works; the report lists what it could not check.\nExit code 1 when a probable root cause is found.',
    )
    .action(async (flags: DiagnoseFlags, command) => {
      const json = command.optsWithGlobals().json === true;
      const maxReplays = Number(flags.maxReplays);
      if (!Number.isInteger(maxReplays) || maxReplays < 0)
        throw new CliError(`--max-replays must be a whole number, got "${flags.maxReplays}"`);
      const concurrency = Number(flags.concurrency);
      if (!Number.isInteger(concurrency) || concurrency < 2)
        throw new CliError(`--concurrency must be a whole number of at least 2, got "${flags.concurrency}"`);
      if (
        [flags.captures, flags.logs, flags.reference, flags.envA, flags.envB].every((f) => f === undefined)
      ) {
        throw new CliError(
          'nothing to diagnose: give at least one of --captures, --logs, --reference, --env-a/--env-b',
        );
      }
      const abs = (p?: string) => (p ? resolve(io.cwd, p) : undefined);
      const service = flags.pipeline ? await loadServiceModule(flags.pipeline, io.cwd) : undefined;
      const paint = painter(colorEnabled(io.stdout, io.env));
      const report = await diagnose({
        captures: abs(flags.captures),
        logs: abs(flags.logs),
        reference: abs(flags.reference),
        envA: abs(flags.envA),
        envB: abs(flags.envB),
        service,
        maxReplays,
        concurrency,
        onProgress: (m) => {
          if (io.stderr.isTTY) io.stderr.write(`\r\u001b[2K${m}…`);
        },
      });
      if (io.stderr.isTTY) io.stderr.write('\r\u001b[2K');
      if (flags.html) writeFileSync(resolve(io.cwd, flags.html), renderDiagnoseHtml(report));
      if (json) printJson(io, report);
      else {
        io.stdout.write(renderDiagnoseText(report, paint));
        if (flags.html) io.stdout.write(`\nHTML report: ${resolve(io.cwd, flags.html)}\n`);
      }
      if (report.rootCauses.length > 0) setExitCode(command, ExitCode.finding);
    });
};
