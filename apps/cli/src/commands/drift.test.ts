import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFileCaptureStore, withCapture } from '@prodprobe/capture';
import { parseDriftReport, parseProfile } from '@prodprobe/drift';
import { createPredictionLogger, isSampled } from '@prodprobe/logger';
import { createSanitizer } from '@prodprobe/sanitize';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../program.js';
import { memoryIo } from '../test-io.js';

let dir: string;

function rows(n: number, seed: number, shift: number, methods: string[]) {
  let s = seed;
  const r = () => {
    s = (s * 16807) % 2147483647;
    return s / 2147483647;
  };
  return Array.from({ length: n }, (_, i) => ({
    id: i,
    amount: +(50 + 10 * (r() + r() + r()) + shift).toFixed(3),
    method: methods[Math.floor(r() * methods.length)]!,
  }));
}

afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'prodprobe-drift-'));
  const ref = rows(500, 1, 0, ['card', 'cash']);
  const cur = rows(400, 2, 6, ['card', 'cash', 'buy_now_pay_later']);
  writeFileSync(
    join(dir, 'ref.csv'),
    `id,amount,method\n${ref.map((r) => `${r.id},${r.amount},${r.method}`).join('\n')}\n`,
  );
  writeFileSync(join(dir, 'cur.jsonl'), `${cur.map((r) => JSON.stringify(r)).join('\n')}\n`);
  writeFileSync(join(dir, 'same.json'), JSON.stringify(ref));
  writeFileSync(join(dir, 'a.json'), JSON.stringify(ref.slice(0, 250)));
  writeFileSync(join(dir, 'b.json'), JSON.stringify(ref.slice(250)));
});

/**
 * Logs `traffic` into `dir/<name>` at `sampleRate` (request ids q-0, q-1, …): every "cash" request
 * fails. `at(i)` is the time request i is logged at (epoch ms; default: now).
 */
async function logTraffic(
  name: string,
  sampleRate: number,
  traffic: ReturnType<typeof rows>,
  at: (i: number) => number = () => Date.now(),
) {
  let current = 0;
  const logger = createPredictionLogger({
    dir: join(dir, name),
    sampleRate,
    modelVersion: 'm',
    // Categories kept (the default policy logs string lengths only).
    sanitizer: createSanitizer({ rules: { method: 'keep' } }),
    now: () => at(current),
  });
  traffic.forEach((row, i) => {
    current = i;
    const requestId = `q-${i}`;
    if (row.method === 'cash') logger.log({ requestId, input: row, error: new Error('boom'), latencyMs: 1 });
    else logger.log({ requestId, input: row, output: 1, latencyMs: 1 });
  });
  await logger.close();
}

describe('prodprobe drift', () => {
  it('compare finds drift between a CSV and a JSONL file, writes HTML and fails on drift', async () => {
    const m = memoryIo({ cwd: dir });
    const code = await run(
      [
        'node',
        'prodprobe',
        'drift',
        'compare',
        'ref.csv',
        'cur.jsonl',
        '--html',
        'r.html',
        '--fail-on',
        'drift',
      ],
      m.io,
    );
    expect(m.stderr()).toContain('failing:');
    expect(code).toBe(1);
    expect(m.stdout()).toContain('amount');
    expect(m.stdout()).toContain('[unseen_categories]');
    const html = readFileSync(join(dir, 'r.html'), 'utf8');
    expect(html).toContain('<svg class="chart" data-field="amount"');
  });

  it('compare --json prints a valid report; no drift exits 0 even with --fail-on drift', async () => {
    const m = memoryIo({ cwd: dir });
    const code = await run(
      ['node', 'prodprobe', '--json', 'drift', 'compare', 'ref.csv', 'same.json', '--fail-on', 'drift'],
      m.io,
    );
    expect(code).toBe(0);
    const report = parseDriftReport(JSON.parse(m.stdout()));
    expect(report.driftedFields).toEqual([]);
    expect(report.fields.find((f) => f.name === 'amount')!.tests.ks!.statistic).toBe(0);
  });

  it('profile + merge + compare on profiles', async () => {
    for (const f of ['a', 'b', 'ref']) {
      const m = memoryIo({ cwd: dir });
      const input = f === 'ref' ? 'ref.csv' : `${f}.json`;
      expect(
        await run(['node', 'prodprobe', 'drift', 'profile', input, '--out', `${f}.profile.json`], m.io),
      ).toBe(0);
    }
    const m = memoryIo({ cwd: dir });
    expect(
      await run(
        [
          'node',
          'prodprobe',
          'drift',
          'merge',
          'a.profile.json',
          'b.profile.json',
          '--out',
          'ab.profile.json',
        ],
        m.io,
      ),
    ).toBe(0);
    const merged = parseProfile(JSON.parse(readFileSync(join(dir, 'ab.profile.json'), 'utf8')));
    const whole = parseProfile(JSON.parse(readFileSync(join(dir, 'ref.profile.json'), 'utf8')));
    expect(merged.rowCount).toBe(500);
    expect(merged.fields.method!.categorical).toEqual(whole.fields.method!.categorical);
    const c = memoryIo({ cwd: dir });
    expect(
      await run(['node', 'prodprobe', '--json', 'drift', 'compare', 'ab.profile.json', 'cur.jsonl'], c.io),
    ).toBe(0);
    expect(parseDriftReport(JSON.parse(c.stdout())).reference.source).toBe('profile');
  });

  it('reports user errors with exit 2 naming the file', async () => {
    const m = memoryIo({ cwd: dir });
    expect(await run(['node', 'prodprobe', 'drift', 'compare', 'nope.csv', 'cur.jsonl'], m.io)).toBe(2);
    expect(m.stderr()).toContain('nope.csv: no such data file');
    const n = memoryIo({ cwd: dir });
    expect(
      await run(
        ['node', 'prodprobe', 'drift', 'compare', 'ref.csv', 'cur.jsonl', '--fail-on', 'maybe'],
        n.io,
      ),
    ).toBe(2);
    expect(n.stderr()).toContain('--fail-on');
    const o = memoryIo({ cwd: dir });
    expect(await run(['node', 'prodprobe', 'drift', 'merge', 'ref.csv', '--out', 'x.json'], o.io)).toBe(2);
    expect(o.stderr()).toContain('ref.csv: not a drift profile');
    // An empty extract is an error, never "no dataset drift" (exit 0) over nothing.
    writeFileSync(join(dir, 'empty.csv'), 'id,amount,method\n');
    for (const args of [
      ['compare', 'ref.csv', 'empty.csv', '--fail-on', 'drift'],
      ['profile', 'empty.csv', '--out', 'empty.json'],
    ]) {
      const e = memoryIo({ cwd: dir });
      expect(await run(['node', 'prodprobe', 'drift', ...args], e.io)).toBe(2);
      expect(e.stderr()).toContain('empty.csv: no rows, so there is nothing to profile or compare');
    }
  });

  it('date columns (CSV dates read by DuckDB) are not tested unless --compare-dates, and show as dates', async () => {
    const day = 86_400_000;
    const csv = (start: number, n: number) =>
      `date,temp\n${Array.from({ length: n }, (_, i) => `${new Date(start + i * day).toISOString().slice(0, 10)},${10 + (i % 7)}`).join('\n')}\n`;
    writeFileSync(join(dir, 'w2012.csv'), csv(Date.UTC(2012, 0, 1), 300));
    writeFileSync(join(dir, 'w2014.csv'), csv(Date.UTC(2014, 0, 1), 300));
    // Through a saved profile (the fast column path) and straight from the file (exact rows).
    const p = memoryIo({ cwd: dir });
    expect(
      await run(['node', 'prodprobe', 'drift', 'profile', 'w2012.csv', '--out', 'w2012.json'], p.io),
    ).toBe(0);
    expect(
      parseProfile(JSON.parse(readFileSync(join(dir, 'w2012.json'), 'utf8'))).fields.date!.types.date,
    ).toBe(300);
    for (const reference of ['w2012.json', 'w2012.csv']) {
      const m = memoryIo({ cwd: dir });
      expect(
        await run(
          ['node', 'prodprobe', 'drift', 'compare', reference, 'w2014.csv', '--fail-on', 'drift'],
          m.io,
        ),
      ).toBe(0);
      expect(m.stdout()).toContain('no dataset drift: 0 of 1 compared fields drifted');
      expect(m.stdout()).toContain(
        'date: a date field, not tested (its values move with time; compareDates, or --compare-dates, tests it): reference 2012-01-01 to 2012-10-26, current 2014-01-01 to 2014-10-27',
      );
      const t = memoryIo({ cwd: dir });
      expect(
        await run(['node', 'prodprobe', 'drift', 'compare', reference, 'w2014.csv', '--compare-dates'], t.io),
      ).toBe(0);
      expect(t.stdout()).toContain('DATASET DRIFT: 1 of 2 compared fields drifted');
      expect(t.stdout()).toContain(
        'outside the reference range [2012-01-01, 2012-10-26] (current [2014-01-01, 2014-10-27])',
      );
    }
  });

  it('compare reads a prediction log folder as its uniform sample of logged inputs', async () => {
    // 2,000 requests logged at 10%; every one with method "cash" fails, and every error is logged.
    const traffic = rows(2000, 3, 0, ['card', 'cash']);
    await logTraffic('logs', 0.1, traffic);
    const m = memoryIo({ cwd: dir });
    const code = await run(['node', 'prodprobe', '--json', 'drift', 'compare', 'ref.csv', 'logs'], m.io);
    expect(code).toBe(0);
    const report = parseDriftReport(JSON.parse(m.stdout()));
    const method = report.fields.find((f) => f.name === 'method')!;
    // The sample's rows: exactly the requests the sampler picks, failures included.
    expect(method.current?.rows).toBe(traffic.filter((_, i) => isSampled(`q-${i}`, 0.1)).length);
    // "cash" is half the traffic, as in the reference: over every logged entry (all errors, 10%
    // of successes) it would be ~90% and drift.
    expect(method.drift).toBe(false);
    expect(m.stderr()).toMatch(/logged inputs, the uniform 10% sample of requests/);

    const empty = mkdtempSync(join(dir, 'empty-'));
    const none = memoryIo({ cwd: dir });
    expect(await run(['node', 'prodprobe', 'drift', 'compare', 'ref.csv', empty], none.io)).toBe(2);
    expect(none.stderr()).toMatch(/neither a prediction log folder nor a capture folder/);
  });

  it('compare reads an errors-only log (sample rate 0) as every entry, like diagnose, and says so', async () => {
    const traffic = rows(300, 5, 0, ['card', 'cash']);
    await logTraffic('errors-only', 0, traffic);
    const m = memoryIo({ cwd: dir });
    expect(
      await run(['node', 'prodprobe', '--json', 'drift', 'compare', 'ref.csv', 'errors-only'], m.io),
    ).toBe(0);
    const method = parseDriftReport(JSON.parse(m.stdout())).fields.find((f) => f.name === 'method')!;
    // Only the failures were logged: every one is "cash", and the report says whose inputs these are.
    expect(method.current?.rows).toBe(traffic.filter((r) => r.method === 'cash').length);
    expect(method.drift).toBe(true);
    expect(m.stderr()).toMatch(/logged inputs, every logged entry: .*failures are over-represented/);

    // Logs without inputs: a message, not an empty report.
    const bare = join(dir, 'no-inputs');
    const quiet = createPredictionLogger({
      dir: bare,
      sampleRate: 1,
      modelVersion: 'm',
      includeInput: false,
    });
    quiet.log({ requestId: 'x', input: { a: 1 }, output: 1, latencyMs: 1 });
    await quiet.close();
    const none = memoryIo({ cwd: dir });
    expect(await run(['node', 'prodprobe', 'drift', 'compare', 'ref.csv', 'no-inputs'], none.io)).toBe(2);
    expect(none.stderr()).toMatch(/no-inputs: 1 log entries, but no logged input is a row/);
  });

  it('compare reads a capture folder as the failing inputs', async () => {
    // A model that fails on the payment method training never saw, wrapped by withCapture over a
    // real file store: the captured inputs are what diagnose's drift next command points at.
    const captures = join(dir, 'captures');
    const predict = withCapture(
      (row: unknown) => {
        if (Array.isArray(row) || (row as { method: string }).method === 'buy_now_pay_later')
          throw new Error('unknown payment method');
        return 0.1;
      },
      {
        store: createFileCaptureStore(captures),
        modelVersion: 'm',
        sanitizer: createSanitizer({ rules: { method: 'keep' } }),
      },
    );
    const traffic = rows(400, 4, 0, ['card', 'buy_now_pay_later']);
    for (const row of [...traffic, [1, 2, 3]]) {
      try {
        predict(row);
      } catch {
        // the failure is the point: it is captured
      }
    }
    await predict.flush();
    const failing = traffic.filter((r) => r.method === 'buy_now_pay_later').length;
    const m = memoryIo({ cwd: dir });
    const code = await run(['node', 'prodprobe', '--json', 'drift', 'compare', 'ref.csv', 'captures'], m.io);
    expect(code).toBe(0);
    const report = parseDriftReport(JSON.parse(m.stdout()));
    const method = report.fields.find((f) => f.name === 'method')!;
    expect(method.current?.rows).toBe(failing);
    expect(method.warnings.map((w) => w.code)).toContain('unseen_categories');
    expect(m.stderr()).toMatch(
      new RegExp(`${failing} captured inputs \\(failures only.*1 left out \\(not an object of fields\\)`),
    );
  });

  it('timeline finds the window where drift starts in a log folder', async () => {
    // Three hours of traffic, 1,500 requests an hour; the third hour shifts amount and brings a new
    // payment method. (The ids run past the reference's, so only amount and method are compared.)
    const hour = 3_600_000;
    const start = Date.UTC(2026, 10, 20, 10);
    const traffic = [
      ...rows(1500, 11, 0, ['card', 'cash']),
      ...rows(1500, 12, 0, ['card', 'cash']),
      ...rows(1500, 13, 6, ['card', 'cash', 'buy_now_pay_later']),
    ];
    const at = (i: number) => start + Math.floor(i / 1500) * hour + (i % 1500) * 1000;
    await logTraffic('timeline-logs', 0.5, traffic, at);
    const timeline = async (first: string[], ...rest: string[]) => {
      const m = memoryIo({ cwd: dir });
      const argv = [...first, 'drift', 'timeline', 'ref.csv', 'timeline-logs', '--fields', 'amount,method'];
      const code = await run(['node', 'prodprobe', ...argv, ...rest], m.io);
      return { code, out: m.stdout(), err: m.stderr() };
    };

    const json = await timeline(['--json']);
    expect(json.code).toBe(0);
    const t = JSON.parse(json.out);
    expect(t.windows.map((w: { start: string }) => w.start)).toEqual([
      '2026-11-20T10:00:00.000Z',
      '2026-11-20T11:00:00.000Z',
      '2026-11-20T12:00:00.000Z',
    ]);
    // The rows of each window: the requests the sampler picked in that hour.
    expect(t.windows[0].rows).toBe(traffic.slice(0, 1500).filter((_, i) => isSampled(`q-${i}`, 0.5)).length);
    expect(t.windows[0].drifted).toEqual([]);
    expect(t.windows[1].drifted).toEqual([]);
    expect(t.windows[2].datasetDrift).toBe(true);
    expect(t.windows[2].drifted.map((d: { name: string }) => d.name).sort()).toEqual(['amount', 'method']);
    expect(t.windows[2].drifted.find((d: { name: string }) => d.name === 'method').warnings).toContain(
      'unseen_categories',
    );
    expect(t.firstDatasetDrift).toBe('2026-11-20T12:00:00.000Z');
    expect(t.datasetDriftSince).toBe('2026-11-20T12:00:00.000Z');
    expect(json.err).toMatch(/timeline-logs: \d+ logged inputs, the uniform 50% sample of requests/);

    const text = await timeline([], '--fail-on', 'drift', '--html', 'timeline.html');
    expect(text.code).toBe(1);
    expect(readFileSync(join(dir, 'timeline.html'), 'utf8')).toContain(
      '<title>prodprobe drift timeline</title>',
    );
    expect(text.out).toContain('dataset drift in every window since 2026-11-20 12:00 (1 of 3)');
    expect(text.out).toContain('first window with a drifted field: 2026-11-20 12:00 (');
    expect(text.out).toMatch(/2026-11-20 12:00 +\d+ +2\/2 +DATASET DRIFT: /);

    // Windows are aligned in UTC (on multiples of their length): 10:00-12:00, then 12:00-14:00.
    const two = await timeline(['--json'], '--window', '2h');
    expect(JSON.parse(two.out).windows.map((w: { rows: number }) => w.rows)).toEqual([
      t.windows[0].rows + t.windows[1].rows,
      t.windows[2].rows,
    ]);

    const hourly = await timeline([], '--window', 'hourly');
    expect(hourly.code).toBe(2);
    expect(hourly.err).toContain('--window hourly: expected a length such as 30m, 1h');
    const tooMany = await timeline([], '--window', '1s');
    expect(tooMany.code).toBe(2);
    expect(tooMany.err).toContain('give a longer --window');

    const notLogs = memoryIo({ cwd: dir });
    const empty = mkdtempSync(join(dir, 'empty-'));
    expect(await run(['node', 'prodprobe', 'drift', 'timeline', 'ref.csv', empty], notLogs.io)).toBe(2);
    expect(notLogs.stderr()).toContain('not a prediction log folder (no log entries in it)');
  });

  it('timeline reads a data file by its time column', async () => {
    const hours = [
      rows(300, 21, 0, ['card', 'cash']),
      rows(300, 22, 0, ['card', 'cash']),
      rows(300, 23, 8, ['card', 'buy_now_pay_later']),
    ];
    const lines = hours.flatMap((hourRows, h) =>
      hourRows.map((r, i) => {
        const ts = new Date(Date.UTC(2026, 10, 20, 10 + h, 0, i))
          .toISOString()
          .replace('T', ' ')
          .slice(0, 19);
        return `${ts},${r.amount},${r.method}`;
      }),
    );
    writeFileSync(join(dir, 'timed.csv'), `ts,amount,method\n${lines.join('\n')}\n`);
    const m = memoryIo({ cwd: dir });
    const args = ['drift', 'timeline', 'ref.csv', 'timed.csv', '--fields', 'amount,method'];
    expect(await run(['node', 'prodprobe', '--json', ...args, '--time', 'ts'], m.io)).toBe(0);
    const t = JSON.parse(m.stdout());
    expect(t.windows.map((w: { start: string; rows: number }) => [w.start, w.rows])).toEqual([
      ['2026-11-20T10:00:00.000Z', 300],
      ['2026-11-20T11:00:00.000Z', 300],
      ['2026-11-20T12:00:00.000Z', 300],
    ]);
    expect(t.datasetDriftSince).toBe('2026-11-20T12:00:00.000Z');
    expect(t.source).toBe('900 rows of timed.csv by their ts column');

    // JSON Lines with ISO strings (no zone: UTC), a row without a time, and a numeric column whose
    // first value is missing.
    const jsonl = hours.flatMap((hourRows, h) =>
      hourRows.map((r, i) =>
        JSON.stringify({
          ts: i === 0 && h === 0 ? null : `2026-11-20T${10 + h}:00:${String(i % 60).padStart(2, '0')}`,
          seq: i === 0 ? null : i,
          amount: r.amount,
          method: r.method,
        }),
      ),
    );
    writeFileSync(join(dir, 'timed.jsonl'), `${jsonl.join('\n')}\n`);
    const j = memoryIo({ cwd: dir });
    const jargs = ['drift', 'timeline', 'ref.csv', 'timed.jsonl', '--fields', 'amount,method'];
    expect(await run(['node', 'prodprobe', '--json', ...jargs, '--time', 'ts'], j.io)).toBe(0);
    const jt = JSON.parse(j.stdout());
    expect(jt.windows.map((w: { rows: number }) => w.rows)).toEqual([299, 300, 300]);
    expect(jt.undated).toBe(1);
    expect(jt.datasetDriftSince).toBe('2026-11-20T12:00:00.000Z');
    const seq = memoryIo({ cwd: dir });
    expect(await run(['node', 'prodprobe', ...jargs, '--time', 'seq'], seq.io)).toBe(2);
    expect(seq.stderr()).toContain('--time seq: a numeric column');

    for (const [extra, message] of [
      [[], 'timed.csv: a data file; name its time column with --time'],
      [['--time', 'when'], '--time when: no such column in timed.csv (columns: ts, amount, method)'],
      [['--time', 'amount'], '--time amount: a numeric column; give a date or timestamp column'],
    ] as const) {
      const bad = memoryIo({ cwd: dir });
      expect(await run(['node', 'prodprobe', ...args, ...extra], bad.io)).toBe(2);
      expect(bad.stderr()).toContain(message);
    }
  });
});

describe('prodprobe drift progress', () => {
  // More rows than the progress threshold (100k).
  let big = '';
  beforeAll(() => {
    big = join(dir, 'big.csv');
    const lines = Array.from(
      { length: 150_000 },
      (_, i) => `${i},${(i * 7919) % 1000},${i % 3 ? 'card' : 'cash'}`,
    );
    writeFileSync(big, `id,amount,method\n${lines.join('\n')}\n`);
  });
  const compareBig = async (tty: boolean, json: boolean) => {
    const m = memoryIo({ cwd: dir, tty });
    const args = ['node', 'prodprobe', ...(json ? ['--json'] : []), 'drift', 'compare', 'big.csv', 'ref.csv'];
    expect(await run(args, m.io)).toBe(0);
    return m.stderr();
  };

  it('shows progress on stderr for a large file when stderr is a TTY', async () => {
    const err = await compareBig(true, false);
    expect(err).toMatch(/big\.csv .*\d\.\d\dM rows/);
    expect(err.endsWith('\n')).toBe(true);
  });

  it('shows none when piped or with --json', async () => {
    expect(await compareBig(false, false)).not.toMatch(/M rows/);
    expect(await compareBig(true, true)).not.toMatch(/M rows/);
  });
});
