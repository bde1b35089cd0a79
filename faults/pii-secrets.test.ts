import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPredictionLogger, listSegments } from '@prodprobe/logger';
import { createSanitizer, encode } from '@prodprobe/sanitize';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain JavaScript fixture, no types
import { piiCorpus } from './fixtures/pii-corpus.mjs';
import { long, recordFault, repoRoot } from './table.ts';

/**
 * Secrets and PII: a seeded corpus of PII through every path that stores inputs (the default
 * sanitizer, `prodprobe sanitize`, the prediction logger), counting substrings of 4+ characters
 * that survive; then a service with planted secrets, and every artifact it and the CLI leave.
 */
const root = mkdtempSync(join(tmpdir(), 'pp-faults-pii-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const cli = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  spawnSync(process.execPath, [join(repoRoot, 'apps/cli/dist/bin.js'), ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env, NO_COLOR: '1' },
    maxBuffer: 256 << 20,
  });

interface Planted {
  kind: string;
  text: string;
}
interface CorpusItem {
  record: Record<string, unknown>;
  planted: Planted[];
}

/**
 * The 4-character substrings of `planted` found in `text`, placeholders (`<string length=12>`,
 * `<EMAIL>`, `<key #2>`) removed first. Substrings without a letter or digit are no evidence, nor
 * are digit runs with fewer than 3 non-zero digits: a number keeps 2 significant digits by design
 * (41008394073 → 41000000000), and its rounding zeros match any zeros of the original.
 */
function survivors(planted: string, text: string): string[] {
  const found = new Set<string>();
  for (let i = 0; i + 4 <= planted.length; i++) {
    const gram = planted.slice(i, i + 4);
    if (!/[A-Za-z0-9]/.test(gram)) continue;
    if (/^\d{4}$/.test(gram) && gram.replace(/0/g, '').length < 3) continue;
    if (text.includes(gram)) found.add(gram);
  }
  return [...found];
}
const stripPlaceholders = (text: string) => text.replace(/<[^<>]*>/g, '');

interface PathResult {
  path: string;
  leaked: number;
  grams: number;
  examples: string[];
}

function count(path: string, corpus: CorpusItem[], outputs: string[]): PathResult {
  const result: PathResult = { path, leaked: 0, grams: 0, examples: [] };
  corpus.forEach((item, i) => {
    const text = stripPlaceholders(outputs[i] ?? '');
    for (const p of item.planted) {
      const hits = survivors(p.text, text);
      if (hits.length === 0) continue;
      result.leaked++;
      result.grams += hits.length;
      if (result.examples.length < 3) result.examples.push(`${p.kind} "${p.text}" → ${hits.join(',')}`);
    }
  });
  return result;
}

describe('secrets and PII', () => {
  it('no 4-character substring of the PII corpus survives the default sanitizer, `prodprobe sanitize`, or the logger', async () => {
    const corpus = piiCorpus(20261207, long ? 5000 : 600) as CorpusItem[];
    const planted = corpus.reduce((n, c) => n + c.planted.length, 0);
    const sanitizer = createSanitizer();
    const results: PathResult[] = [];

    results.push(
      count(
        'createSanitizer()',
        corpus,
        corpus.map((c) => encode(sanitizer.sanitize(c.record))),
      ),
    );

    const file = join(root, 'corpus.jsonl');
    writeFileSync(file, corpus.map((c) => JSON.stringify(c.record)).join('\n'));
    const sanitized = cli(['sanitize', file]);
    expect(sanitized.status, sanitized.stderr).toBe(0);
    const lines = sanitized.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(corpus.length);
    results.push(count('prodprobe sanitize', corpus, lines));

    // The logger: each record as the input, and once more quoted in an error message (errors are
    // always kept, with their message through the PII detectors).
    const dir = join(root, 'logs');
    const logger = createPredictionLogger({
      dir,
      sampleRate: 1,
      modelVersion: 'pii-v1',
      host: 'svc',
      pid: 1,
    });
    corpus.forEach((c, i) => {
      logger.log({
        requestId: `ok-${i}`,
        input: c.record,
        output: { score: 0.5, echo: c.record },
        latencyMs: 1,
      });
      logger.log({
        requestId: `err-${i}`,
        input: c.record,
        error: new Error(`cannot score ${c.planted.map((p) => p.text).join(' / ')}`),
        latencyMs: 1,
      });
    });
    await logger.close();
    const byRequest = new Map<string, string>();
    const errorText = new Map<string, string>();
    for (const segment of await listSegments(dir)) {
      for (const line of readFileSync(segment, 'utf8').split('\n')) {
        if (line === '') continue;
        const e = JSON.parse(line) as Record<string, unknown>;
        // What comes from the request: input, its stats (paths carry keys), output; the error apart.
        const id = String(e.requestId).replace(/^(ok|err)-/, '');
        byRequest.set(id, (byRequest.get(id) ?? '') + JSON.stringify([e.input, e.inputStats, e.output]));
        if (e.error !== undefined) errorText.set(id, JSON.stringify(e.error));
      }
    }
    expect(byRequest.size).toBe(corpus.length);
    results.push(
      count(
        'prediction logger (input, stats, output)',
        corpus,
        corpus.map((_c, i) => byRequest.get(String(i)) ?? ''),
      ),
    );
    // Error messages are free text: detectors find patterns (emails, cards, IBANs, phones, ids,
    // tokens), not names. Names quoted in a message are counted apart, as what detection cannot do.
    const patterned = corpus.map((c) => ({ ...c, planted: c.planted.filter((p) => p.kind !== 'name') }));
    const names = corpus.map((c) => ({ ...c, planted: c.planted.filter((p) => p.kind === 'name') }));
    const errorTexts = corpus.map((_c, i) => errorText.get(String(i)) ?? '');
    // A surviving name shares letters with the email made from it: those are the name's, not the email's.
    const withoutNames = errorTexts.map((t, i) =>
      (names[i]?.planted ?? []).reduce((text, p) => text.split(p.text).join(''), t),
    );
    results.push(count('logger error messages', patterned, withoutNames));
    const namesInMessages = count('names in error messages', names, errorTexts);

    const leaked = results.reduce((n, r) => n + r.leaked, 0);
    const kinds = [...new Set(corpus.flatMap((c) => c.planted.map((p) => p.kind)))].join(', ');
    recordFault(
      {
        fault: 'PII corpus through sanitizer, CLI and logger',
        cases: planted * results.length,
        lost: leaked,
        figure:
          `${planted.toLocaleString('en')} PII items (${kinds}) in ${corpus.length} records, as values, free text, ` +
          `numbers, keys, headers and nested arrays; surviving 4-char substrings: ` +
          results.map((r) => `${r.path} ${r.grams}`).join(', ') +
          `; not detectable: ${namesInMessages.leaked} of ${names.reduce((n, c) => n + c.planted.length, 0)} ` +
          'person names quoted in error messages survive (no name detector: keep names out of messages)' +
          (leaked > 0
            ? `; e.g. ${results
                .flatMap((r) => r.examples)
                .slice(0, 3)
                .join('; ')}`
            : ''),
      },
      import.meta.filename,
    );
    expect(results.flatMap((r) => r.examples)).toEqual([]);
  });

  it('planted secrets appear in no snapshot, diff, log, capture or report', () => {
    const out = join(root, 'service');
    // Each side its own values, all of them high-entropy: any 8-character piece found is a leak.
    const sides = {
      staging: {
        token: 'ghp_Q7rT2mXv9LpK4sWd8NcB1yHf6JzU3aEo5GiR',
        env: {
          API_TOKEN: 'sk_live_Zx81QmVt6RbN3pLw9KdY2cHs',
          DATABASE_URL: 'postgres://app:Vq7Lm2Xp9Rt4@db-staging:5432/features',
          FEATURE_STORE_URL: 'redis://:Hs3Kd8Wq1Zn6@cache-staging:6379/0',
          AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMIK7MDENGbPxRfiCYzq81Ld4Tb2Vm',
          CONFIG_API_KEY: 'cfgkey-Tq4Wz9Lm2Xc7Vb5N',
        },
      },
      production: {
        token: 'ghp_M3nB8vC1xZ6lK9jH4gF2dS7aQ5wE0rTyUiOp',
        env: {
          API_TOKEN: 'sk_live_Pq52LmXv8RcN1tKw7DsY4bHz',
          DATABASE_URL: 'postgres://app:Gz4Hn8Ks1Wd6@db-prod:5432/features',
          FEATURE_STORE_URL: 'redis://:Rb9Xc2Mv7Lq3@cache-prod:6379/0',
          AWS_SECRET_ACCESS_KEY: 'pQ9sLm2XvR7tN4kW8dYc3bHz6fJ1gA5eU0iOqTzr',
          CONFIG_API_KEY: 'cfgkey-Hm7Rx2Qz9Wc4Lv6T',
        },
      },
    };
    for (const [label, side] of Object.entries(sides)) {
      const run = spawnSync(
        process.execPath,
        ['faults/fixtures/secrets-service.mjs', out, label, `--api-token=${side.token}`],
        { cwd: repoRoot, encoding: 'utf8', env: { ...process.env, ...side.env } },
      );
      expect(run.status, run.stderr).toBe(0);
    }
    const captures = join(out, 'captures');
    const ids = (
      JSON.parse(cli(['capture', 'list', captures, '--json']).stdout) as { records: { id: string }[] }
    ).records.map((c) => c.id);
    expect(ids.length).toBeGreaterThan(0);
    const a = join(out, 'staging.json');
    const b = join(out, 'production.json');
    const html = join(out, 'report.html');
    const outputs: [string, string][] = [];
    for (const args of [
      ['env', 'diff', a, b],
      ['env', 'diff', a, b, '--json'],
      ['logs', 'errors', join(out, 'logs')],
      ['logs', 'query', join(out, 'logs'), 'SELECT * FROM predictions', '--json'],
      ['capture', 'list', captures],
      ['capture', 'show', captures, ids[0] as string],
      ['diagnose', '--logs', join(out, 'logs'), '--captures', captures, '--env-a', a, '--env-b', b, '--json'],
      [
        'diagnose',
        '--logs',
        join(out, 'logs'),
        '--captures',
        captures,
        '--env-a',
        a,
        '--env-b',
        b,
        '--html',
        html,
      ],
    ]) {
      const r = cli(args);
      // Exit 1 is diagnose's "found a probable cause"; anything else, or no output, is a broken run.
      expect(r.status === 0 || r.status === 1, `prodprobe ${args.join(' ')}: ${r.stderr}`).toBe(true);
      expect(
        r.stdout.length,
        `prodprobe ${args.join(' ')} printed nothing (exit ${r.status}): ${r.stderr}`,
      ).toBeGreaterThan(0);
      outputs.push([
        `prodprobe ${args.slice(0, 2).join(' ')}${args.includes('--json') ? ' --json' : ''}`,
        r.stdout + r.stderr,
      ]);
    }
    // Every file the service and the CLI wrote.
    const walk = (dir: string): string[] =>
      readdirSync(dir).flatMap((name) => {
        const p = join(dir, name);
        return statSync(p).isDirectory() ? walk(p) : [p];
      });
    for (const f of walk(out)) outputs.push([f.replace(`${out}/`, ''), readFileSync(f, 'utf8')]);

    // The secret part of each value (a URL's password, not its host), in 8-character pieces.
    const secrets = Object.values(sides).flatMap((s) => [
      s.token,
      ...Object.values(s.env).map((v) => v.match(/:\/\/[^:]*:([^@]+)@/)?.[1] ?? v),
    ]);
    const leaks: string[] = [];
    for (const secret of secrets) {
      for (const [where, text] of outputs) {
        for (let i = 0; i + 8 <= secret.length; i++) {
          if (text.includes(secret.slice(i, i + 8))) {
            leaks.push(`${secret.slice(0, 6)}… in ${where}`);
            break;
          }
        }
      }
    }
    recordFault(
      {
        fault: 'planted secrets in artifacts',
        cases: secrets.length * outputs.length,
        lost: leaks.length,
        figure:
          `${secrets.length} secrets (secret env vars, passwords in URLs under innocent names, a token in argv, ` +
          `a config key; quoted in errors, headers and free text) × ${outputs.length} artifacts ` +
          `(2 snapshots, logs, ${ids.length} captures, env diff, logs errors/query, capture list/show, diagnose JSON and HTML): ` +
          `${leaks.length} found${leaks.length > 0 ? `: ${leaks.slice(0, 4).join('; ')}` : ''}`,
      },
      import.meta.filename,
    );
    expect(leaks).toEqual([]);
  });
});
