import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { CamelCasePlugin, Kysely, PostgresDialect } from 'kysely';
import type { Dialect } from 'kysely';
import { Migrator } from 'kysely/migration';
import pg from 'pg';
import { StoreLatency } from '../util/store-latency.js';
import { migrations } from './migrations/index.js';
import { PGliteDialect } from './pglite-dialect.js';
import type { DB } from './schema.js';

export type DatabaseKind = 'pglite' | 'postgres';

/** An open database with its schema migrated to the latest version. */
export interface Database {
  readonly db: Kysely<DB>;
  readonly kind: DatabaseKind;
  /** Query times and failures, for `/metrics`. */
  readonly latency: StoreLatency;
  /** Closes the pool or the embedded database; later calls do nothing. */
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** postgres:// URL; when absent, an embedded PGlite database is used. */
  url?: string | undefined;
  /** Folder for the embedded database files (PGlite). `'memory'` keeps it in memory (tests). */
  dataDir?: string | undefined;
  /** Called with each migration applied, for logging. */
  onMigration?: ((name: string) => void) | undefined;
  /**
   * Called when an idle pooled PostgreSQL connection fails (the server restarted, an admin
   * killed it). The pool replaces it; without a listener pg would crash the process.
   * @default ignore
   */
  onConnectionError?: ((error: Error) => void) | undefined;
}

/**
 * Opens PostgreSQL (when `url` is given) or an embedded PGlite database and applies pending
 * migrations. Throws, after closing what it opened, if a migration fails.
 */
export async function openDatabase(opts: OpenDatabaseOptions): Promise<Database> {
  const kind: DatabaseKind = opts.url ? 'postgres' : 'pglite';
  const dialect = opts.url ? postgresDialect(opts.url, opts.onConnectionError) : await pgliteDialect(opts.dataDir);
  const latency = new StoreLatency('streampod_database_query', 'Database queries by outcome (ok, error).');
  const db = new Kysely<DB>({
    dialect,
    plugins: [new CamelCasePlugin()],
    log: (event) => latency.observe(event.queryDurationMillis, event.level === 'error'),
  });
  try {
    await migrate(db, opts.onMigration);
  } catch (err) {
    await db.destroy().catch(() => {});
    throw err;
  }
  let closing: Promise<void> | undefined;
  return {
    db,
    kind,
    latency,
    close: () => (closing ??= db.destroy()),
  };
}

function postgresDialect(url: string, onError: ((error: Error) => void) | undefined): Dialect {
  // pg's defaults are what the schema types promise: timestamptz -> Date, int4 -> number.
  const pool = new pg.Pool({ connectionString: url });
  pool.on('error', onError ?? (() => undefined));
  return new PostgresDialect({ pool });
}

async function pgliteDialect(dataDir: string | undefined): Promise<Dialect> {
  if (dataDir === undefined) {
    throw new Error("openDatabase: either `url` or `dataDir` ('memory' for in-memory) is required");
  }
  let pglite: PGlite;
  if (dataDir === 'memory') {
    pglite = new PGlite();
  } else {
    const dir = join(dataDir, 'pglite');
    await mkdir(dir, { recursive: true });
    pglite = new PGlite(dir);
  }
  await pglite.waitReady;
  return new PGliteDialect(pglite);
}

async function migrate(db: Kysely<DB>, onMigration?: (name: string) => void): Promise<void> {
  // Migrations name snake_case columns themselves, so they run without the camelCase mapping.
  const migrator = new Migrator({
    db: db.withoutPlugins(),
    provider: { getMigrations: () => Promise.resolve(migrations) },
  });
  const { error, results = [] } = await migrator.migrateToLatest();
  if (error !== undefined) {
    const failed = results.find((r) => r.status === 'Error')?.migrationName;
    const cause = error instanceof Error ? error.message : JSON.stringify(error);
    const what = failed ? `migration "${failed}" failed` : 'migration failed';
    throw new Error(`Database ${what}: ${cause}`, { cause: error });
  }
  // Reported only after success: all migrations share one transaction, so on failure the
  // ones marked 'Success' were rolled back too.
  for (const r of results) {
    if (r.status === 'Success') onMigration?.(r.migrationName);
  }
}
