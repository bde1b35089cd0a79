import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { colorEnabled, ExitCode } from './output.js';
import { run } from './program.js';
import { memoryIo } from './test-io.js';

const cli = (args: string[], options?: Parameters<typeof memoryIo>[0]) => {
  const mem = memoryIo(options);
  return run(['node', 'prodprobe', ...args], mem.io).then((code) => ({ code, ...mem }));
};

describe('prodprobe CLI conventions', () => {
  it('--help lists the commands and exits 0', async () => {
    const r = await cli(['--help']);
    expect(r.code).toBe(ExitCode.ok);
    expect(r.stdout()).toContain('Usage: prodprobe');
    expect(r.stdout()).toContain('demo');
  });

  it('--version prints the version and exits 0', async () => {
    const r = await cli(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout().trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('an unknown option or command is a usage error: exit 2 with a message on stderr', async () => {
    const option = await cli(['--bogus']);
    expect(option.code).toBe(ExitCode.usage);
    expect(option.stderr()).toContain("unknown option '--bogus'");
    const command = await cli(['nonsense']);
    expect(command.code).toBe(ExitCode.usage);
    expect(command.stderr()).toContain('nonsense');
    // With --help too: not the root help with exit 0, as if the command existed.
    const help = await cli(['--json', 'nonsense', '--help']);
    expect(help.code).toBe(ExitCode.usage);
    expect(help.stderr()).toContain("error: unknown command 'nonsense'");
    expect(help.stdout()).toBe('');
    const known = await cli(['drift', '--help']);
    expect(known.code).toBe(ExitCode.ok);
    expect(known.stdout()).toContain('Usage: prodprobe drift');
  });

  it('colours only on a TTY and never with NO_COLOR', () => {
    expect(colorEnabled({ isTTY: true, write: () => true }, {})).toBe(true);
    expect(colorEnabled({ isTTY: false, write: () => true }, {})).toBe(false);
    expect(colorEnabled({ isTTY: true, write: () => true }, { NO_COLOR: '1' })).toBe(false);
    expect(colorEnabled({ isTTY: true, write: () => true }, { NO_COLOR: '' })).toBe(false);
    expect(colorEnabled({ isTTY: true, write: () => true }, { TERM: 'dumb' })).toBe(false);
  });

  it('usage errors are not coloured when NO_COLOR is set, even on a TTY', async () => {
    const r = await cli(['--bogus'], { tty: true, env: { NO_COLOR: '1' } });
    expect(r.stderr()).not.toContain('\u001b[');
    const coloured = await cli(['--bogus'], { tty: true, env: {} });
    expect(coloured.stderr()).toContain('\u001b[31m');
  });

  it('demo refuses a bad --requests before starting anything', async () => {
    const r = await cli(['demo', '--requests', 'ten']);
    expect(r.code).toBe(ExitCode.usage);
    expect(r.stderr()).toContain('--requests must be a whole number >= 50, got "ten"');
  });

  it('a reader that closes the pipe early (prodprobe … | head) ends the run quietly, not with an EPIPE crash', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cli-epipe-'));
    try {
      const file = join(dir, 'inputs.jsonl');
      writeFileSync(
        file,
        `${Array.from({ length: 50_000 }, (_, i) => JSON.stringify({ i, email: `u${i}@x.io` })).join('\n')}\n`,
      );
      // The real entry point (src/bin.ts through tsx), as a shell pipeline runs it.
      const cliDir = dirname(dirname(fileURLToPath(import.meta.url)));
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', join(cliDir, 'src', 'bin.ts'), 'sanitize', file],
        {
          cwd: cliDir,
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
      });
      child.stdout.once('data', () => child.stdout.destroy());
      const code = await new Promise<number | null>((done) => child.once('exit', (c) => done(c)));
      expect(stderr).not.toContain('EPIPE');
      expect(code).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
