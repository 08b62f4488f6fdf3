import { randomBytes } from 'node:crypto';
import { isAbortedTransactionError, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from './database.js';
import { databaseInputError } from './input-errors.js';
import { migrations } from './migrations/index.js';
import type { NewUser } from './schema.js';

/** A username unique across test runs, because on-disk and Postgres storage outlive a test. */
function uniqueName(prefix: string): string {
  return `${prefix}_${randomBytes(4).toString('hex')}`;
}

function newUser(username: string): NewUser {
  return {
    username,
    usernameKey: username.toLowerCase(),
    displayName: `Display ${username}`,
    passwordHash: 'hash',
  };
}

/** A promise with its resolver exposed, to order steps across concurrent tasks without sleeps. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = () => {};
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/**
 * Behaviour every engine must share. The cases share one database from `open` (their rows
 * never collide) and open a second one to test close(); `open` must therefore allow two
 * instances at once, e.g. a fresh PGlite directory per call.
 */
export function databaseCases(name: string, open: () => Promise<Database>): void {
  describe(name, () => {
    let shared: Database | undefined;
    const database = (): Database => {
      if (!shared) throw new Error('database not opened');
      return shared;
    };

    beforeAll(async () => {
      shared = await open();
    });
    afterAll(async () => {
      await shared?.close();
    });

    it('has applied every migration and created users with snake_case columns', async () => {
      const { db } = database();
      const applied = await sql<{ name: string }>`select name from kysely_migration`.execute(db);
      expect(applied.rows.map((r) => r.name).sort()).toEqual(Object.keys(migrations).sort());

      const columnsQuery = sql<{ columnName: string }>`
        select column_name from information_schema.columns
        where table_schema = 'public' and table_name = 'users'
        order by ordinal_position`;
      const columns = await columnsQuery.execute(db);
      expect(columns.rows.map((r) => r.columnName)).toEqual([
        'id',
        'username',
        'username_key',
        'display_name',
        'avatar_url',
        'password_hash',
        'created_at',
        'last_seen_at',
        'token_epoch',
      ]);
    });

    it('round-trips a user with camelCase fields and Date timestamps', async () => {
      const { db } = database();
      const username = uniqueName('Alice');
      const lastSeenAt = new Date('2024-05-06T07:08:09.123Z');
      const { id } = await db
        .insertInto('users')
        .values({ ...newUser(username), avatarUrl: 'https://example.test/a.png', lastSeenAt })
        .returning('id')
        .executeTakeFirstOrThrow();
      expect(typeof id).toBe('number');

      const row = await db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
      expect(row).toEqual({
        id,
        username,
        usernameKey: username.toLowerCase(),
        displayName: `Display ${username}`,
        avatarUrl: 'https://example.test/a.png',
        passwordHash: 'hash',
        createdAt: expect.any(Date) as Date,
        lastSeenAt,
        tokenEpoch: 0,
      });
      // A wrong time-zone mapping would be off by hours.
      expect(Math.abs(row.createdAt.getTime() - Date.now())).toBeLessThan(60_000);
    });

    it('rejects a username differing only in case with a unique violation (23505)', async () => {
      const { db } = database();
      const username = uniqueName('Bob');
      await db.insertInto('users').values(newUser(username)).execute();

      await expect(db.insertInto('users').values(newUser(username.toUpperCase())).execute()).rejects.toMatchObject({
        code: '23505',
      });
      const rows = await db
        .selectFrom('users')
        .select('username')
        .where('usernameKey', '=', username.toLowerCase())
        .execute();
      expect(rows).toEqual([{ username }]);
    });

    it('refuses a NUL in text with an error the server answers as BAD_REQUEST, not a 500', async () => {
      const { db } = database();
      const error: unknown = await db
        .insertInto('users')
        .values(newUser(uniqueName('Nul\u0000')))
        .execute()
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      const answer = databaseInputError(error);
      expect(answer).toMatchObject({ code: 'BAD_REQUEST' });
      expect(answer?.message).toMatch(/NUL/);
      expect(databaseInputError(new Error('connection reset'))).toBeUndefined();
    });

    it('rolls back a transaction that throws', async () => {
      const { db } = database();
      const username = uniqueName('carol');
      await expect(
        db.transaction().execute(async (trx) => {
          await trx.insertInto('users').values(newUser(username)).execute();
          throw new Error('boom');
        }),
      ).rejects.toThrow('boom');

      const row = await db.selectFrom('users').select('id').where('usernameKey', '=', username).executeTakeFirst();
      expect(row).toBeUndefined();
    });

    it('reports a commit that Postgres turned into a rollback', async () => {
      const { db } = database();
      const username = uniqueName('erin');
      const outcome = await db
        .transaction()
        .execute(async (trx) => {
          await trx.insertInto('users').values(newUser(username)).execute();
          // The failed statement aborts the transaction even though the error is swallowed.
          await sql`select 1 / 0`.execute(trx).catch(() => {});
        })
        .then(
          () => 'committed',
          (err: unknown) => err,
        );
      expect(isAbortedTransactionError(outcome)).toBe(true);
      const row = await db.selectFrom('users').select('id').where('usernameKey', '=', username).executeTakeFirst();
      expect(row).toBeUndefined();
    });

    it('never lets a concurrent query see an uncommitted row', async () => {
      const { db } = database();
      const username = uniqueName('dave');
      const inserted = deferred();
      const tx = db.transaction().execute(async (trx) => {
        await trx.insertInto('users').values(newUser(username)).execute();
        inserted.resolve();
        // Several more round-trips: on a shared single connection the outside query would
        // run between them and see the row.
        for (let i = 0; i < 5; i++) await sql`select 1`.execute(trx);
        throw new Error('roll back');
      });
      // Settled into a value right away so its rejection is never unhandled while we wait.
      const txOutcome = tx.then(
        () => 'committed',
        (err: unknown) => err,
      );
      await inserted.promise;
      const seen = await db.selectFrom('users').select('id').where('usernameKey', '=', username).executeTakeFirst();
      expect(await txOutcome).toMatchObject({ message: 'roll back' });
      expect(seen).toBeUndefined();
    });

    it('runs 20 parallel transactions alongside parallel selects and rollbacks', async () => {
      const { db } = database();
      const prefix = uniqueName('par');
      const insertAndRead = (username: string) =>
        db.transaction().execute(async (trx) => {
          await trx.insertInto('users').values(newUser(username)).execute();
          return trx.selectFrom('users').select('id').where('usernameKey', '=', username).executeTakeFirstOrThrow();
        });
      const committed = Array.from({ length: 20 }, (_, i) => insertAndRead(`${prefix}_ok_${i}`));
      // Interleaved failures: on a shared session without exclusive hand-out, their ROLLBACK
      // would also discard the other transactions' rows.
      const rolledBack = Array.from({ length: 5 }, (_, i) =>
        db
          .transaction()
          .execute(async (trx) => {
            await trx
              .insertInto('users')
              .values(newUser(`${prefix}_bad_${i}`))
              .execute();
            throw new Error('abort');
          })
          .then(
            () => 'committed',
            (err: unknown) => (err instanceof Error ? err.message : 'non-error'),
          ),
      );
      const selects = Array.from({ length: 20 }, () => db.selectFrom('users').select('id').limit(1).execute());

      const [ok, bad, read] = await Promise.all([
        Promise.all(committed),
        Promise.all(rolledBack),
        Promise.all(selects),
      ]);
      expect(ok).toHaveLength(20);
      expect(bad).toEqual(Array(5).fill('abort'));
      expect(read).toHaveLength(20);

      const rows = await db
        .selectFrom('users')
        .select('usernameKey')
        .where('usernameKey', 'like', `${prefix}\\_%`)
        .execute();
      expect(rows.map((r) => r.usernameKey).sort()).toEqual(
        Array.from({ length: 20 }, (_, i) => `${prefix}_ok_${i}`).sort(),
      );
    });

    // PGlite keeps statements prepared by name (up to 128, least recently used out first):
    // each must keep answering for its own text, parameters and result columns.
    it('answers statements run again and again, more of them than are kept prepared, and after errors', async () => {
      const { db } = database();
      const at = new Date('2026-01-02T03:04:05.678Z');
      for (let round = 0; round < 2; round++) {
        for (let i = 0; i < 300; i++) {
          const { rows } = await sql<{
            v: number;
            tag: string;
          }>`select ${i}::integer + ${i % 7} as v, ${`t${i}`}::text as tag, ${sql.raw(String(i))} as n`.execute(db);
          expect(rows).toEqual([{ v: i + (i % 7), tag: `t${i}`, n: i }]);
        }
      }
      const divide = (by: number) => sql<{ q: number }>`select 6 / ${by}::integer as q`.execute(db);
      await expect(divide(0)).rejects.toMatchObject({ code: '22012' });
      expect((await divide(3)).rows).toEqual([{ q: 2 }]);
      const { rows } = await sql<{
        ids: number[];
        at: Date;
        none: null;
      }>`select ${[3, 1, 2]}::integer[] as ids, ${at}::timestamptz as at, ${null}::text as none`.execute(db);
      expect(rows).toEqual([{ ids: [3, 1, 2], at, none: null }]);
    });

    it('close() can be called twice', async () => {
      const own = await open();
      await own.close();
      await expect(own.close()).resolves.toBeUndefined();
      await expect(own.db.selectFrom('users').select('id').execute()).rejects.toThrow();
    });
  });
}
