import { Client } from 'pg';

/** The server URL without a database, e.g. `postgres://postgres@127.0.0.1:5432`. */
export function serverUrl(databaseUrl: string): string {
  const url = new URL(databaseUrl);
  url.pathname = '';
  return url.toString().replace(/\/$/, '');
}

export function databaseUrl(server: string, name: string): string {
  return `${server}/${name}`;
}

/** Runs `work` on a short-lived connection to `url`. */
export async function withClient<T>(url: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url, application_name: 'sagaflow-bench' });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Drops (terminating its sessions) and creates a database: every run starts from empty. */
export async function recreateDatabase(server: string, name: string): Promise<void> {
  await dropDatabase(server, name);
  await withClient(`${server}/postgres`, (c) => c.query(`CREATE DATABASE ${name}`));
}

export async function dropDatabase(server: string, name: string): Promise<void> {
  await withClient(`${server}/postgres`, async (c) => {
    await c.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`,
      [name],
    );
    await c.query(`DROP DATABASE IF EXISTS ${name}`);
  });
}

/**
 * Committed transactions of one database so far (`pg_stat_database.xact_commit`). Backends
 * publish their counts at most once a second while busy, so a delta is exact only over a
 * window of many seconds; the bench's windows are.
 */
export async function xactCommits(server: string, name: string): Promise<number> {
  return withClient(`${server}/postgres`, async (c) => {
    const { rows } = await c.query<{ n: string }>(
      `SELECT xact_commit::text AS n FROM pg_stat_database WHERE datname = $1`,
      [name],
    );
    return Number(rows[0]?.n ?? 0);
  });
}

/** The server processes serving a database now (their CPU is the database's share of the work). */
export async function backendPids(server: string, name: string): Promise<number[]> {
  return withClient(`${server}/postgres`, async (c) => {
    const { rows } = await c.query<{ pid: number }>(
      `SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`,
      [name],
    );
    return rows.map((r) => r.pid);
  });
}
