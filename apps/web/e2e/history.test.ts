/**
 * One person's long room: the latest page first, older pages when scrolling up (keeping the
 * reader's place), leaving the room, and signing out for good.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { launchBrowser, openApp, screenshots } from './support/browser';
import { ChatServer } from './support/chat-server';

const SEE = { timeout: 20_000 };
/** More than the app's page (50), so that one older page has to be fetched. */
const COUNT = 64;

let server: ChatServer;
let browser: Browser;
let page: Page;
const shot = screenshots('history');

beforeAll(async () => {
  // 64 messages as fast as a script sends them: above a person's default rate limit.
  server = await ChatServer.start({ RATE_LIMIT_MESSAGES: '100/10s' });
  browser = await launchBrowser();
  page = await openApp(browser, server.url);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.[Symbol.asyncDispose]();
});

const log = () => page.getByRole('log', { name: 'Messages' });
const line = (n: number) => `line ${String(n).padStart(2, '0')}`;

it('loads older messages on scrolling up, keeps the place, then leaves the room and signs out (the token is void)', async () => {
  await page.getByRole('textbox', { name: 'Username' }).fill('hana');
  await page.getByRole('textbox', { name: 'Password' }).fill('a long password');
  await page.getByRole('button', { name: 'Sign up' }).click();
  await page.getByRole('button', { name: 'New room' }).click();
  await page.getByRole('textbox', { name: 'Room name' }).fill('Archive');
  await page.getByRole('button', { name: 'Create' }).click();
  await page.getByRole('heading', { level: 1, name: 'Archive' }).waitFor(SEE);

  const box = page.getByRole('textbox', { name: 'Message' });
  for (let n = 1; n <= COUNT; n++) {
    await box.fill(line(n));
    await box.press('Enter');
  }
  await log().getByText(line(COUNT), { exact: true }).waitFor(SEE);
  await expect.poll(() => log().getByText('Sending').count(), SEE).toBe(0);

  // A fresh visit shows the latest page only, scrolled to the newest.
  await page.reload();
  await log().getByText(line(COUNT), { exact: true }).waitFor(SEE);
  expect(await log().getByText(line(1), { exact: true }).count()).toBe(0);
  const firstShown = log().getByText(line(COUNT - 49), { exact: true });
  await firstShown.waitFor(SEE);

  await log().evaluate((element) => (element.scrollTop = 0));
  await log()
    .getByText(line(1), { exact: true })
    .waitFor({ state: 'attached', ...SEE });
  await log()
    .getByText('This is the very beginning of Archive.')
    .waitFor({ state: 'attached', ...SEE });
  // The message that was at the top is still in view: the new page went in above it.
  const box15 = await firstShown.boundingBox();
  const logBox = await log().boundingBox();
  expect(box15 !== null && logBox !== null && box15.y >= logBox.y && box15.y < logBox.y + logBox.height).toBe(true);
  expect(await log().getByRole('listitem').count()).toBe(COUNT);
  await shot(page, 'older-page');

  await page.getByRole('button', { name: 'Leave room' }).click();
  await page.getByRole('dialog', { name: 'Leave Archive?' }).getByRole('button', { name: 'Leave' }).click();
  await page.getByRole('heading', { level: 1, name: 'No room open' }).waitFor(SEE);
  const rooms = page.getByRole('navigation', { name: 'Rooms' });
  expect(await rooms.getByRole('link', { name: 'Archive', exact: true }).count()).toBe(0);

  const token = await page.evaluate(() => localStorage.getItem(localStorage.key(0) ?? ''));
  const me = () => fetch(`${server.url}/trpc/users.me`, { headers: { authorization: `Bearer ${token}` } });
  expect((await me()).status).toBe(200);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('button', { name: 'Sign in' }).waitFor(SEE);
  // Signing out voided the token on the server, not only in this browser.
  expect((await me()).status).toBe(401);
  await page.reload();
  await page.getByRole('button', { name: 'Sign in' }).waitFor(SEE);
  expect(await page.evaluate(() => localStorage.length)).toBe(0);
});
