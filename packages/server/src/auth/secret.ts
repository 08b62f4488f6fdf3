import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The token secret: `configured` when given (AUTH_SECRET), else one generated on first
 * start and kept in `<dataDir>/auth-secret` (mode 0600) so tokens survive restarts.
 */
export async function loadAuthSecret(configured: string | undefined, dataDir: string): Promise<Uint8Array> {
  if (configured !== undefined && configured !== '') {
    const bytes = new TextEncoder().encode(configured);
    if (bytes.length < 32) throw new Error('AUTH_SECRET must be at least 32 bytes long');
    return bytes;
  }
  const file = join(dataDir, 'auth-secret');
  try {
    return Buffer.from((await readFile(file, 'utf8')).trim(), 'base64url');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
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
