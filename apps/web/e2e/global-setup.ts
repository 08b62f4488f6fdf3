/**
 * Before the browser tests: Chromium must be there, and the chat server and the web app it
 * serves are built as `pnpm start` builds them.
 */
import { access, rm } from 'node:fs/promises';
import { chromiumPath } from './support/browser';
import { buildServerAndApp } from './support/build';
import { artifactsDir } from './support/paths';

export default async function setup(): Promise<void> {
  await access(chromiumPath).catch(() => {
    throw new Error(
      `web-e2e: no Chromium at ${chromiumPath}: apt-get install -y chromium (or set PLAYWRIGHT_CHROMIUM)`,
    );
  });
  await rm(artifactsDir, { recursive: true, force: true }); // this run's screenshots only
  await buildServerAndApp();
}
