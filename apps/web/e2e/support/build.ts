import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { repoRoot } from './paths';

/** Builds the chat server and the web app as `pnpm start` does (turbo: nothing to do when they are current). */
export async function buildServerAndApp(): Promise<void> {
  const filters = ['--filter=@streampod/chat-server', '--filter=@streampod/web'];
  // Through pnpm: turbo wants the package manager on PATH, which a bare `vitest` or `tsx` run lacks.
  const [command, args] = pnpm(['exec', 'turbo', 'run', 'build', ...filters, '--output-logs=errors-only']);
  await promisify(execFile)(command, args, { cwd: repoRoot, maxBuffer: 16 * 1024 * 1024 });
}

/** pnpm as the test runner was started with, else the one on PATH, else the README's `npx -y pnpm@10`. */
function pnpm(args: string[]): [string, string[]] {
  const execPath = process.env['npm_execpath'];
  if (execPath !== undefined && /pnpm/.test(execPath)) return [process.execPath, [execPath, ...args]];
  return spawnSync('pnpm', ['--version']).status === 0 ? ['pnpm', args] : ['npx', ['-y', 'pnpm@10', ...args]];
}
