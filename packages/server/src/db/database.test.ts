import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestPostgres } from '../testing/postgres.js';
import type { TestPostgres } from '../testing/postgres.js';
import { databaseCases } from './database.case.js';
import { openDatabase } from './database.js';
import type { OpenDatabaseOptions } from './database.js';
import { migrations } from './migrations/index.js';

const allMigrations = Object.keys(migrations);

/** Opens with `opts` and returns the migrations that open applied. */
async function openCounting(opts: OpenDatabaseOptions) {
  const applied: string[] = [];
  const database = await openDatabase({ ...opts, onMigration: (name) => applied.push(name) });
  return { database, applied };
}

describe('PGlite in memory', () => {
  it('applies every migration on open', async () => {
    const { database, applied } = await openCounting({ dataDir: 'memory' });
    await database.close();
    expect(database.kind).toBe('pglite');
    expect(applied).toEqual(allMigrations);
  });

  databaseCases('shared cases', () => openDatabase({ dataDir: 'memory' }));
});

describe('PGlite on disk', () => {
  let dataDir = '';
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'streampod-db-test-'));
  });
  afterAll(async () => {
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('keeps data across close and reopen, and does not re-apply migrations', async () => {
    const first = await openCounting({ dataDir });
    expect(first.applied).toEqual(allMigrations);
    await first.database.db
      .insertInto('users')
      .values({
        username: 'Persisted',
        usernameKey: 'persisted',
        displayName: 'P',
        passwordHash: 'h',
      })
      .execute();
    await first.database.close();

    const second = await openCounting({ dataDir });
    try {
      expect(second.applied).toEqual([]);
      const row = await second.database.db
        .selectFrom('users')
        .select(['username', 'createdAt'])
        .where('usernameKey', '=', 'persisted')
        .executeTakeFirstOrThrow();
      expect(row.username).toBe('Persisted');
      expect(row.createdAt).toBeInstanceOf(Date);
    } finally {
      await second.database.close();
    }
  });

  let opened = 0;
  databaseCases('shared cases', () => openDatabase({ dataDir: join(dataDir, `cases-${++opened}`) }));

  it('names the failed migration and its cause', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'streampod-db-test-'));
    try {
      // A users table that no migration recorded makes 0001-users collide with it.
      const raw = new PGlite(join(dir, 'pglite'));
      await raw.exec('create table users (id int)');
      await raw.close();

      await expect(openDatabase({ dataDir: dir })).rejects.toThrow(
        /migration "0001-users" failed: .*relation "users" already exists/,
      );
      // The failed open closed its PGlite, so the directory can be opened again.
      const again = new PGlite(join(dir, 'pglite'));
      const { rows } = await again.query<{ n: number }>(
        "select count(*)::int as n from information_schema.tables where table_name = 'kysely_migration'",
      );
      await again.close();
      expect(rows).toEqual([{ n: 1 }]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('PostgreSQL', () => {
  let server: TestPostgres | undefined;
  const url = (): string => {
    if (!server) throw new Error('test database not created');
    return server.url;
  };
  beforeAll(async () => {
    server = await createTestPostgres();
  });
  afterAll(async () => {
    await server?.drop();
  });

  it('applies every migration once, even when two processes start together', async () => {
    const [a, b] = await Promise.all([openCounting({ url: url() }), openCounting({ url: url() })]);
    await Promise.all([a.database.close(), b.database.close()]);
    expect(a.database.kind).toBe('postgres');
    expect([...a.applied, ...b.applied]).toEqual(allMigrations);

    const reopened = await openCounting({ url: url() });
    await reopened.database.close();
    expect(reopened.applied).toEqual([]);
  });

  databaseCases('shared cases', () => openDatabase({ url: url() }));

  it('names the failed migration and its cause', async () => {
    await using fresh = await createTestPostgres();
    const client = new pg.Client({ connectionString: fresh.url });
    await client.connect();
    try {
      await client.query('create table users (id int)');
    } finally {
      await client.end();
    }
    await expect(openDatabase({ url: fresh.url })).rejects.toThrow(
      /migration "0001-users" failed: .*relation "users" already exists/,
    );
  });
});

describe('createTestPostgres', () => {
  it('fails clearly when PostgreSQL is unreachable', async () => {
    const saved = process.env['TEST_POSTGRES_URL'];
    // Port 1 is never a PostgreSQL server.
    process.env['TEST_POSTGRES_URL'] = 'postgres://postgres@127.0.0.1:1/postgres';
    try {
      await expect(createTestPostgres()).rejects.toThrow(/PostgreSQL is not reachable at .*127\.0\.0\.1:1/);
    } finally {
      if (saved === undefined) delete process.env['TEST_POSTGRES_URL'];
      else process.env['TEST_POSTGRES_URL'] = saved;
    }
  });

  it('drops the database, even with a connection left open', async () => {
    const test = await createTestPostgres();
    const lingering = new pg.Client({ connectionString: test.url });
    lingering.on('error', () => {}); // it is about to be terminated
    await lingering.connect();
    await test.drop();
    await test.drop();
    await lingering.end().catch(() => {});

    const name = new URL(test.url).pathname.slice(1);
    const admin = new pg.Client({
      connectionString: process.env['TEST_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    });
    await admin.connect();
    try {
      const { rowCount } = await admin.query('select 1 from pg_database where datname = $1', [name]);
      expect(rowCount).toBe(0);
    } finally {
      await admin.end();
    }
  });
});
