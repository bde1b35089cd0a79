import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { compare } from './compare.js';
import { renderHtml, renderMarkdown, renderText } from './render.js';

function rows(n: number, seed: number, shift: number, methods: string[]) {
  let s = seed;
  const r = () => {
    s = (s * 16807) % 2147483647;
    return s / 2147483647;
  };
  return Array.from({ length: n }, () => ({
    amount: 50 + 10 * (r() + r() + r()) + shift,
    method: methods[Math.floor(r() * methods.length)]!,
    note: '<script>alert(1)</script>',
  }));
}

const report = compare(
  [...rows(300, 1, 0, ['card', 'cash']), { amount: 1, method: 'card', note: 'x', old: 1 }],
  rows(300, 2, 8, ['card', 'cash', 'buy_now_pay_later']),
);
const charted = report.fields.filter((f) => f.chart !== null).length;

describe('renderers', () => {
  it('text lists every field with its verdict and the warnings', () => {
    const text = renderText(report);
    expect(text).toMatch(/^DATASET DRIFT|^no dataset drift/);
    for (const f of report.fields) expect(text).toContain(f.name);
    expect(text).toContain('[unseen_categories]');
    // Fields that were not compared, with their reason in full.
    expect(text).toContain('\nnot compared\n  old: field not in current\n');
    expect(text).not.toContain('\u001b[');
    expect(renderText(report, { color: true })).toContain('\u001b[31m');
  });

  it('markdown has a table and the explanation of drifted fields', () => {
    const md = renderMarkdown(report);
    expect(md).toContain('| field | kind | status');
    expect(md).toContain('## amount — drift');
    expect(md).toContain('| PSI bin | reference | current | contribution |');
    expect(md).toContain('buy_now_pay_later');
  });

  it('html is self-contained and escapes field values', () => {
    const html = renderHtml(report);
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
    expect(html).toContain('&lt;script&gt;');
    expect(html.match(/<svg class="chart"/g)).toHaveLength(charted);
  });

  it('a date field reads as dates: the reason in text, the chart axis in html', () => {
    const day = 86_400_000;
    const dated = (start: number) =>
      Array.from({ length: 200 }, (_, i) => ({ at: new Date(start + i * day), v: i % 5 }));
    const r = compare(dated(Date.UTC(2012, 0, 1)), dated(Date.UTC(2014, 0, 1)));
    expect(renderText(r)).toContain('at: a date field, not tested');
    const html = renderHtml(r);
    const section = html.slice(html.indexOf('<h2>at '), html.indexOf('</section>', html.indexOf('<h2>at ')));
    expect(section).toMatch(/<text[^>]*>2012-01-0\d<\/text>/);
    expect(section).toMatch(/<text[^>]*text-anchor="end">2014-07-1\d<\/text>/);
    expect(section).toContain('<tr><td>min</td><td>2012-01-01</td><td>2014-01-01</td></tr>');
    expect(section).toContain('<tr><td>std</td><td>57.9 days</td><td>57.9 days</td></tr>');
    expect(section).not.toMatch(/e\+12/);
  });

  // CI installs Debian's chromium (and fails here without it); elsewhere the test is skipped, visibly.
  const chromiumPath = '/usr/bin/chromium';
  it.skipIf(!existsSync(chromiumPath) && !process.env.CI)(
    `html renders in headless Chromium with one chart per compared field and no console errors${existsSync(chromiumPath) ? '' : ' (skipped: /usr/bin/chromium not installed)'}`,
    async () => {
      const browser = await chromium.launch({
        executablePath: chromiumPath,
        args: [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-quic',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
        ],
      });
      try {
        const page = await browser.newPage();
        const errors: string[] = [];
        const requests: string[] = [];
        page.on('console', (m) => {
          if (m.type() === 'error') errors.push(m.text());
        });
        page.on('pageerror', (e) => errors.push(e.message));
        page.on('request', (r) => {
          if (!r.url().startsWith('data:') && r.url() !== 'about:blank') requests.push(r.url());
        });
        await page.setContent(renderHtml(report), { waitUntil: 'load' });
        const charts = await page.$$eval('svg.chart', (els) =>
          els.map((e) => ({
            field: e.getAttribute('data-field'),
            w: e.getBoundingClientRect().width,
            rects: e.querySelectorAll('rect').length,
          })),
        );
        expect(charts.map((c) => c.field).sort()).toEqual(
          report.fields
            .filter((f) => f.chart)
            .map((f) => f.name)
            .sort(),
        );
        expect(charts.every((c) => c.w > 100 && c.rects > 2)).toBe(true);
        expect(await page.$$eval('table.ranking tr', (trs) => trs.length)).toBe(report.fields.length + 1);
        expect(await page.title()).toBe('Drift report');
        expect(errors).toEqual([]);
        expect(requests).toEqual([]);
      } finally {
        await browser.close();
      }
    },
  );
});
