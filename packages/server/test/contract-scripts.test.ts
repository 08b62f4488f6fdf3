import { execFile } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { ContractSnapshot } from '@streampod/framework/codegen';

const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const committedSnapshot = resolve(packageDir, '../../contract/api.json');
const committedClient = resolve(packageDir, '../client/src/generated/api.ts');

/** Runs the package's codegen script as CI does (`generate …` or `contract …`); resolves with its exit code and output. */
function run(command: 'generate' | 'contract', args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolveRun) => {
    execFile(
      process.execPath,
      ['--conditions=@streampod/source', '--import', 'tsx', 'scripts/codegen.ts', command, ...args],
      { cwd: packageDir },
      (error, stdout, stderr) => resolveRun({ code: error === null ? 0 : Number(error.code), output: stdout + stderr }),
    );
  });
}

async function snapshotWith(edit: (snapshot: ContractSnapshot) => void): Promise<string> {
  const snapshot = JSON.parse(await readFile(committedSnapshot, 'utf8')) as ContractSnapshot;
  edit(snapshot);
  const file = join(await mkdtemp(join(tmpdir(), 'streampod-contract-')), 'api.json');
  await writeFile(file, JSON.stringify(snapshot));
  return file;
}

describe('pnpm contract:check', () => {
  it('passes when the API matches the committed snapshot', async () => {
    const { code, output } = await run('contract', ['check']);
    expect(code).toBe(0);
    expect(output).toContain('API matches');
  });

  it('fails on a breaking change: an output field the snapshot promised is gone', async () => {
    const file = await snapshotWith((s) => {
      const output = s.procedures['users.me']!.output as { properties: object; required: string[] };
      output.properties = { ...output.properties, email: { type: 'string' } };
      output.required.push('email');
    });
    const { code, output } = await run('contract', ['check', '--snapshot', file]);
    expect(code).toBe(1);
    expect(output).toMatch(/BREAKING +users\.me +output\.properties\.email/);
    expect(output).toContain('1 breaking change(s)');
  });

  it('fails when a procedure disappears (or is renamed)', async () => {
    const file = await snapshotWith((s) => {
      s.procedures['users.whoami'] = s.procedures['users.me']!;
    });
    const { code, output } = await run('contract', ['check', '--snapshot', file]);
    expect(code).toBe(1);
    expect(output).toMatch(/BREAKING +users\.whoami/);
  });

  it('fails when a stream stops (or starts) carrying tracked ids: stock clients would get other events', async () => {
    const file = await snapshotWith((s) => {
      s.procedures['chat.stream']!.tracked = false;
    });
    const { code, output } = await run('contract', ['check', '--snapshot', file]);
    expect(code).toBe(1);
    expect(output).toMatch(/BREAKING +chat\.stream +tracked: events now carry tracked ids/);
  });

  it('accepts a compatible change (a new procedure) and says how to record it', async () => {
    const file = await snapshotWith((s) => {
      delete s.procedures['users.me'];
    });
    const { code, output } = await run('contract', ['check', '--snapshot', file]);
    expect(code).toBe(0);
    expect(output).toMatch(/compatible +users\.me/);
    expect(output).toContain('only compatible changes');
  });
});

describe('pnpm generate --check', () => {
  it('passes on the committed client and fails on a stale one', async () => {
    expect((await run('generate', ['--check'])).code).toBe(0);
    const stale = join(await mkdtemp(join(tmpdir(), 'streampod-client-')), 'api.ts');
    await writeFile(stale, (await readFile(committedClient, 'utf8')).replace(/ {4}me: .*\n/, ''));
    const { code, output } = await run('generate', ['--check', '--out', stale]);
    expect(code).toBe(1);
    expect(output).toContain('is stale');
  });
});
