import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import {
  CaptureError,
  type CaptureFilter,
  type CaptureRecord,
  createFileCaptureStore,
  describeFailure,
  exportRegressionTest,
  failureName,
  type IsFailure,
  type LoadModel,
  type ReplayResult,
  replay,
  replayMany,
} from '@prodprobe/capture';
import { toStorable } from '@prodprobe/sanitize';
import type { Command } from 'commander';
import { CliError, colorEnabled, ExitCode, type Io, painter, printJson } from '../output.js';
import { type RegisterCommand, setExitCode } from '../program.js';
import { importModule, loadServiceModule, resolveModule } from '../service-module.js';

interface FilterFlags {
  error?: string;
  modelVersion?: string;
  since?: string;
  until?: string;
}

function toFilter(flags: FilterFlags): CaptureFilter {
  const filter: CaptureFilter = {};
  if (flags.error !== undefined) filter.errorName = flags.error;
  if (flags.modelVersion !== undefined) filter.modelVersion = flags.modelVersion;
  for (const field of ['since', 'until'] as const) {
    const value = flags[field];
    if (value === undefined) continue;
    if (Number.isNaN(Date.parse(value))) {
      throw new CliError(
        `--${field} ${JSON.stringify(value)}: expected an ISO 8601 time such as 2024-06-01T12:00:00Z`,
      );
    }
    filter[field] = value;
  }
  return filter;
}

/** Package errors a user can fix (missing dir, wrong key, bad module) become CLI usage errors. */
async function userErrors<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof CaptureError && error.code !== 'STORE_IO') {
      throw new CliError(error.message, ExitCode.usage, { cause: error });
    }
    throw error;
  }
}

function storeFor(io: Io, dir: string) {
  const abs = resolve(io.cwd, dir);
  if (!existsSync(abs)) throw new CliError(`capture directory ${dir} does not exist`);
  return createFileCaptureStore(abs);
}

async function scanWithSkipped(io: Io, dir: string, filter: CaptureFilter) {
  const store = storeFor(io, dir);
  const result = await userErrors(() => store.scan(filter));
  // The name as JSON when it holds control characters: a file name cannot write to the terminal.
  const shown = (name: string) => (/[\u0000-\u001f\u007f-\u009f]/.test(name) ? JSON.stringify(name) : name);
  for (const s of result.skipped) io.stderr.write(`warning: skipped ${shown(s.file)}: ${s.reason}\n`);
  return result;
}

async function scan(io: Io, dir: string, filter: CaptureFilter): Promise<CaptureRecord[]> {
  return (await scanWithSkipped(io, dir, filter)).records;
}

async function getRecord(io: Io, dir: string, id: string): Promise<CaptureRecord> {
  const record = await userErrors(() => storeFor(io, dir).get(id));
  if (record === undefined) throw new CliError(`no capture record with id ${id} in ${dir}`);
  return record;
}

function summary(r: CaptureRecord) {
  return {
    id: r.id,
    timestamp: r.timestamp,
    requestId: r.requestId,
    modelVersion: r.modelVersion,
    failure: failureName(r),
    message: r.failure.kind === 'error' ? r.failure.error.message : r.failure.reason,
    inputHash: r.inputHash,
    sealed: r.sealedInput !== undefined,
  };
}

function parseKey(text: Buffer, file: string): Uint8Array {
  if (text.byteLength === 32) return new Uint8Array(text);
  const s = text.toString('utf8').trim();
  if (/^[0-9a-fA-F]{64}$/.test(s)) return new Uint8Array(Buffer.from(s, 'hex'));
  if (/^[A-Za-z0-9+/]{43}=?$/.test(s)) {
    const b = Buffer.from(s, 'base64');
    if (b.byteLength === 32) return new Uint8Array(b);
  }
  throw new CliError(`--key-file ${file}: expected 32 raw bytes, 64 hex characters or base64 of 32 bytes`);
}

async function readKey(io: Io, file: string | undefined): Promise<Uint8Array | undefined> {
  if (file === undefined) return undefined;
  let bytes: Buffer;
  try {
    bytes = await readFile(resolve(io.cwd, file));
  } catch (error) {
    throw new CliError(`--key-file ${file}: cannot read it (${(error as Error).message})`, ExitCode.usage, {
      cause: error,
    });
  }
  return parseKey(bytes, file);
}

async function loadModelModule(
  io: Io,
  flags: { model?: string; pipeline?: string },
): Promise<{ loadModel: LoadModel; isFailure?: IsFailure }> {
  if ((flags.model === undefined) === (flags.pipeline === undefined)) {
    throw new CliError(
      'give either --pipeline (a module exporting defineService(...)) or --model (a module exporting loadModel)',
    );
  }
  if (flags.pipeline !== undefined) {
    const { service } = await loadServiceModule(flags.pipeline, io.cwd);
    return {
      loadModel: (version) => service.loadModel(version),
      ...(service.isFailure ? { isFailure: service.isFailure } : {}),
    };
  }
  const spec = flags.model!;
  const mod = await importModule(resolveModule(spec, io.cwd, '--model'), '--model');
  if (typeof mod.loadModel !== 'function') {
    throw new CliError(`--model ${spec}: expected the module to export a function loadModel(modelVersion)`);
  }
  const out: { loadModel: LoadModel; isFailure?: IsFailure } = { loadModel: mod.loadModel as LoadModel };
  if (typeof mod.isFailure === 'function') out.isFailure = mod.isFailure as IsFailure;
  return out;
}

function positiveInt(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new CliError(`${flag} ${value}: expected a positive integer`);
  return n;
}

function isJson(command: Command): boolean {
  return command.optsWithGlobals().json === true;
}

/** `prodprobe capture list|show|replay|export-test` over a capture directory. */
export const registerCapture: RegisterCommand = (program, io) => {
  const paint = painter(colorEnabled(io.stdout, io.env));
  const capture = program
    .command('capture')
    .description('inspect, replay and export captured failing inputs (a @prodprobe/capture directory)');

  capture
    .command('list')
    .description('list captured failures, oldest first')
    .argument('<dir>', 'capture directory')
    .option('--error <name>', 'only this error name (bad outputs are "BadOutput")')
    .option('--model-version <version>', 'only this model version')
    .option('--since <iso>', 'only failures at or after this time')
    .option('--until <iso>', 'only failures before this time')
    .action(async (dir: string, flags: FilterFlags, command: Command) => {
      const { records, skipped } = await scanWithSkipped(io, dir, toFilter(flags));
      if (isJson(command)) {
        printJson(io, { dir, count: records.length, records: records.map(summary), skipped });
        return;
      }
      if (records.length === 0) {
        io.stdout.write('no captured failures match\n');
        return;
      }
      for (const r of records) {
        const s = summary(r);
        io.stdout.write(
          `${s.timestamp}  ${paint('cyan', s.id)}  ${s.modelVersion}  ${paint('red', s.failure)}: ${s.message}${s.sealed ? paint('dim', '  [sealed]') : ''}\n`,
        );
      }
      io.stdout.write(`${records.length} captured failure(s)\n`);
    });

  capture
    .command('show')
    .description('print one captured failure in full (sanitized input, error, environment)')
    .argument('<dir>', 'capture directory')
    .argument('<id>', 'record id (see `capture list`)')
    .action(async (dir: string, id: string, _flags: unknown, command: Command) => {
      const record = await getRecord(io, dir, id);
      // toStorable keeps NaN, undefined, BigInt, Date visible as tagged values instead of losing them.
      const { sealedInput, ...rest } = record;
      if (isJson(command)) {
        printJson(io, toStorable({ ...rest, sealed: sealedInput !== undefined }));
        return;
      }
      const f = record.failure;
      const lines = [
        `${paint('bold', 'id')}            ${record.id}`,
        `${paint('bold', 'timestamp')}     ${record.timestamp}`,
        `${paint('bold', 'request')}       ${record.requestId}`,
        `${paint('bold', 'model')}         ${record.modelVersion}`,
        `${paint('bold', 'failure')}       ${paint('red', describeFailure(record))}`,
        `${paint('bold', 'input hash')}    ${record.inputHash}`,
        `${paint('bold', 'sealed input')}  ${sealedInput ? `yes (key id ${sealedInput.keyId})` : 'no'}`,
        `${paint('bold', 'input')}         ${JSON.stringify(toStorable(record.input), null, 2).replace(/\n/g, '\n              ')}`,
      ];
      if (f.kind === 'bad-output')
        lines.push(`${paint('bold', 'output')}        ${JSON.stringify(toStorable(f.output))}`);
      lines.push(`${paint('bold', 'environment')}   ${JSON.stringify(toStorable(record.environment))}`);
      if (f.kind === 'error' && f.error.stack)
        lines.push(`${paint('bold', 'stack')}\n${paint('dim', f.error.stack)}`);
      io.stdout.write(`${lines.join('\n')}\n`);
    });

  capture
    .command('replay')
    .description(
      'replay captured failures on the model version they name; exit 1 when a failure still reproduces or concurrency changes an output',
    )
    .argument('<dir>', 'capture directory')
    .argument('[id]', 'record id (or --all)')
    .option(
      '--all',
      'replay every record: one at a time, then concurrently, to expose races and shared state',
    )
    .option(
      '--pipeline <module>',
      'your service: a .ts or .js module whose default export is defineService(...) of @prodprobe/layers (as diagnose --pipeline)',
    )
    .option(
      '--model <module>',
      'instead of --pipeline: a .ts or .js module exporting loadModel(modelVersion) (and optionally isFailure)',
    )
    .option('--key-file <file>', 'the 32-byte key the raw inputs were sealed with (raw, hex or base64)')
    .option('--use-version <version>', 'replay on this model version instead of the recorded one')
    .option('--concurrency <n>', 'replays in flight with --all', '4')
    .option('--timeout <ms>', 'a predict call still running after this long counts as a hang', '30000')
    .action(
      async (
        dir: string,
        id: string | undefined,
        flags: {
          all?: boolean;
          model?: string;
          pipeline?: string;
          keyFile?: string;
          useVersion?: string;
          concurrency: string;
          timeout: string;
        },
        command: Command,
      ) => {
        if ((id === undefined) === (flags.all !== true)) {
          throw new CliError('capture replay: give either a record id or --all');
        }
        const concurrency = positiveInt(flags.concurrency, '--concurrency');
        const timeoutMs = positiveInt(flags.timeout, '--timeout');
        const key = await readKey(io, flags.keyFile);
        const model = await loadModelModule(io, flags);
        const options = {
          loadModel: model.loadModel,
          timeoutMs,
          ...(model.isFailure ? { isFailure: model.isFailure } : {}),
          ...(key ? { key } : {}),
          ...(flags.useVersion ? { modelVersion: flags.useVersion } : {}),
        };
        const json = isJson(command);
        const printResult = (r: ReplayResult) => {
          const status = r.reproduced ? paint('red', 'REPRODUCED') : paint('green', 'not reproduced');
          const how = r.error ? `${r.error.name}: ${r.error.message}` : (r.failureReason ?? 'output ok');
          io.stdout.write(
            `${paint('cyan', r.recordId)}  ${status}  model ${r.modelVersion}  input: ${r.inputUsed}  verdict: ${paint('bold', r.verdict)}\n` +
              `  ${how}\n  ${r.explanation}\n${r.note ? `  ${paint('yellow', `note: ${r.note}`)}\n` : ''}`,
          );
        };
        if (id !== undefined) {
          const record = await getRecord(io, dir, id);
          const result = await userErrors(() => replay(record, options));
          if (json) printJson(io, toStorable(result));
          else printResult(result);
          if (result.reproduced) setExitCode(command, ExitCode.finding);
          return;
        }
        const records = await scan(io, dir, {});
        if (records.length === 0) throw new CliError(`no capture records in ${dir}`);
        io.stderr.write(
          `replaying ${records.length} record(s) sequentially, then ${concurrency} at a time...\n`,
        );
        const result = await userErrors(() => replayMany(records, { ...options, concurrency }));
        const reproduced = result.results.filter((r) => r.reproduced).length;
        if (json) {
          printJson(io, toStorable({ ...result, reproduced, total: records.length }));
        } else {
          for (const r of result.results) printResult(r);
          io.stdout.write(`${reproduced} of ${records.length} reproduced\n`);
          if (result.unstable.length > 0) {
            io.stdout.write(
              paint(
                'yellow',
                `${result.unstable.length} record(s) gave different outputs on two sequential runs (nondeterministic): ${result.unstable.join(', ')}\n`,
              ),
            );
          }
          if (result.raceSuspected) {
            io.stdout.write(
              paint(
                'red',
                `outputs changed under concurrency for ${result.differences.length} record(s): a race or shared state between calls\n`,
              ),
            );
            for (const d of result.differences) {
              io.stdout.write(
                `  ${d.recordId}: alone ${JSON.stringify(toStorable(d.sequential.error ?? d.sequential.result))}, concurrent ${JSON.stringify(toStorable(d.concurrent.error ?? d.concurrent.result))}\n`,
              );
            }
          } else {
            io.stdout.write('no output changed under concurrency\n');
          }
        }
        if (reproduced > 0 || result.raceSuspected) setExitCode(command, ExitCode.finding);
      },
    );

  capture
    .command('export-test')
    .description('write a vitest file that replays captured inputs and asserts they no longer fail')
    .argument('<dir>', 'capture directory')
    .requiredOption('--out <file>', 'test file to write, e.g. test/captured.test.ts')
    .option(
      '--pipeline <module>',
      'your service module (default export defineService(...)), imported by the test',
    )
    .option(
      '--model <module>',
      'instead of --pipeline: a module exporting loadModel(modelVersion), imported by the test (path or package name)',
    )
    .option('--use-version <version>', 'replay on this model version instead of the recorded ones')
    .option('--id <ids...>', 'only these records (ids as `capture list` shows them), instead of the filters')
    .option('--error <name>', 'only this error name (bad outputs are "BadOutput")')
    .option('--model-version <version>', 'only records of this model version')
    .option('--since <iso>', 'only failures at or after this time')
    .option('--until <iso>', 'only failures before this time')
    .action(
      async (
        dir: string,
        flags: FilterFlags & {
          out: string;
          model?: string;
          pipeline?: string;
          useVersion?: string;
          id?: string[];
        },
        command: Command,
      ) => {
        if ((flags.model === undefined) === (flags.pipeline === undefined))
          throw new CliError('give either --pipeline (your service module) or --model (a loadModel module)');
        // The test imports the module: check now that it is one, rather than in the test's first run.
        if (flags.pipeline !== undefined) await loadServiceModule(flags.pipeline, io.cwd);
        else if (flags.model!.endsWith('.onnx'))
          throw new CliError(
            `--model ${flags.model}: the generated test imports its model, so give a module exporting loadModel(modelVersion), not an .onnx file`,
          );
        const filter = toFilter(flags);
        let records: CaptureRecord[];
        if (flags.id) {
          if (Object.keys(filter).length > 0)
            throw new CliError(
              '--id picks the records itself: drop --error, --model-version, --since and --until',
            );
          records = [];
          for (const id of new Set(flags.id)) records.push(await getRecord(io, dir, id));
        } else {
          records = await scan(io, dir, filter);
          if (records.length === 0) throw new CliError(`no capture records in ${dir} match the filters`);
        }
        const out = resolve(io.cwd, flags.out);
        const modelImport = importSpecifier(io, (flags.pipeline ?? flags.model)!, out);
        const written = await userErrors(() =>
          exportRegressionTest(records, {
            out,
            modelImport,
            ...(flags.useVersion ? { modelVersion: flags.useVersion } : {}),
          }),
        );
        if (isJson(command)) printJson(io, { ...written, modelImport });
        else
          io.stdout.write(
            `wrote ${written.tests} regression test(s) to ${flags.out} (imports ${modelImport})\n`,
          );
      },
    );
};

/** A path to a module becomes an import relative to the test file; a package name stays as it is. */
function importSpecifier(io: Io, model: string, outFile: string): string {
  const looksLikePath = model.startsWith('.') || isAbsolute(model) || existsSync(resolve(io.cwd, model));
  if (!looksLikePath) return model;
  let rel = relative(dirname(outFile), resolve(io.cwd, model)).split(sep).join('/');
  if (!rel.startsWith('.')) rel = `./${rel}`;
  return rel;
}
