import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { chromium, type Page } from 'playwright-core';

const executablePath = '/usr/bin/chromium';

/**
 * Whether the browser tests run: CI installs Debian's chromium (and fails without it); elsewhere
 * they are skipped, visibly.
 */
export const chromiumAvailable = existsSync(executablePath) || Boolean(process.env.CI);

/**
 * Opens an HTML file in headless Chromium, runs `check` on the page, and returns the console errors
 * and page errors seen meanwhile.
 */
export async function inChromium(file: string, check: (page: Page) => Promise<void>): Promise<string[]> {
  const browser = await chromium.launch({
    executablePath,
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
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
    await check(page);
    return errors;
  } finally {
    await browser.close();
  }
}
