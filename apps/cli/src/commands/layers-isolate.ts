import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { createFileCaptureStore } from '@prodprobe/capture';
import { fromStorable, toStorable } from '@prodprobe/sanitize';
import type { Command } from 'commander';
import { readJsonFile } from '../files.js';
import { describeIsolation, isolateInput } from '../isolation.js';
import { CliError, colorEnabled, ExitCode, type Io, painter, printJson } from '../output.js';
import { setExitCode } from '../program.js';
import { loadServiceModule } from '../service-module.js';

interface IsolateFlags {
  pipeline: string;
  input?: string;
  capture?: string;
  id?: string;
  modelVersion?: string;
}

/** The input to isolate and the model version: from a JSON file, or a captured record's sanitized input. */
async function inputOf(io: Io, flags: IsolateFlags, defaultVersion: string | undefined) {
  if ((flags.input === undefined) === (flags.capture === undefined))
    throw new CliError('give either --input <file.json> or --capture <dir> --id <id>');
  if (flags.input !== undefined) {
    const version = flags.modelVersion ?? defaultVersion;
    if (version === undefined)
      throw new CliError('--model-version is needed: the service declares no defaultVersion');
    // The lossless encoding (NaN as {"$pp":"NaN"}) or plain JSON.
    return {
      input: fromStorable(await readJsonFile(io, flags.input, '--input')),
      version,
      from: flags.input,
    };
  }
  if (flags.id === undefined) throw new CliError('--capture needs --id <record id>');
  const dir = resolve(io.cwd, flags.capture!);
  if (!existsSync(dir)) throw new CliError(`--capture ${flags.capture}: no such directory`);
  const record = await createFileCaptureStore(dir).get(flags.id);
  if (!record) throw new CliError(`no capture record with id ${flags.id} in ${flags.capture}`);
  return {
    input: record.input,
    version: flags.modelVersion ?? record.modelVersion,
    from: `capture ${record.id} (sanitized input)`,
  };
}

/** `prodprobe layers isolate`: one input through the service's stages, with checks between them. */
export function registerIsolate(layers: Command, io: Io): void {
  layers
    .command('isolate')
    .description(
      "run one input through your service's stages one by one: which stage throws, where NaN/Inf first appear, which ONNX node; exit 1 when a stage fails or produces NaN/Inf",
    )
    .requiredOption(
      '--pipeline <module>',
      'your service: a .ts or .js module whose default export is defineService(...)',
    )
    .option('--input <file.json>', 'the input, as JSON (NaN as {"$pp":"NaN"}, as captures store it)')
    .option('--capture <dir>', 'take the input from a capture record in this folder (with --id)')
    .option('--id <id>', 'the capture record (see `prodprobe capture list`)')
    .option(
      '--model-version <version>',
      "the model version to load (default: the record's, or the service's defaultVersion)",
    )
    .action(async (flags: IsolateFlags, command: Command) => {
      const { service, description } = await loadServiceModule(flags.pipeline, io.cwd);
      const { input, version, from } = await inputOf(io, flags, service.defaultVersion);
      let pipeline: Awaited<ReturnType<typeof service.pipeline>>;
      try {
        pipeline = await service.pipeline(version);
      } catch (cause) {
        throw new CliError(
          `${service.name}: cannot load model version ${version}: ${(cause as Error).message}`,
          ExitCode.usage,
          {
            cause,
          },
        );
      }
      const { finding, report } = await isolateInput(pipeline, input);
      const last = report.stages.at(-1);
      // The service's own judgement of the final output (a null probability, say), when it has one.
      const judged = last?.status === 'passed' ? (service.isFailure?.(last.output) ?? false) : false;
      const nonFinite = report.stages.some(
        (s) => s.health !== null && s.health.nan + s.health.posInf + s.health.negInf > 0,
      );
      const bad = report.status === 'failed' || nonFinite || judged !== false;
      if (bad) setExitCode(command, ExitCode.finding);
      if (command.optsWithGlobals().json === true) {
        printJson(
          io,
          toStorable({
            service: service.name,
            modelVersion: version,
            input: from,
            failure: judged || null,
            finding,
            report,
          }),
        );
        return;
      }
      const paint = painter(colorEnabled(io.stdout, io.env));
      const lines = [`${paint('bold', 'isolate')} ${description}, model ${version}, input: ${from}`, ''];
      for (const s of report.stages) {
        const status =
          s.status === 'failed'
            ? paint('red', 'failed')
            : s.status === 'not-run'
              ? paint('dim', 'not run')
              : 'passed';
        const h = s.health;
        const nonFinite = h ? h.nan + h.posInf + h.negInf : 0;
        const marks = [
          s.nonFiniteOrigin
            ? paint('red', `first NaN/Inf (${nonFinite})`)
            : nonFinite
              ? `${nonFinite} NaN/Inf`
              : '',
          s.error ? paint('red', `${s.error.name}: ${s.error.message}`) : '',
          ...(s.sources ?? []).map(
            (r) =>
              `read ${r.name}${r.version ? ` ${r.version}` : ''}${r.hit === undefined ? '' : r.hit ? ' (hit)' : ' (miss)'}`,
          ),
        ].filter(Boolean);
        lines.push(
          `  ${s.stage.padEnd(18)} ${s.kind.padEnd(15)} ${status.padEnd(8)} ${`${s.durationMs.toFixed(2)} ms`.padStart(10)}  ${marks.join('; ')}`,
        );
      }
      lines.push('', `${bad ? paint('red', 'fault') : paint('green', 'ok')}: ${describeIsolation(finding)}`);
      if (judged) lines.push(paint('red', `the service's failure check: ${judged}`));
      if (finding.onnx.inspected)
        lines.push(
          `ONNX (${finding.onnx.stage}): ${finding.onnx.firstNonFinite ? `first non-finite node ${finding.onnx.firstNonFinite.node} (${finding.onnx.firstNonFinite.opType}), output ${finding.onnx.firstNonFinite.output}` : 'every node finite'}`,
        );
      else if (finding.onnx.stage) lines.push(`ONNX: ${finding.onnx.reason}`);
      for (const i of finding.issues) lines.push(paint('dim', `  ${i}`));
      io.stdout.write(`${lines.join('\n')}\n`);
    });
}
