import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import type { DB } from '../db/index.js';

/**
 * The token secret: `configured` when given (AUTH_SECRET), else one generated on first
 * start and kept in `<dataDir>/auth-secret` (mode 0600) so tokens survive restarts. With
 * `shared` (several nodes), the generated secret lives in the shared database instead, so
 * every node signs and checks with the same one; the first node to get there brings its
 * data dir's secret, if it has one, so the tokens it issued keep working.
 */
export async function loadAuthSecret(
  configured: string | undefined,
  dataDir: string,
  shared?: Kysely<DB>,
): Promise<Uint8Array> {
  if (configured !== undefined && configured !== '') {
    const bytes = new TextEncoder().encode(configured);
    if (bytes.length < 32) throw new Error('AUTH_SECRET must be at least 32 bytes long');
    return bytes;
  }
  if (shared !== undefined) {
    const own = await readSecretFile(dataDir);
    await shared
      .insertInto('settings')
      .values({ key: 'auth-secret', value: Buffer.from(own ?? randomBytes(48)).toString('base64url') })
      .onConflict((oc) => oc.column('key').doNothing())
      .execute();
    const row = await shared
      .selectFrom('settings')
      .select('value')
      .where('key', '=', 'auth-secret')
      .executeTakeFirstOrThrow();
    return Buffer.from(row.value, 'base64url');
  }
  return (await readSecretFile(dataDir)) ?? createSecretFile(dataDir);
}

async function readSecretFile(dataDir: string): Promise<Uint8Array | undefined> {
  try {
    return Buffer.from((await readFile(join(dataDir, 'auth-secret'), 'utf8')).trim(), 'base64url');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    return undefined;
  }
}

async function createSecretFile(dataDir: string): Promise<Uint8Array> {
  const file = join(dataDir, 'auth-secret');
  await mkdir(dataDir, { recursive: true });
  const secret = randomBytes(48);
  // `wx` fails if another process created it first: then read theirs.
  try {
    await writeFile(file, secret.toString('base64url'), { mode: 0o600, flag: 'wx' });
    return secret;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return Buffer.from((await readFile(file, 'utf8')).trim(), 'base64url');
  }
}
