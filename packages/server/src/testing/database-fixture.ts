import { test } from 'vitest';
import { openDatabase, type Database } from '../db/index.js';

/**
 * `it` with a `database` fixture: one embedded database (PGlite in memory) per test file,
 * opened for the first test that asks for it and closed after the file's last test.
 * Opening one costs more than most tests, and each test makes its own users and rooms.
 *
 * ```ts
 * import { itWithDatabase as it } from '@streampod/server/testing';
 * it('…', async ({ database }) => { await using server = await startChatTestServer({ database }); });
 * ```
 */
// eslint-disable-next-line no-empty-pattern -- vitest reads what a fixture depends on from this pattern: nothing
export const itWithDatabase = test.extend('database', { scope: 'file' }, async ({}, { onCleanup }) => {
  const database: Database = await openDatabase({ dataDir: 'memory' });
  onCleanup(() => database.close());
  return database;
});
