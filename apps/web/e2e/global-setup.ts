/**
 * Before the browser tests: Chromium must be there, and the chat server and the web app it
 * serves are built as `pnpm start` builds them (turbo: nothing to do when they are current).
 */
import { execFile, spawnSync } from 'node:child_process';
import { access, rm } from 'node:fs/promises';
import { promisify } from 'node:util';
import { chromiumPath } from './support/browser';
import { artifactsDir, repoRoot } from './support/paths';

export default async function setup(): Promise<void> {
  await access(chromiumPath).catch(() => {
    throw new Error(
      `web-e2e: no Chromium at ${chromiumPath}: apt-get install -y chromium (or set PLAYWRIGHT_CHROMIUM)`,
    );
  });
  await rm(artifactsDir, { recursive: true, force: true }); // this run's screenshots only
  const filters = ['--filter=@streampod/chat-server', '--filter=@streampod/web'];
  // Through pnpm: turbo wants the package manager on PATH, which a bare `vitest` run lacks.
  const [command, args] = pnpm(['exec', 'turbo', 'run', 'build', ...filters, '--output-logs=errors-only']);
  await promisify(execFile)(command, args, { cwd: repoRoot, maxBuffer: 16 * 1024 * 1024 });
}

/** pnpm as the test runner was started with, else the one on PATH, else the README's `npx -y pnpm@10`. */
function pnpm(args: string[]): [string, string[]] {
  const execPath = process.env['npm_execpath'];
  if (execPath !== undefined && /pnpm/.test(execPath)) return [process.execPath, [execPath, ...args]];
  return spawnSync('pnpm', ['--version']).status === 0 ? ['pnpm', args] : ['npx', ['-y', 'pnpm@10', ...args]];
}
