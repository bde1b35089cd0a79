import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import {
  createSanitizer,
  decode,
  encode,
  SanitizeError,
  type SanitizePolicyInput,
  type Sanitizer,
  toStorable,
} from '@prodprobe/sanitize';
import { Option } from 'commander';
import { readJsonFile } from '../files.js';
import { CliError, type Io, printJson } from '../output.js';
import type { RegisterCommand } from '../program.js';

interface SanitizeFlags {
  policy?: string;
  hashKeyEnv?: string;
  format?: 'json' | 'jsonl';
  out?: string;
}

type Format = 'json' | 'jsonl';

/** The input's format: the flag, else the extension; stdin is JSONL unless told otherwise. */
function formatOf(file: string, flag: Format | undefined): Format {
  if (flag) return flag;
  if (file === '-') return 'jsonl';
  const ext = extname(file).toLowerCase();
  if (ext === '.json') return 'json';
  if (ext === '.jsonl' || ext === '.ndjson') return 'jsonl';
  throw new CliError(
    `${file}: cannot tell the format from "${ext || '(no extension)'}": use .json, .jsonl or .ndjson, or --format json|jsonl`,
  );
}

/** The sanitizer of a policy file (or the default policy), with the HMAC key from the environment. */
async function loadSanitizer(io: Io, flags: SanitizeFlags): Promise<Sanitizer> {
  let policy: Record<string, unknown> = {};
  if (flags.policy !== undefined) {
    const read = await readJsonFile(io, flags.policy, '--policy');
    if (read === null || typeof read !== 'object' || Array.isArray(read))
      throw new CliError(`--policy ${flags.policy}: expected a JSON object ({"rules": {...}})`);
    policy = read as Record<string, unknown>;
    if ('hashKey' in policy)
      throw new CliError(
        `--policy ${flags.policy}: hashKey must not be stored in a policy file; put the key in an environment variable and name it with --hash-key-env`,
      );
  }
  if (flags.hashKeyEnv !== undefined) {
    const key = io.env[flags.hashKeyEnv];
    if (key === undefined || key === '')
      throw new CliError(`--hash-key-env ${flags.hashKeyEnv}: the environment variable is not set`);
    policy = { ...policy, hashKey: key };
  }
  try {
    return createSanitizer(policy as SanitizePolicyInput);
  } catch (error) {
    if (!(error instanceof SanitizeError)) throw error;
    let hint = '';
    if (/hashKey/.test(error.message))
      hint =
        flags.hashKeyEnv === undefined
          ? ' (give it with --hash-key-env VAR)'
          : ` (the key is the value of ${flags.hashKeyEnv})`;
    const what = flags.policy === undefined ? 'policy' : `--policy ${flags.policy}`;
    throw new CliError(`${what}: ${error.message}${hint}`, undefined, { cause: error });
  }
}

/** Where sanitized text goes: stdout, or a temporary file renamed onto `--out` once complete. */
interface Sink {
  write(text: string): Promise<void>;
  /** Completes the output (renames the temporary file into place). */
  commit(): Promise<void>;
  /** Removes the temporary file after a failure: `--out` is left as it was. */
  abort(): Promise<void>;
}

function stdoutSink(io: Io): Sink {
  const out = io.stdout as Io['stdout'] & { once?: (event: 'drain', listener: () => void) => unknown };
  return {
    write: (text) =>
      new Promise((done) => {
        // Respect backpressure when stdout is a slow pipe, so a large file is not buffered in memory.
        if (out.write(text) === false && typeof out.once === 'function') out.once('drain', done);
        else done();
      }),
    commit: async () => {},
    abort: async () => {},
  };
}

async function fileSink(io: Io, file: string): Promise<Sink> {
  const target = resolve(io.cwd, file);
  const dir = dirname(target);
  const info = await stat(dir).catch(() => undefined);
  if (!info?.isDirectory()) throw new CliError(`--out ${file}: the folder ${dir} does not exist`);
  const temp = join(dir, `.${basename(target)}.${process.pid}.tmp`);
  const stream: WriteStream = createWriteStream(temp);
  let failure: Error | undefined;
  stream.on('error', (error) => {
    failure = error;
  });
  const fail = (error: Error) =>
    new CliError(
      `--out ${file}: cannot write (${(error as { code?: string }).code ?? error.message})`,
      undefined,
      {
        cause: error,
      },
    );
  return {
    write: (text) =>
      new Promise((done, reject) => {
        if (failure) return reject(fail(failure));
        if (stream.write(text)) return done();
        // Wait for the buffer to drain, or for the error that means it never will (a full disk).
        const onDrain = () => {
          stream.off('error', onError);
          done();
        };
        const onError = (error: Error) => {
          stream.off('drain', onDrain);
          reject(fail(error));
        };
        stream.once('drain', onDrain);
        stream.once('error', onError);
      }),
    commit: async () => {
      await new Promise<void>((done, reject) => {
        stream.end((error?: Error | null) => {
          const cause = error ?? failure;
          if (cause) reject(fail(cause));
          else done();
        });
      });
      await rename(temp, target).catch((error: Error) => {
        throw fail(error);
      });
    },
    abort: async () => {
      stream.destroy();
      await rm(temp, { force: true });
    },
  };
}

/** The markers the sanitizer and the codec leave where a value went past their limits. */
const TRUNCATED = /"\$pp":\s*"truncated"|<truncated/;

/** Records written, and how many of them hold truncation markers. */
interface Written {
  records: number;
  truncated: number;
}

/** Sanitizes one JSONL record per line (blank lines skipped), streaming. */
async function sanitizeLines(
  input: Readable,
  name: string,
  sanitizer: Sanitizer,
  sink: Sink,
): Promise<Written> {
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  const out: Written = { records: 0, truncated: 0 };
  let lineNo = 0;
  for await (const line of lines) {
    lineNo++;
    if (line.trim() === '') continue;
    let value: unknown;
    try {
      value = decode(line);
    } catch (error) {
      throw new CliError(`${name}:${lineNo}: not valid JSON (${(error as Error).message})`, undefined, {
        cause: error,
      });
    }
    const text = encode(sanitizer.sanitize(value));
    if (TRUNCATED.test(text)) out.truncated++;
    await sink.write(`${text}\n`);
    out.records++;
  }
  return out;
}

/**
 * Sanitizes one JSON document. An array is a list of records, each sanitized on its own: the
 * sanitizer's limits (100,000 items, 1,000,000 values per call) then apply per record, not to the
 * whole dataset.
 */
async function sanitizeDocument(value: unknown, sanitizer: Sanitizer, sink: Sink): Promise<Written> {
  const one = (v: unknown) => JSON.stringify(toStorable(sanitizer.sanitize(v)), null, 2);
  if (!Array.isArray(value)) {
    const text = one(value);
    await sink.write(`${text}\n`);
    return { records: 1, truncated: TRUNCATED.test(text) ? 1 : 0 };
  }
  const out: Written = { records: value.length, truncated: 0 };
  await sink.write('[');
  for (let i = 0; i < value.length; i++) {
    const text = one(value[i]);
    if (TRUNCATED.test(text)) out.truncated++;
    await sink.write(`${i === 0 ? '' : ','}\n  ${text.replace(/\n/g, '\n  ')}`);
  }
  await sink.write(value.length === 0 ? ']\n' : '\n]\n');
  return out;
}

async function readAll(input: Readable): Promise<string> {
  const parts: string[] = [];
  input.setEncoding('utf8');
  for await (const chunk of input) parts.push(chunk as string);
  return parts.join('');
}

/** `prodprobe sanitize`: the PII removal of captures and logs, for a file from anywhere else. */
export const registerSanitize: RegisterCommand = (program, io) => {
  program
    .command('sanitize')
    .description(
      'remove PII from a JSON or JSONL file (an input from a bug report, a dataset slice) the way captures and logs are sanitized: same keys, nesting and array lengths',
    )
    .argument(
      '<file>',
      '.json (one document; an array is a list of records) or .jsonl/.ndjson (one record per line); - reads stdin',
    )
    .option(
      '--policy <policy.json>',
      'rules by path, e.g. {"rules": {"country": "keep", "user.email": "hash"}} (default policy: strings become length placeholders, numbers keep 2 significant digits, NaN and Infinity stay)',
    )
    .option(
      '--hash-key-env <VAR>',
      'environment variable holding the HMAC key of hash rules (16 bytes or more)',
    )
    .addOption(
      new Option('--format <format>', 'input format (default: from the extension; stdin: jsonl)').choices([
        'json',
        'jsonl',
      ]),
    )
    .option(
      '--out <file>',
      'write here instead of stdout; the file appears only once every record is sanitized',
    )
    .addHelpText(
      'after',
      '\nThe output keeps NaN, Infinity and undefined in the lossless encoding of captures and logs:\ndecode() of @prodprobe/sanitize reads it back.',
    )
    .action(async (file: string, flags: SanitizeFlags, command) => {
      const json = command.optsWithGlobals().json === true;
      const format = formatOf(file, flags.format);
      const sanitizer = await loadSanitizer(io, flags);
      const name = file === '-' ? 'stdin' : file;
      let input: Readable;
      if (file === '-') input = Readable.from(io.stdin);
      else {
        const path = resolve(io.cwd, file);
        const info = await stat(path).catch(() => undefined);
        if (!info?.isFile()) throw new CliError(`${file}: no such file`);
        input = createReadStream(path);
      }
      const sink = flags.out === undefined ? stdoutSink(io) : await fileSink(io, flags.out);
      let written: Written;
      try {
        if (format === 'jsonl') written = await sanitizeLines(input, name, sanitizer, sink);
        else {
          let value: unknown;
          try {
            value = decode(await readAll(input));
          } catch (error) {
            throw new CliError(`${name}: not valid JSON (${(error as Error).message})`, undefined, {
              cause: error,
            });
          }
          written = await sanitizeDocument(value, sanitizer, sink);
        }
        await sink.commit();
      } catch (error) {
        await sink.abort();
        input.destroy();
        throw error;
      }
      const { records, truncated } = written;
      const policy = flags.policy ?? 'the default policy';
      if (truncated > 0)
        io.stderr.write(
          `warning: ${truncated} record(s) went past the sanitizer's limits (by default depth 100, 100,000 items per array, 10,000 keys per object, 1,000,000 values per record; a policy's "limits" sets them) and hold "truncated" markers where values were cut\n`,
        );
      if (json && flags.out !== undefined)
        printJson(io, { records, truncated, format, policy, out: flags.out });
      else
        io.stderr.write(
          `sanitized ${records} record${records === 1 ? '' : 's'} (${format}) with ${policy}${flags.out ? ` into ${flags.out}` : ''}\n`,
        );
    });
};
