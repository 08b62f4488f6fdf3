/**
 * The chat app in a real browser against a real chat server: two people, Alice (A) and Bob
 * (B), each in their own browser context. Bob reaches the server through a proxy that can cut
 * his network. Everything is found by its accessible name and checked by what a person sees.
 * Steps run in order and build on each other; screenshots of each go to e2e/artifacts/.
 */
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seriousA11yViolations } from './support/axe';
import { launchBrowser, openApp, screenshots, tabTo } from './support/browser';
import { ChatServer } from './support/chat-server';
import { CutProxy } from './support/cut-proxy';

/** Long enough for a loaded 2-core machine; every wait ends as soon as the page shows the thing. */
const SEE = { timeout: 20_000 };
const TYPING_TIMEOUT_MS = 1_500;

let server: ChatServer;
let bobNetwork: CutProxy;
let browser: Browser;
let alice: Page;
let bob: Page;
const shot = screenshots('chat');

const password = 'correct horse battery';

beforeAll(async () => {
  server = await ChatServer.start({
    TYPING_TIMEOUT_MS: String(TYPING_TIMEOUT_MS),
    HEARTBEAT_INTERVAL_MS: '1000',
    PRESENCE_TIMEOUT_MS: '4000',
    PRESENCE_BATCH_MS: '20',
    IDLE_AFTER_MS: '600000',
  });
  bobNetwork = await CutProxy.start(server.port);
  browser = await launchBrowser();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await bobNetwork?.[Symbol.asyncDispose]();
  await server?.[Symbol.asyncDispose]();
});

const rooms = (page: Page) => page.getByRole('navigation', { name: 'Rooms' });
const members = (page: Page) => page.getByRole('region', { name: 'Members' });
const member = (page: Page, name: string) => members(page).getByRole('listitem').filter({ hasText: name });
const messages = (page: Page) => page.getByRole('log', { name: 'Messages' });
/** The message whose text is `text` (not one quoting it in a reply). */
const message = (page: Page, text: string) =>
  messages(page)
    .getByRole('listitem')
    .filter({ has: page.getByText(text, { exact: true }) });

/** Waits until `locator` matches an element whose text matches `text`. */
async function shows(locator: Locator, text: string | RegExp): Promise<void> {
  await locator.filter({ hasText: text }).first().waitFor(SEE);
}

/** The sign-in screen is up: its "Sign up" button shows. */
async function signInScreen(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Sign up' }).waitFor(SEE);
}

async function expectNoSeriousA11yViolations(page: Page): Promise<void> {
  expect(await seriousA11yViolations(page)).toEqual([]);
}

async function signUp(page: Page, username: string, displayName: string): Promise<void> {
  await page.getByRole('textbox', { name: 'Username' }).fill(username);
  await page.getByRole('textbox', { name: 'Password' }).fill(password);
  await page.getByRole('textbox', { name: 'Display name' }).fill(displayName);
  await page.getByRole('button', { name: 'Sign up' }).click();
  await rooms(page).waitFor(SEE);
}

async function createRoom(page: Page, name: string, people: string): Promise<void> {
  await page.getByRole('button', { name: 'New room' }).click();
  const dialog = page.getByRole('dialog', { name: 'New room' });
  await dialog.getByRole('textbox', { name: 'Room name' }).fill(name);
  await dialog.getByRole('textbox', { name: 'People' }).fill(people);
  await dialog.getByRole('button', { name: 'Create' }).click();
  await page.getByRole('heading', { level: 1, name }).waitFor(SEE);
}

async function send(page: Page, text: string): Promise<void> {
  await page.getByRole('textbox', { name: 'Message' }).fill(text);
  await page.getByRole('button', { name: 'Send' }).click();
}

describe('the chat app, two people in two browsers', () => {
  it('signs up, refuses bad credentials, and keeps the session across a reload', async () => {
    alice = await openApp(browser, server.url);
    await signInScreen(alice);
    await expectNoSeriousA11yViolations(alice);
    await shot(alice, 'sign-in');

    await alice.getByRole('textbox', { name: 'Username' }).fill('alice');
    await alice.getByRole('textbox', { name: 'Password' }).fill('not her password');
    await alice.getByRole('button', { name: 'Sign in' }).click();
    await shows(alice.getByRole('alert'), 'Wrong username or password.');
    await shot(alice, 'bad-credentials');

    await signUp(alice, 'alice', 'Alice');
    await shows(rooms(alice), 'No rooms yet');

    // Bob signs up through his own network, then signs out: he is offline when Alice adds him.
    bob = await openApp(browser, bobNetwork.url);
    await signUp(bob, 'bob', 'Bob');
    await bob.getByRole('button', { name: 'Sign out' }).click();
    await signInScreen(bob);

    await alice.reload();
    await shows(rooms(alice), 'No rooms yet');
  });

  it('creates rooms with people found by username, and shows an absent member offline with when they were last seen', async () => {
    await alice.getByRole('button', { name: 'New room' }).click();
    const dialog = alice.getByRole('dialog', { name: 'New room' });
    await dialog.getByRole('textbox', { name: 'Room name' }).fill('General');
    await dialog.getByRole('textbox', { name: 'People' }).fill('bob, nobody_here');
    await dialog.getByRole('button', { name: 'Create' }).click();
    await shows(dialog.getByRole('alert'), 'No user named “nobody_here”.');
    await dialog.getByRole('button', { name: 'Cancel' }).click();

    await createRoom(alice, 'Random', 'bob');
    await createRoom(alice, 'General', 'bob');
    await shows(member(alice, 'Alice'), 'online');
    await shows(member(alice, 'Bob'), /offline, last seen/);
    await shows(alice.getByRole('main'), '1 online');
    await shot(alice, 'room-created');

    // The room's address survives a reload (the server answers it with the app).
    expect(new URL(alice.url()).pathname).toMatch(/^\/rooms\/\d+$/);
    await alice.reload();
    await alice.getByRole('heading', { level: 1, name: 'General' }).waitFor(SEE);
  });

  it("turns Bob's dot green when he signs in, with the keyboard only", async () => {
    await bob.getByRole('textbox', { name: 'Username' }).focus();
    await bob.keyboard.type('bob');
    await bob.keyboard.press('Tab');
    await bob.keyboard.type(password);
    await bob.keyboard.press('Enter'); // the form's first button: Sign in
    await rooms(bob).waitFor(SEE);
    await tabTo(bob, rooms(bob).getByRole('link', { name: 'General', exact: true }));
    await bob.keyboard.press('Enter');
    await bob.getByRole('heading', { level: 1, name: 'General' }).waitFor(SEE);

    await shows(member(alice, 'Bob'), 'online');
    await expect.poll(() => member(alice, 'Bob').textContent()).not.toContain('last seen');
    await shows(alice.getByRole('main'), '2 online');
    await shot(alice, 'bob-online');
  });

  it('shows who is typing, and stops showing it after the timeout', async () => {
    const typing = bob.getByRole('status');
    await alice.getByRole('textbox', { name: 'Message' }).fill('hello bob');
    await shows(typing, 'Alice is typing…');
    await shot(bob, 'alice-typing');
    // Alice stays in the box without typing more: the server ends it after TYPING_TIMEOUT_MS.
    await expect.poll(() => typing.textContent(), SEE).toBe('');
  });

  it('delivers a message live, and ticks it read once Bob has the room open; unread counts follow', async () => {
    await alice.getByRole('button', { name: 'Send' }).click();
    await message(bob, 'hello bob').waitFor(SEE);
    await shows(message(alice, 'hello bob'), 'Read');

    // In the room Bob does not have open: a badge for him, and only "Sent" for her.
    await rooms(alice).getByRole('link', { name: 'Random', exact: true }).click();
    await send(alice, 'over here');
    await shows(message(alice, 'over here'), 'Sent');
    const random = rooms(bob).getByRole('link', { name: 'Random', exact: true });
    await expect.poll(() => random.getAttribute('aria-describedby'), SEE).toBeTruthy();
    const unreadId = (await random.getAttribute('aria-describedby'))!;
    await expect.poll(() => bob.locator(`[id="${unreadId}"]`).textContent(), SEE).toBe('1 unread message');
    await shot(bob, 'unread-badge');
    expect(await message(alice, 'over here').textContent()).not.toContain('Read');

    await random.click();
    await message(bob, 'over here').waitFor(SEE);
    await shows(message(alice, 'over here'), 'Read');
    await expect.poll(() => random.getAttribute('aria-describedby'), SEE).toBeNull();

    // Bob replies to it, and reacts.
    await message(bob, 'over here').hover();
    await message(bob, 'over here').getByRole('button', { name: 'Reply' }).click();
    await send(bob, 'on my way');
    await shows(message(alice, 'on my way'), 'Reply to Alice: over here');
    await message(bob, 'over here').getByRole('button', { name: 'Add reaction' }).click();
    await bob.getByRole('button', { name: 'React with thumbs up' }).click();
    await message(alice, 'over here').getByRole('button', { name: 'thumbs up: 1' }).waitFor(SEE);
    await shot(alice, 'room-view');
    await expectNoSeriousA11yViolations(alice);
  });

  it('shows Bob "Reconnecting…" while his network is down, then what he missed, in order', async () => {
    bobNetwork.cut();
    await shows(bob.getByRole('alert'), 'Reconnecting…');
    await shot(bob, 'reconnecting');

    for (const text of ['missed one', 'missed two', 'missed three']) {
      await send(alice, text);
      await shows(message(alice, text), 'Sent');
    }
    // What Bob sends meanwhile waits, shown as pending, and goes once he is back.
    await send(bob, 'sent while offline');
    await shows(message(bob, 'sent while offline'), 'Sending');
    bobNetwork.restore();

    await bob.getByRole('alert').waitFor({ state: 'detached', ...SEE });
    await message(bob, 'missed three').waitFor(SEE);
    const shown = await messages(bob).getByRole('listitem').allTextContents();
    const missed = shown.flatMap((text) => text.match(/missed \w+/) ?? []);
    expect(missed).toEqual(['missed one', 'missed two', 'missed three']);
    await message(alice, 'sent while offline').waitFor(SEE);
    await shows(message(bob, 'sent while offline'), /Sent|Delivered|Read/);
    await shot(bob, 'caught-up');
  });

  it('lets Bob set his status from the Status menu with the keyboard, and Alice sees it', async () => {
    await tabTo(bob, bob.getByRole('button', { name: 'Status' }));
    await bob.keyboard.press('Enter');
    const menu = bob.getByRole('menu');
    await menu.waitFor(SEE);
    await expectNoSeriousA11yViolations(bob);
    await shot(bob, 'status-menu');
    await expect.poll(() => bob.evaluate(() => document.activeElement?.textContent)).toContain('Online');
    await bob.keyboard.press('ArrowDown'); // Away
    await bob.keyboard.press('ArrowDown'); // Busy
    await bob.keyboard.press('Enter');
    await menu.waitFor({ state: 'detached', ...SEE });
    await shows(member(alice, 'Bob'), 'busy');

    await bob.getByRole('button', { name: 'Status' }).click();
    await bob.getByRole('menuitem', { name: 'Online' }).click();
    await shows(member(alice, 'Bob'), 'online');
  });

  it('shows Bob a room Alice adds him to as soon as its first message comes, without a reload', async () => {
    await createRoom(alice, 'Launch', 'bob');
    await send(alice, 'welcome aboard');
    await shows(message(alice, 'welcome aboard'), /Sent|Delivered/);
    const launch = rooms(bob).getByRole('link', { name: 'Launch', exact: true });
    await launch.waitFor(SEE);
    await launch.click();
    await message(bob, 'welcome aboard').waitFor(SEE);
  });

  it("turns Bob's dot grey with when he was last seen when he closes the app", async () => {
    await bob.context().close();
    await shows(member(alice, 'Bob'), /offline, last seen just now/);
    await shows(alice.getByRole('main'), '1 online');
    await shot(alice, 'bob-offline');
  });
});
