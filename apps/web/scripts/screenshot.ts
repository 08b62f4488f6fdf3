/**
 * The README's picture of the app: `pnpm --filter @streampod/web screenshot` builds what
 * `pnpm start` builds, starts the chat server on a free port with a throwaway database, acts
 * out a small team's morning in four browser contexts, and saves Alice's screen (1280×800)
 * as docs/screenshot.png. Emoji need a colour emoji font (Debian: fonts-noto-color-emoji).
 */
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, openApp } from '../e2e/support/browser';
import { buildServerAndApp } from '../e2e/support/build';
import { ChatServer } from '../e2e/support/chat-server';
import { repoRoot } from '../e2e/support/paths';

const password = 'screenshot password';
const wait = { timeout: 20_000 };

async function signUp(browser: Browser, url: string, who: { username: string; displayName: string }): Promise<Page> {
  const { username, displayName } = who;
  const page = await openApp(browser, url);
  await page.getByRole('textbox', { name: 'Username' }).fill(username);
  await page.getByRole('textbox', { name: 'Password' }).fill(password);
  await page.getByRole('textbox', { name: 'Display name' }).fill(displayName);
  await page.getByRole('button', { name: 'Sign up' }).click();
  await page.getByRole('navigation', { name: 'Rooms' }).waitFor(wait);
  return page;
}

async function createRoom(page: Page, name: string, people: string): Promise<void> {
  await page.getByRole('button', { name: 'New room' }).click();
  await page.getByRole('textbox', { name: 'Room name' }).fill(name);
  await page.getByRole('textbox', { name: 'People' }).fill(people);
  await page.getByRole('button', { name: 'Create' }).click();
  await page.getByRole('heading', { level: 1, name }).waitFor(wait);
}

async function openRoom(page: Page, name: string): Promise<void> {
  await page.getByRole('navigation', { name: 'Rooms' }).getByRole('link', { name, exact: true }).click();
  await page.getByRole('heading', { level: 1, name }).waitFor(wait);
}

async function say(page: Page, text: string): Promise<void> {
  await page.getByRole('textbox', { name: 'Message' }).fill(text);
  await page.getByRole('textbox', { name: 'Message' }).press('Enter');
  await page.getByRole('log', { name: 'Messages' }).getByText(text, { exact: true }).waitFor(wait);
}

function message(page: Page, text: string) {
  return page
    .getByRole('log', { name: 'Messages' })
    .getByRole('listitem')
    .filter({ has: page.getByText(text, { exact: true }) });
}

async function main(): Promise<void> {
  await buildServerAndApp();
  await using server = await ChatServer.start({ TYPING_TIMEOUT_MS: '60000', PRESENCE_BATCH_MS: '20' });
  const browser = await launchBrowser();
  try {
    const dave = await signUp(browser, server.url, { username: 'dave', displayName: 'Dave Ito' });
    const carol = await signUp(browser, server.url, { username: 'carol', displayName: 'Carol Chen' });
    const bob = await signUp(browser, server.url, { username: 'bob', displayName: 'Bob Okafor' });
    const alice = await signUp(browser, server.url, { username: 'alice', displayName: 'Alice Moreau' });
    await createRoom(alice, 'design', 'bob carol');
    await createRoom(alice, 'random', 'bob carol dave');
    await createRoom(alice, 'general', 'bob carol dave');
    for (const page of [bob, carol, dave]) await page.reload();
    await dave.getByRole('button', { name: 'Sign out' }).click();

    await openRoom(bob, 'general');
    await openRoom(carol, 'general');
    await say(alice, 'Morning all! The release candidate is up on staging.');
    await say(bob, 'Nice. Presence looks instant now, even with the batching window.');
    await say(carol, 'Checked the reconnect path on a flaky Wi-Fi: missed messages came back in order 🎉');
    await say(alice, 'That was the gap-free resume. Anyone seen a duplicate since?');
    await message(bob, 'That was the gap-free resume. Anyone seen a duplicate since?').hover();
    await message(bob, 'That was the gap-free resume. Anyone seen a duplicate since?')
      .getByRole('button', { name: 'Reply' })
      .click();
    await say(bob, 'None here. Shipping it after lunch?');
    for (const [page, text, emoji] of [
      [bob, 'Checked the reconnect path on a flaky Wi-Fi: missed messages came back in order 🎉', 'party'],
      [alice, 'Checked the reconnect path on a flaky Wi-Fi: missed messages came back in order 🎉', 'party'],
      [carol, 'None here. Shipping it after lunch?', 'thumbs up'],
    ] as const) {
      await message(page, text).getByRole('button', { name: 'Add reaction' }).click();
      await page.getByRole('button', { name: `React with ${emoji}` }).click();
    }
    await carol.getByRole('button', { name: 'Status' }).click();
    await carol.getByRole('menuitem', { name: 'Away' }).click();
    await openRoom(bob, 'design');
    await say(bob, 'Mock-ups for the member list are in the design doc.');
    await openRoom(bob, 'general');
    await bob.getByRole('textbox', { name: 'Message' }).fill('Sounds good to');

    await alice.getByRole('status').getByText('Bob Okafor is typing…').waitFor(wait);
    await alice
      .getByRole('region', { name: 'Members' })
      .getByRole('listitem')
      .filter({ hasText: 'Carol Chen' })
      .getByText('away')
      .waitFor(wait);
    await alice.getByText('1 unread message').waitFor({ state: 'attached', ...wait });
    await alice.mouse.move(640, 780); // no message's hover toolbar in the picture
    await alice.getByRole('textbox', { name: 'Message' }).focus();
    const path = join(repoRoot, 'docs/screenshot.png');
    await alice.screenshot({ path });
    console.log(`saved ${path}`);
  } finally {
    await browser.close();
  }
}

await main();
