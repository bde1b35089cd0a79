import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  jsonBody,
  type RawRequest,
  type RawResponse,
  rawRequest,
  type ServerChild,
  startServerChild,
} from './fixtures/server-child.ts';
import { recordFault, repoRoot } from './table.ts';

/**
 * The demo server's debug endpoints, against real `prodprobe serve` children: off without a
 * token, 401 without the right bearer token (same length or not), 200 with it; the server listens
 * on 127.0.0.1 only; and no request target, query or request id reads a file outside its folder.
 */

// Every route the service declares, read from its source: a route added later is tested too.
const source = readFileSync(join(repoRoot, 'apps/server/src/app.ts'), 'utf8');
const ROUTES = [...source.matchAll(/app\.(get|post|put|delete|patch)\('([^']+)'/g)].map((m) => ({
  method: m[1]!.toUpperCase(),
  path: m[2]!,
}));
const DEBUG = ROUTES.filter((r) => r.path.startsWith('/debug/')).map((r) => r.path);
const TOKEN = randomBytes(24).toString('base64url'); // 32 characters
const PASSWD = /root:x?:0:0:/;

let open: ServerChild;
let guarded: ServerChild;
beforeAll(async () => {
  [open, guarded] = await Promise.all([
    startServerChild({ env: 'staging' }),
    startServerChild({ env: 'staging', debugToken: TOKEN }),
  ]);
});
afterAll(async () => {
  await Promise.all([open?.stop(), guarded?.stop()]);
});

const get = (server: ServerChild, path: string, authorization?: string): Promise<RawResponse> =>
  rawRequest(server.port, {
    method: 'GET',
    path,
    headers: authorization === undefined ? {} : { authorization },
  });

/** Rows of the figure and what got through, gathered by the tests and recorded once. */
const tally = { cases: 0, lost: 0, parts: [] as string[], through: [] as string[] };
const note = (what: string, response: RawResponse) => {
  if (tally.through.length < 20)
    tally.through.push(`${what} -> ${response.status} ${response.body.slice(0, 160)}`);
};

/** Wrong or missing Authorization values, and why each must fail. */
function wrongAuthorizations(): [string, string | undefined][] {
  const flip = (s: string, i: number) => `${s.slice(0, i)}${s[i] === 'A' ? 'B' : 'A'}${s.slice(i + 1)}`;
  return [
    ['none', undefined],
    ['empty', ''],
    ['scheme only', 'Bearer'],
    ['empty token', 'Bearer '],
    ['same length, last character wrong', `Bearer ${flip(TOKEN, TOKEN.length - 1)}`],
    ['same length, first character wrong', `Bearer ${flip(TOKEN, 0)}`],
    ['same length, all wrong', `Bearer ${'x'.repeat(TOKEN.length)}`],
    ['one character short', `Bearer ${TOKEN.slice(0, -1)}`],
    ['one character long', `Bearer ${TOKEN}x`],
    ['half the token', `Bearer ${TOKEN.slice(0, TOKEN.length / 2)}`],
    ['token twice', `Bearer ${TOKEN}${TOKEN}`],
    ['token without the scheme', TOKEN],
    ['Basic scheme', `Basic ${Buffer.from(`debug:${TOKEN}`).toString('base64')}`],
    ['non-ASCII, same character count', `Bearer ${TOKEN.slice(0, -1)}\u00e9`],
    ['a 4 KiB token', `Bearer ${'t'.repeat(4096)}`],
  ];
}

describe('server: debug endpoints', () => {
  // One row for the whole file, recorded even when a test above failed.
  afterAll(() => {
    recordFault(
      {
        fault: 'server: debug endpoints',
        cases: tally.cases,
        lost: tally.lost,
        figure: tally.parts.join('; '),
      },
      import.meta.filename,
    );
  });

  it('declares the debug routes this test knows about', () => {
    // The README's list; a route the regex missed would go untested.
    for (const path of [
      '/debug/env',
      '/debug/drift',
      '/debug/captures',
      '/debug/logs/errors',
      '/debug/history',
    ])
      expect(DEBUG).toContain(path);
    expect(DEBUG).toContain('/debug/instrumentation');
  });

  it('without a token configured, the debug routes are not served (404)', async () => {
    let served = 0;
    for (const path of DEBUG)
      for (const auth of [undefined, `Bearer ${TOKEN}`]) {
        const res = await get(open, path, auth);
        tally.cases++;
        if (res.status !== 404 || PASSWD.test(res.body)) {
          served++;
          note(`no token configured: GET ${path}`, res);
        }
      }
    tally.lost += served;
    tally.parts.push(`no token: ${DEBUG.length * 2 - served} of ${DEBUG.length * 2} → 404`);
    expect(served).toBe(0);
  });

  // Regression: on a service that had captured no failure and kept no log entry yet (this one:
  // nothing has been predicted), /debug/captures and /debug/logs/errors answered 500.
  it('with a token: 401 without the right one (same length or not), 200 with it, also before any traffic', async () => {
    const wrong = wrongAuthorizations();
    const quiet = {
      captures: jsonBody(await get(guarded, '/debug/captures', `Bearer ${TOKEN}`)),
      errors: jsonBody(await get(guarded, '/debug/logs/errors', `Bearer ${TOKEN}`)),
    };
    tally.cases += 2;
    expect(quiet).toEqual({
      captures: { count: 0, records: [] },
      errors: { estimatedRequests: 0, errors: 0, errorRate: 0, groups: [] },
    });
    let let_in = 0;
    let refusedRight = 0;
    let unnamed = 0;
    for (const path of DEBUG) {
      for (const [why, auth] of wrong) {
        const res = await get(guarded, path, auth);
        tally.cases++;
        if (res.status !== 401) {
          let_in++;
          note(`${why}: GET ${path}`, res);
        } else if (!/Authorization: Bearer/.test(String(jsonBody(res)?.message))) unnamed++;
      }
      const ok = await get(guarded, path, `Bearer ${TOKEN}`);
      tally.cases++;
      if (ok.status !== 200 || jsonBody(ok) === undefined) {
        refusedRight++;
        note(`right token: GET ${path}`, ok);
      }
    }
    tally.lost += let_in + refusedRight + unnamed;
    // apps/server/src/app.ts compares `Bearer <token>` with timingSafeEqual once the lengths match
    // (timingSafeEqual throws on different lengths: the length check keeps that a 401, not a 500).
    const timingSafe = /given\.length === expected\.length && timingSafeEqual\(given, expected\)/.test(
      source,
    );
    tally.parts.push(
      `token: ${let_in} of ${wrong.length * DEBUG.length} wrong/missing let in (${unnamed} 401s not naming the header), ` +
        `${DEBUG.length - refusedRight} of ${DEBUG.length} right → 200; ` +
        `${timingSafe ? 'timingSafeEqual after a length check (leaks the length only)' : 'NOT timingSafeEqual-based'}`,
    );
    expect(tally.through).toEqual([]);
    expect(let_in + refusedRight + unnamed).toBe(0);
    expect(timingSafe, 'the bearer token comparison is no longer timingSafeEqual-based').toBe(true);
  });

  it('listens on 127.0.0.1 only', async () => {
    const listening: string[] = [];
    const hex = guarded.port.toString(16).toUpperCase().padStart(4, '0');
    for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
      for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
        const [, local, , state] = line.trim().split(/\s+/);
        if (state === '0A' && local?.endsWith(`:${hex}`)) listening.push(`${table.slice(10)} ${local}`);
      }
    }
    // Every address of this machine that is not loopback (link-local ones with their interface).
    const others = Object.entries(networkInterfaces()).flatMap(([name, addrs]) =>
      (addrs ?? [])
        .filter((a) => !a.internal)
        .map((a) =>
          a.family === 'IPv6' && a.address.startsWith('fe80:') ? `${a.address}%${name}` : a.address,
        ),
    );
    const tryConnect = (host: string, port: number) =>
      new Promise<string>((resolve) => {
        const socket = connect({ host, port, timeout: 5000 });
        socket.once('connect', () => {
          socket.destroy();
          resolve('connected');
        });
        socket.once('timeout', () => {
          socket.destroy();
          resolve('timeout');
        });
        socket.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
      });
    // The probe can tell: a listener on every address is reachable through the same addresses.
    const control = createServer((s) => s.destroy());
    await new Promise<void>((resolve) => control.listen(0, '0.0.0.0', resolve));
    const controlPort = (control.address() as { port: number }).port;
    const controlReached = await Promise.all(
      others.filter((a) => !a.includes(':')).map((a) => tryConnect(a, controlPort)),
    );
    await new Promise((resolve) => control.close(resolve));

    const results: [string, string][] = [];
    for (const address of others) results.push([address, await tryConnect(address, guarded.port)]);
    const loopback = await tryConnect('127.0.0.1', guarded.port);
    tally.cases += results.length + 1;
    const reached = results.filter(([, r]) => r === 'connected');
    const wrongBind = guarded.host !== '127.0.0.1' || open.host !== '127.0.0.1' ? 1 : 0;
    const notOnlyLoopback =
      listening.some((l) => !l.endsWith(`0100007F:${hex}`)) || listening.length !== 1 ? 1 : 0;
    tally.lost += reached.length + wrongBind + notOnlyLoopback + (loopback === 'connected' ? 0 : 1);
    tally.parts.push(
      `listens on ${guarded.host} only (${listening.join(', ')}); ` +
        (others.length === 0
          ? 'no non-loopback address on this machine to try'
          : `${results.map(([a, r]) => `${a} ${r}`).join(', ')}`),
    );
    expect(guarded.host).toBe('127.0.0.1');
    expect(open.host).toBe('127.0.0.1');
    expect(listening).toEqual([`tcp 0100007F:${hex}`]);
    expect(loopback).toBe('connected');
    expect(reached, JSON.stringify(results)).toEqual([]);
    expect(
      controlReached.every((r) => r === 'connected'),
      JSON.stringify(controlReached),
    ).toBe(true);
  });

  it('no request target, query or request id reads a file outside its folder', async () => {
    const dots = [
      '../../../../../../etc/passwd',
      '..%2f..%2f..%2f..%2f..%2f..%2fetc%2fpasswd',
      '%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd',
      '%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd',
      '%252e%252e%252f%252e%252e%252f%252e%252e%252fetc%252fpasswd',
      '..%5c..%5c..%5c..%5cetc%5cpasswd',
      '..\\..\\..\\..\\etc\\passwd',
      '....//....//....//....//etc/passwd',
      '%c0%ae%c0%ae/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd',
      '..%00/..%00/etc/passwd',
      '..\u0000/../../../etc/passwd',
      '/etc/passwd',
      'etc/passwd',
      '%2fetc%2fpasswd',
    ];
    // Path forms: every route with each traversal as a further segment, and the bare forms.
    const paths = [
      ...ROUTES.flatMap((r) => dots.flatMap((d) => [`${r.path}/${d}`, `${r.path}${d}`])),
      ...ROUTES.flatMap((r) => [`${r.path}%00../../etc/passwd`, `${r.path};/../../../etc/passwd`]),
      ...dots.map((d) => `/${d}`),
      '//etc/passwd',
      'file:///etc/passwd',
      'http://127.0.0.1/../../../../etc/passwd',
    ];
    const uniquePaths = [...new Set(paths)];
    // Query forms: the names an id or file argument would have, on every GET route.
    const queries = ROUTES.filter((r) => r.method === 'GET').flatMap((r) =>
      ['id', 'file', 'path', 'dir', 'capture', 'name', 'from'].flatMap((name) =>
        [
          '../../../../../../etc/passwd',
          '%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd',
          '/etc/passwd',
          '..%00/etc/passwd',
        ].map((v) => ({ route: r.path, path: `${r.path}?${name}=${v}` })),
      ),
    );

    let through = 0;
    let requests = 0;
    const check = (what: string, res: RawResponse, ok: (r: RawResponse) => boolean) => {
      requests++;
      if (PASSWD.test(res.body) || res.status === 0 || res.status >= 500 || !ok(res)) {
        through++;
        note(what, res);
      }
    };
    const is4xx = (r: RawResponse) => r.status >= 400 && r.status < 500;
    for (const server of [guarded, open])
      for (const path of uniquePaths)
        for (const auth of server === guarded ? [undefined, `Bearer ${TOKEN}`] : [undefined])
          check(`GET ${JSON.stringify(path)}`, await get(server, path, auth), is4xx);

    // A route takes no query arguments: one given is ignored (same answer keys as without it).
    const plainKeys = new Map<string, string>();
    for (const path of new Set(queries.map((q) => q.route))) {
      const auth = path.startsWith('/debug/') ? `Bearer ${TOKEN}` : undefined;
      plainKeys.set(path, Object.keys(jsonBody(await get(guarded, path, auth)) ?? {}).join(','));
    }
    for (const { route, path } of queries) {
      const auth = route.startsWith('/debug/') ? `Bearer ${TOKEN}` : undefined;
      check(`GET ${path}`, await get(guarded, path, auth), (r) =>
        r.status === 200 ? Object.keys(jsonBody(r) ?? {}).join(',') === plainKeys.get(route) : is4xx(r),
      );
    }

    // Request ids: a failing prediction (captured, logged) under traversal-shaped ids.
    const row = {
      amount: 'NaN',
      user_age: 30,
      account_age_days: 10,
      payment_method: 'card',
      country: 'US',
      hour_of_day: 3,
      n_prior_purchases: 1,
      merchant_category: 'travel',
    };
    for (const id of [
      '../../../../etc/passwd',
      '..',
      '.',
      '..%2f..%2fetc%2fpasswd',
      '/etc/passwd',
      `..\\..\\x`,
    ]) {
      const request: RawRequest = {
        method: 'POST',
        path: '/predict',
        headers: { 'content-type': 'application/json', 'x-request-id': id },
        body: JSON.stringify(row),
      };
      check(`POST /predict x-request-id ${id}`, await rawRequest(guarded.port, request), (r) => {
        const echoed = r.headers['x-request-id'] ?? '';
        return r.status === 200 && !/[/\\%]/.test(echoed);
      });
    }
    // Wait for the capture writes to settle (the instrumentation's counters say when).
    type Instrumentation = { capture: { failures: number; written: number; pending: number } };
    for (const until = Date.now() + 15_000; Date.now() < until; ) {
      const c = jsonBody(await get(guarded, '/debug/instrumentation', `Bearer ${TOKEN}`)) as
        | Instrumentation
        | undefined;
      if (c && c.capture.pending === 0 && c.capture.written >= 6) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const captures = await get(guarded, '/debug/captures', `Bearer ${TOKEN}`);
    check('GET /debug/captures after the traversal ids', captures, (r) => r.status === 200);
    // The captures are files named by their generated id inside the capture folder, nothing else.
    const files = readdirSync(join(guarded.dataDir, 'captures'));
    const strays = files.filter((f) => !/^[A-Za-z0-9_-]{1,128}\.json$/.test(f));
    const count = (jsonBody(captures)?.count as number | undefined) ?? -1;

    tally.cases += requests;
    tally.lost += through + strays.length + (count === files.length ? 0 : 1);
    tally.parts.push(
      `${through} of ${requests} traversal requests got through (targets all 4xx, query arguments ignored, ` +
        `request ids never a path: ${files.length} captures, all named by their own id)`,
    );
    expect(tally.through, tally.through.join('\n')).toEqual([]);
    expect(through).toBe(0);
    expect(strays).toEqual([]);
    expect(count).toBe(files.length);
    expect(tally.lost).toBe(0);
  });
});
