import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { pnpmCommand } from './chat-server-process.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

it('`pnpm start` from the root builds, serves, and stops cleanly on SIGTERM', { timeout: 180_000 }, async () => {
  const [command, args] = pnpmCommand(['start']);
  const child = spawn(command, args, {
    cwd: repoRoot,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', DATA_DIR: await mkdtemp(join(tmpdir(), 'streampod-start-')) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const messages: string[] = [];
  const url = await new Promise<string>((resolveUrl, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (!line.startsWith('{')) return; // turbo's build output
      const entry = JSON.parse(line) as { msg: string; url?: string };
      messages.push(entry.msg);
      if (String(entry.msg).startsWith('chat server listening') && entry.url !== undefined) resolveUrl(entry.url);
    });
    child.once('exit', (code) => reject(new Error(`pnpm start exited early with ${code}`)));
    child.once('error', reject);
  });
  const health = await fetch(`${url}/healthz`);
  expect(health.status).toBe(200);

  const closed = once(child, 'close');
  child.kill('SIGTERM');
  const [code] = (await closed) as [number | null];
  expect(code).toBe(0);
  expect(messages.slice(-2)).toEqual(['stopping', 'server stopped']);
});
