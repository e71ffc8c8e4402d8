import { existsSync } from 'node:fs';
import puppeteer, { type Browser } from 'puppeteer-core';

/**
 * The system's Chromium, headless, through puppeteer-core (which downloads no browser): the fault
 * lab's browser tests (test/support/browser.ts) and its frame benchmark (tools/bench/lab-frames.ts).
 * CI installs Debian's `chromium` (.ci/run) and sets CHROMIUM_PATH.
 */

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

/** The browser's path, or why there is none. CHROMIUM_PATH, when set, must name one. */
export function findChromium(): { path: string } | { missing: string } {
  const env = process.env.CHROMIUM_PATH;
  if (env) return existsSync(env) ? { path: env } : { missing: `CHROMIUM_PATH=${env} does not exist` };
  const found = CANDIDATES.find((p) => existsSync(p));
  return found ? { path: found } : { missing: `no Chromium at ${CANDIDATES.join(', ')} and CHROMIUM_PATH is not set` };
}

/** Headless, no sandbox (containers, root), no GPU, /tmp instead of a small /dev/shm. */
export async function launchChromium(): Promise<Browser> {
  const chromium = findChromium();
  if (!('path' in chromium)) throw new Error(`${chromium.missing} (Debian: apt-get install chromium, or set CHROMIUM_PATH)`);
  return puppeteer.launch({
    executablePath: chromium.path,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--window-size=1400,1000'],
    defaultViewport: { width: 1400, height: 1000 },
    protocolTimeout: 60_000,
  });
}
