import { MIGRATIONS } from '@sagaflow/migrations';
import { Client } from 'pg';
import { DataSource } from 'typeorm';

export interface DataSourceOptions {
  readonly url: string;
  readonly poolSize?: number;
  readonly applicationName?: string;
}

/**
 * The one DataSource definition shared by both apps, the scripts and the tests.
 * `synchronize` is off for good: the migrations are the schema.
 */
export function createDataSource(options: DataSourceOptions): DataSource {
  return new DataSource({
    type: 'postgres',
    url: options.url,
    synchronize: false,
    migrationsRun: false,
    migrations: MIGRATIONS,
    migrationsTableName: 'sagaflow_migrations',
    migrationsTransactionMode: 'each',
    applicationName: options.applicationName ?? 'sagaflow',
    extra: { max: options.poolSize ?? 10 },
  });
}

/** Creates the database named in `url` if it does not exist (needs access to the `postgres` database). */
export async function ensureDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.slice(1));
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString() });
  await client.connect().catch((error: unknown) => {
    throw new Error(describeUnreachable(url, error));
  });
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount === 0) await client.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
  } finally {
    await client.end();
  }
}

/**
 * Applies pending migrations under a PostgreSQL advisory lock, so two processes starting at
 * once never race (the second waits, then finds nothing to do).
 */
export async function runMigrations(dataSource: DataSource): Promise<string[]> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query(`SELECT pg_advisory_lock(hashtext('sagaflow.migrations'))`);
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    return applied.map((m) => m.name);
  } finally {
    await runner
      .query(`SELECT pg_advisory_unlock(hashtext('sagaflow.migrations'))`)
      .catch(() => undefined);
    await runner.release();
  }
}

/** Fails fast when the schema is behind the code (the admin API never migrates by itself). */
export async function assertMigrated(dataSource: DataSource): Promise<void> {
  if (await dataSource.showMigrations()) {
    throw new Error(
      'the database has pending Sagaflow migrations: run `npm run migrate` (or start the orchestrator, which applies them) first.',
    );
  }
}

export function describeUnreachable(url: string, error: unknown): string {
  const safe = new URL(url);
  if (safe.password) safe.password = '***';
  const reason = error instanceof Error ? error.message : String(error);
  return (
    `PostgreSQL is unreachable at ${safe.toString()} (${reason}). ` +
    `Start it (here: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start) or set DATABASE_URL to a reachable server.`
  );
}
