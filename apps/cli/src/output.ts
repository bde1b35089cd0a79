/**
 * Terminal output conventions shared by every subcommand: colours only on a TTY and never
 * with NO_COLOR, `--json` prints one JSON document on stdout, progress goes to stderr.
 */

/** Exit codes: 0 ok, 1 a finding (drift found, a critical env difference, ...), 2 usage or input error. */
export const ExitCode = { ok: 0, finding: 1, usage: 2 } as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** An error the user can fix (bad flag, unreadable file, malformed JSON): printed without a stack, exit 2. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: ExitCode = ExitCode.usage,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

type Stream = { isTTY?: boolean; write(chunk: string): unknown };

/** Whether to colour output written to `stream`. */
export function colorEnabled(stream: Stream, env: NodeJS.ProcessEnv = process.env): boolean {
  if ('NO_COLOR' in env && env.NO_COLOR !== undefined) return false;
  if (env.TERM === 'dumb') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return true;
  return stream.isTTY === true;
}

const codes = {
  bold: [1, 22],
  dim: [2, 22],
  red: [31, 39],
  green: [32, 39],
  yellow: [33, 39],
  cyan: [36, 39],
} as const;
export type Style = keyof typeof codes;

/** A colouring function that is the identity when colour is off. */
export function painter(enabled: boolean): (style: Style, text: string) => string {
  return (style, text) => (enabled ? `\u001b[${codes[style][0]}m${text}\u001b[${codes[style][1]}m` : text);
}

/** Where a command writes, so tests can run commands in-process and read what they printed. */
export interface Io {
  /** What `-` as a file name reads (commands that take data on stdin). */
  stdin: AsyncIterable<string | Buffer>;
  stdout: Stream;
  stderr: Stream;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

/** The process's own streams. */
export const processIo = (): Io => ({
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
});

/** Prints a value as JSON (non-finite numbers as strings, so NaN never silently turns into null). */
export function printJson(io: Io, value: unknown): void {
  io.stdout.write(
    `${JSON.stringify(
      value,
      (_key, v) =>
        typeof v === 'number' && !Number.isFinite(v) ? String(v) : typeof v === 'bigint' ? v.toString() : v,
      2,
    )}\n`,
  );
}
