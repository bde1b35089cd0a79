import { Readable } from 'node:stream';
import type { Io } from './output.js';

/** An in-memory Io for tests: run a command in-process and read what it printed. */
export function memoryIo(
  options: { env?: NodeJS.ProcessEnv; cwd?: string; tty?: boolean; stdin?: string } = {},
) {
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = {
    stdin: Readable.from(options.stdin === undefined ? [] : [options.stdin]),
    stdout: { isTTY: options.tty ?? false, write: (s: string) => out.push(s) },
    stderr: { isTTY: options.tty ?? false, write: (s: string) => err.push(s) },
    env: options.env ?? {},
    cwd: options.cwd ?? process.cwd(),
  };
  return { io, stdout: () => out.join(''), stderr: () => err.join('') };
}
