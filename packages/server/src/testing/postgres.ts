import { randomBytes } from 'node:crypto';
import pg from 'pg';

const DEFAULT_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

/** A throwaway PostgreSQL database; dispose it (or call `drop()`) to remove it. */
export interface TestPostgres extends AsyncDisposable {
  readonly url: string;
  drop(): Promise<void>;
}

/** Creates a fresh, uniquely named PostgreSQL database for one test run; drop() removes it. */
export async function createTestPostgres(): Promise<TestPostgres> {
  const adminUrl = process.env['TEST_POSTGRES_URL'] ?? DEFAULT_ADMIN_URL;
  // Only [a-z0-9_], so the name needs no quoting rules beyond the plain double quotes below.
  const name = `streampod_test_${process.pid}_${randomBytes(6).toString('hex')}`;
  await withAdmin(adminUrl, (c) => c.query(`create database "${name}"`));

  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  let dropping: Promise<void> | undefined;
  const drop = () =>
    (dropping ??= withAdmin(adminUrl, async (c) => {
      // A pool the test forgot to close would otherwise make DROP DATABASE fail.
      await c.query(
        'select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()',
        [name],
      );
      await c.query(`drop database if exists "${name}"`);
    }));
  return { url: url.toString(), drop, [Symbol.asyncDispose]: drop };
}

async function withAdmin(adminUrl: string, fn: (client: pg.Client) => Promise<unknown>): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  try {
    await client.connect();
  } catch (err) {
    await client.end().catch(() => {});
    const reason = err instanceof Error ? err.message : String(err);
    throw new Error(
      `PostgreSQL is not reachable at ${redact(adminUrl)} (${reason}). ` +
        'Start it or point TEST_POSTGRES_URL at an admin connection URL.',
      { cause: err },
    );
  }
  try {
    await fn(client);
  } finally {
    await client.end();
  }
}

function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '<invalid TEST_POSTGRES_URL>';
  }
}
