import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { artifactsDir } from './paths';

/** Debian's Chromium (`apt-get install chromium`); PLAYWRIGHT_CHROMIUM overrides it. */
export const chromiumPath = process.env['PLAYWRIGHT_CHROMIUM'] ?? '/usr/bin/chromium';

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

/** A person at their own browser profile: a fresh context, one page, at `url`. */
export async function openApp(browser: Browser, url: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-US' });
  const page = await context.newPage();
  await page.goto(url);
  return page;
}

/** Saves the page as `e2e/artifacts/<name>.png`, numbered in the order taken. */
export function screenshots(prefix: string) {
  let step = 0;
  return async (page: Page, name: string): Promise<void> => {
    await mkdir(artifactsDir, { recursive: true });
    step++;
    await page.screenshot({ path: join(artifactsDir, `${prefix}-${String(step).padStart(2, '0')}-${name}.png`) });
  };
}

/**
 * Presses Tab until `target` has focus, as a keyboard user would reach it; fails if it is not
 * reachable within `max` presses.
 */
export async function tabTo(page: Page, target: Locator, max = 60): Promise<void> {
  const handle = await target.elementHandle();
  if (handle === null) throw new Error('tabTo: no such element');
  for (let i = 0; i < max; i++) {
    if (await handle.evaluate((element) => element === document.activeElement)) return;
    await page.keyboard.press('Tab');
  }
  throw new Error(`tabTo: not reached with ${max} presses of Tab`);
}
