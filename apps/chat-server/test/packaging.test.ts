/**
 * The published packages, installed as a stranger would: `pnpm pack` each one, `npm install`
 * the tarballs into a project outside the workspace, type-check a consumer strictly under
 * `moduleResolution` bundler and NodeNext, and run it on Node against a real chat server.
 */
import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { itWithDatabase as it, startChatTestServer } from '@streampod/server/testing';
import { afterAll, beforeAll, expect } from 'vitest';
import { pnpmCommand } from './chat-server-process.js';

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '../../..');
const published = ['framework', 'protocol', 'client'];

let project: string;
beforeAll(async () => {
  project = await mkdtemp(join(tmpdir(), 'streampod-consumer-'));
  const packs = join(project, 'packs');
  for (const name of published) {
    const [command, args] = pnpmCommand(['pack', '--pack-destination', packs]);
    await run(command, args, { cwd: join(repo, 'packages', name) });
  }
  const tarballs = (await readdir(packs)).map((file) => `./packs/${file}`);
  await writeFile(
    join(project, 'package.json'),
    JSON.stringify({ name: 'consumer', private: true, type: 'module' }, null, 2),
  );
  const strict = { strict: true, noUncheckedIndexedAccess: true, target: 'ES2022', types: ['node'] };
  // A Node program: no DOM. @trpc/client's declarations name DOM's fetch types, so only
  // the browser-like config below checks declaration files too.
  await writeFile(
    join(project, 'tsconfig.nodenext.json'),
    JSON.stringify({
      compilerOptions: {
        ...strict,
        lib: ['ES2023'],
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        outDir: 'out',
        skipLibCheck: true,
      },
      files: ['main.ts'],
    }),
  );
  // A bundled app: DOM types, and every declaration file checked, ours included.
  await writeFile(
    join(project, 'tsconfig.bundler.json'),
    JSON.stringify({
      compilerOptions: {
        ...strict,
        lib: ['ES2023', 'DOM'],
        module: 'ESNext',
        moduleResolution: 'bundler',
        noEmit: true,
        skipLibCheck: false,
      },
      files: ['main.ts'],
    }),
  );
  await copyFile(join(here, 'consumer/main.ts'), join(project, 'main.ts'));
  // Plain npm, from the registry, as a user outside this repository would.
  await run(
    'npm',
    ['install', '--no-audit', '--no-fund', '--loglevel=error', ...tarballs, 'ws@8', 'typescript@5.9', '@types/node@20'],
    {
      cwd: project,
    },
  );
}, 300_000);
afterAll(() => (project === undefined ? undefined : rm(project, { recursive: true, force: true })));

async function tsc(config: string): Promise<string> {
  try {
    await run(process.execPath, [join(project, 'node_modules/typescript/bin/tsc'), '-p', config], { cwd: project });
    return '';
  } catch (error) {
    return (error as { stdout?: string }).stdout ?? String(error);
  }
}

it('type-checks strictly under moduleResolution bundler', { timeout: 120_000 }, async () => {
  expect(await tsc('tsconfig.bundler.json')).toBe('');
});

it(
  'type-checks strictly under NodeNext, and runs on Node against a real server',
  { timeout: 120_000 },
  async ({ database }) => {
    expect(await tsc('tsconfig.nodenext.json')).toBe('');
    await using chat = await startChatTestServer({ database });
    const { stdout } = await run(process.execPath, ['out/main.js'], {
      cwd: project,
      env: { ...process.env, CHAT_URL: chat.url },
    });
    // The last line is the consumer's; the lines before are its server's logs.
    expect(JSON.parse(stdout.trim().split('\n').at(-1) ?? '')).toEqual({
      greeting: 'hello, npm',
      counted: [1, 2, 3],
      me: true,
    });
  },
);
