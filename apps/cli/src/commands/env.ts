import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import {
  DEFAULT_ENV_ALLOW,
  diff,
  EnvSnapshotError,
  formatDiffMarkdown,
  formatDiffText,
  formatSnapshotText,
  hasDifferencesAtLeast,
  parseSnapshotJson,
  type Severity,
  snapshot,
} from '@prodprobe/env-snapshot';
import { type Command, Option } from 'commander';
import { readJsonFile, readText } from '../files.js';
import { CliError, colorEnabled, ExitCode, type Io, painter, printJson } from '../output.js';
import { type RegisterCommand, setExitCode } from '../program.js';

interface SnapshotFlags {
  model?: string[];
  modelConfig?: string;
  config?: string;
  envAllow?: string[];
  hashKeyEnv?: string;
  entry?: string;
  label?: string;
  hash: boolean;
  timeout?: string;
  out?: string;
}

interface DiffFlags {
  markdown?: boolean;
  failOn: Severity | 'none';
  includeVolatile?: boolean;
}

function positiveInt(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0)
    throw new CliError(`${flag} ${value}: expected a whole number of milliseconds > 0`);
  return n;
}

async function loadSnapshot(io: Io, file: string) {
  const text = await readText(io, file, 'snapshot');
  try {
    return parseSnapshotJson(text, file);
  } catch (error) {
    if (error instanceof EnvSnapshotError)
      throw new CliError(error.message, ExitCode.usage, { cause: error });
    throw error;
  }
}

/** `prodprobe env snapshot` and `prodprobe env diff`. */
export const registerEnv: RegisterCommand = (program, io) => {
  const env = program
    .command('env')
    .description('snapshot this environment, and diff two snapshots with severity (staging vs production)');

  env
    .command('snapshot')
    .description(
      'record runtime, OS, resources and limits, resolved packages, native addons, model hashes, config',
    )
    .option('--model <file...>', 'model file to record with size and sha256 (repeatable)')
    .option('--model-config <file>', 'JSON file with the model configuration to record')
    .option('--config <file>', 'JSON config file to record (values under secret-looking keys are hashed)')
    .option(
      '--env-allow <name...>',
      `extra environment variables to record (NAME or PREFIX_*; defaults: ${DEFAULT_ENV_ALLOW.join(', ')})`,
    )
    .option('--hash-key-env <var>', 'environment variable holding the key for HMACs of secret values')
    .option(
      '--entry <dir>',
      'app directory to resolve packages and native addons from (default: current directory)',
    )
    .option('--label <name>', 'name of this environment, e.g. staging')
    .option('--no-hash', 'record model file sizes only, without sha256')
    .option('--timeout <ms>', 'timeout of each probe in milliseconds (default 2000)')
    .option('--out <file>', 'write the snapshot JSON to this file')
    .action(async (flags: SnapshotFlags, command: Command) => {
      const json = command.optsWithGlobals().json === true;
      let hashKey: string | undefined;
      if (flags.hashKeyEnv !== undefined) {
        hashKey = io.env[flags.hashKeyEnv];
        if (!hashKey)
          throw new CliError(`--hash-key-env ${flags.hashKeyEnv}: that environment variable is not set`);
      }
      const config =
        flags.config === undefined ? undefined : await readJsonFile(io, flags.config, '--config');
      const modelConfig =
        flags.modelConfig === undefined
          ? undefined
          : await readJsonFile(io, flags.modelConfig, '--model-config');
      const result = await snapshot({
        label: flags.label,
        env: io.env,
        envAllow: [...DEFAULT_ENV_ALLOW, ...(flags.envAllow ?? [])],
        hashKey,
        entryDir: resolve(io.cwd, flags.entry ?? '.'),
        models: (flags.model ?? []).map((m) => resolve(io.cwd, m)),
        hashModels: flags.hash,
        modelConfig,
        config,
        timeoutMs: positiveInt('--timeout', flags.timeout),
      });
      if (flags.out !== undefined) {
        const out = resolve(io.cwd, flags.out);
        try {
          await writeFile(out, `${JSON.stringify(result, null, 2)}\n`);
        } catch (error) {
          throw new CliError(
            `--out ${flags.out}: cannot write (${(error as { code?: string }).code ?? error})`,
          );
        }
      }
      for (const [name, probe] of Object.entries(result.probes))
        if (probe.status === 'failed' || probe.status === 'timeout')
          io.stderr.write(`warning: probe ${name} ${probe.status}: ${probe.error ?? ''}\n`);
      if (json) printJson(io, result);
      else {
        io.stdout.write(formatSnapshotText(result));
        if (flags.out !== undefined) io.stdout.write(`wrote ${flags.out}\n`);
      }
    });

  env
    .command('diff')
    .description('compare two snapshots: a is the reference (where it works), b the one to check')
    .argument('<a>', 'reference snapshot JSON (e.g. staging.json)')
    .argument('<b>', 'snapshot JSON to compare (e.g. production.json)')
    .option('--markdown', 'print a Markdown table')
    .addOption(
      new Option('--fail-on <severity>', 'exit 1 when a difference at least this severe is found')
        .choices(['critical', 'warning', 'info', 'none'])
        .default('critical'),
    )
    .option('--include-volatile', 'also report volatile values (uptime, free memory, probe timings)')
    .action(async (a: string, b: string, flags: DiffFlags, command: Command) => {
      const json = command.optsWithGlobals().json === true;
      if (json && flags.markdown) throw new CliError('choose one of --json and --markdown');
      const [sa, sb] = [await loadSnapshot(io, a), await loadSnapshot(io, b)];
      const result = diff(sa, sb, { includeVolatile: flags.includeVolatile === true });
      if (json) printJson(io, result);
      else if (flags.markdown) io.stdout.write(formatDiffMarkdown(result));
      else {
        const paint = painter(colorEnabled(io.stdout, io.env));
        const colour = { critical: 'red', warning: 'yellow', info: 'dim' } as const;
        io.stdout.write(formatDiffText(result, { style: (severity, text) => paint(colour[severity], text) }));
      }
      if (flags.failOn !== 'none' && hasDifferencesAtLeast(result, flags.failOn))
        setExitCode(command, ExitCode.finding);
    });
};
