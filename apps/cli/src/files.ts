import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { CliError, ExitCode, type Io } from './output.js';

/** A file's text, or a CliError naming what it was (`what`, e.g. `--policy`) and why it is unreadable. */
export async function readText(io: Io, file: string, what: string): Promise<string> {
  try {
    return await readFile(resolve(io.cwd, file), 'utf8');
  } catch (error) {
    const code = (error as { code?: string }).code ?? String(error);
    throw new CliError(`${what} ${file}: cannot read the file (${code})`, ExitCode.usage, { cause: error });
  }
}

/** A JSON file, parsed; a CliError names the file and the parse error. */
export async function readJsonFile(io: Io, file: string, what: string): Promise<unknown> {
  const text = await readText(io, file, what);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new CliError(
      `${what} ${file}: not valid JSON (${error instanceof Error ? error.message : String(error)})`,
      ExitCode.usage,
      { cause: error },
    );
  }
}
