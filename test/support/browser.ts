import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, ConsoleMessage, Page } from 'puppeteer-core';
import { findChromium, launchChromium } from '../../tools/chromium';
import type { TestCluster } from './cluster';

/**
 * Real-browser tests (issue 15): the system's Chromium, headless, driven by puppeteer-core (which
 * downloads no browser). CI installs Debian's `chromium` (.ci/run) and sets CHROMIUM_PATH; without
 * a browser the suites fail, naming what to install.
 */

const ROOT = join(__dirname, '..', '..');
/** Where the browser tests leave their screenshots (linked from docs/results.md), overwritten each run. */
export const SCREENSHOTS = join(ROOT, 'docs', 'screenshots');
/** Where the gateway serves the fault lab. */
export const LAB_PATH = process.env.LAB_PATH ?? '/';

/**
 * `describe` when there is a browser. Without one, a suite whose one test fails saying what to
 * install: a test that cannot run is a failure, never a skip or a silent pass (`.ci/run` installs
 * Debian's `chromium`; on another machine, install it or set CHROMIUM_PATH).
 */
export function describeWithBrowser(name: string, body: () => void): void {
  const chromium = findChromium();
  if ('path' in chromium) {
    describe(name, body);
    return;
  }
  const why = `${chromium.missing} (Debian: apt-get install chromium, or set CHROMIUM_PATH)`;
  describe(name, () => {
    it('needs Chromium', () => {
      throw new Error(`the browser tests cannot run: ${why}`);
    });
  });
}

/** The system's Chromium, headless (tools/chromium.ts). */
export const launchBrowser = launchChromium;

/** What went wrong in a page: console errors (failed loads and fetches included) and uncaught exceptions. */
export class PageErrors {
  readonly errors: string[] = [];

  constructor(page: Page) {
    page.on('console', (m: ConsoleMessage) => {
      if (m.type() !== 'error') return;
      const url = m.location()?.url ?? '';
      if (/\/favicon\.ico$/.test(url)) return; // the browser's own guess, not the page's
      this.errors.push(`console.error: ${m.text()}${url ? ` (${url})` : ''}`);
    });
    page.on('pageerror', (err: unknown) => this.errors.push(`uncaught: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`));
  }

  /** Throws listing every error seen so far. */
  assertNone(): void {
    if (this.errors.length > 0) throw new Error(`the page reported ${this.errors.length} error(s):\n${this.errors.join('\n')}`);
  }
}

export interface OpenPage {
  page: Page;
  errors: PageErrors;
}

/** A new tab on `path` of the cluster's gateway, its errors collected from the first request on. */
export async function openPage(browser: Browser, c: TestCluster, path = '/'): Promise<OpenPage> {
  const page = await browser.newPage();
  const errors = new PageErrors(page);
  page.setDefaultTimeout(15_000);
  await page.goto(c.url + path, { waitUntil: 'domcontentloaded' });
  return { page, errors };
}

/** The fault lab, once its event stream says "connected". */
export async function openLab(browser: Browser, c: TestCluster): Promise<OpenPage> {
  const open = await openPage(browser, c, LAB_PATH);
  await waitForText(open.page, '#stream-status', /connected/i, 15_000).catch((err) => {
    throw new Error(`${String(err)}\n${open.errors.errors.join('\n')}`, { cause: err });
  });
  return open;
}

/** Saves docs/screenshots/<name>.png (overwriting it); returns the path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, name.endsWith('.png') ? name : `${name}.png`);
  await page.screenshot({ path: path as `${string}.png`, fullPage: true });
  return path;
}

/** Waits until the first element matching `selector` has text matching `re`; returns the text. */
export async function waitForText(page: Page, selector: string, re: RegExp, timeoutMs = 10_000): Promise<string> {
  try {
    await page.waitForFunction(
      (sel: string, source: string, flags: string) => {
        const el = (globalThis as any).document.querySelector(sel);
        return el !== null && new RegExp(source, flags).test(el.textContent ?? '');
      },
      { timeout: timeoutMs, polling: 50 },
      selector,
      re.source,
      re.flags,
    );
  } catch {
    const now = await page.$eval(selector, (el: any) => String(el.textContent)).catch(() => '(no such element)');
    throw new Error(`timed out after ${timeoutMs} ms waiting for ${selector} to match ${re}: it says ${JSON.stringify(now.trim().slice(0, 300))}`);
  }
  return page.$eval(selector, (el: any) => String(el.textContent));
}

/** An attribute of the first element matching `selector` (null: no element or no attribute). */
export function attr(page: Page, selector: string, name: string): Promise<string | null> {
  return page.evaluate(
    (sel: string, a: string) => {
      const el = (globalThis as any).document.querySelector(sel);
      return el === null ? null : (el.getAttribute(a) as string | null);
    },
    selector,
    name,
  );
}
