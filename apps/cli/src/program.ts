import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { registerCapture } from './commands/capture.js';
import { registerDemo } from './commands/demo.js';
import { registerDiagnose } from './commands/diagnose.js';
import { registerDrift } from './commands/drift.js';
import { registerEnv } from './commands/env.js';
import { registerLayers } from './commands/layers.js';
import { registerLogs } from './commands/logs.js';
import { registerSanitize } from './commands/sanitize.js';
import { registerServe } from './commands/serve.js';
import { CliError, colorEnabled, ExitCode, type Io, painter, processIo } from './output.js';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

/** Signature of a subcommand module: it adds its commands to the program. */
export type RegisterCommand = (program: Command, io: Io) => void;

// One entry per subcommand module (src/commands/<name>.ts), one per line, kept alphabetical.
const commands: RegisterCommand[] = [
  registerCapture,
  registerDemo,
  registerDiagnose,
  registerDrift,
  registerEnv,
  registerLayers,
  registerLogs,
  registerSanitize,
  registerServe,
];

/** Builds the `prodprobe` program, writing to `io` instead of the process streams when given. */
export function createProgram(io: Io = processIo()): Command {
  const program = new Command('prodprobe')
    .description('Find out why a model that works in staging fails in production.')
    .version(pkg.version, '-v, --version', 'print the prodprobe version')
    .option('--json', 'print machine-readable JSON on stdout instead of text')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      outputError: (s, write) => write(painter(colorEnabled(io.stderr, io.env))('red', s)),
    })
    .exitOverride();
  for (const register of commands) register(program, io);
  // Subcommands inherit output handling and exit behaviour.
  const inherit = (cmd: Command) => {
    for (const sub of cmd.commands) {
      sub.copyInheritedSettings(cmd);
      inherit(sub);
    }
  };
  inherit(program);
  return program;
}

/**
 * Runs the CLI and returns the exit code instead of exiting, so tests call it in-process.
 * Usage errors exit 2, findings exit 1 (commands signal them by returning ExitCode.finding).
 */
export async function run(argv: string[], io: Io = processIo()): Promise<number> {
  const program = createProgram(io);
  let code: number = ExitCode.ok;
  program.hook('postAction', (_this, action) => {
    const result = (action as Command & { _prodprobeExit?: number })._prodprobeExit;
    if (typeof result === 'number') code = result;
  });
  try {
    // Commander answers `prodprobe nonsense --help` with the root help and exit 0, as if the
    // command existed: name the unknown command instead, as it does without --help.
    const args = argv.slice(2);
    const first = args.find((a) => !a.startsWith('-'));
    if (
      first !== undefined &&
      first !== 'help' &&
      args.some((a) => a === '-h' || a === '--help') &&
      !program.commands.some((c) => c.name() === first || c.aliases().includes(first))
    )
      program.error(`error: unknown command '${first}'`);
    await program.parseAsync(argv);
    return code;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version exit 0; every parse problem is a usage error.
      return error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    }
    const paint = painter(colorEnabled(io.stderr, io.env));
    if (error instanceof CliError) {
      io.stderr.write(`${paint('red', 'error:')} ${error.message}\n`);
      return error.exitCode;
    }
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
    io.stderr.write(`${paint('red', 'internal error:')} ${message}\n`);
    return ExitCode.usage;
  }
}

/** Records a command's exit code (e.g. ExitCode.finding when drift was found). */
export function setExitCode(command: Command, code: number): void {
  (command as Command & { _prodprobeExit?: number })._prodprobeExit = code;
}
