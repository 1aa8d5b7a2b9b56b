import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { Client, Pool, PoolConfig } from 'pg';
import { createKafka } from '@sagaflow/messaging';

/** The PostgreSQL server tests use; each test file creates and drops its own database on it. */
export const SERVER_URL =
  process.env.TEST_DATABASE_SERVER_URL ?? 'postgres://postgres@127.0.0.1:5432';
export const KAFKA_BROKERS = (process.env.KAFKA_BROKERS ?? '127.0.0.1:19092').split(',');

export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
}

/** A fresh, empty database for one test file; `drop()` removes it (terminating leftover sessions). */
export async function createTestDatabase(
  prefix = 'sagaflow_test',
): Promise<{ url: string; name: string; drop: () => Promise<void> }> {
  const name = uniqueName(prefix);
  await withServer((c) => c.query(`CREATE DATABASE ${name}`));
  return {
    url: `${SERVER_URL}/${name}`,
    name,
    drop: () =>
      withServer(async (c) => {
        await c.query(
          `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`,
          [name],
        );
        await c.query(`DROP DATABASE IF EXISTS ${name}`);
      }),
  };
}

/**
 * A pg pool for a test's own database. `pool.end()` resolves before the server has read every
 * connection's goodbye, so the `drop()` that follows may terminate one of them: pg reports that
 * as an 'error' on the pool, and with no listener it would fail the whole suite.
 */
export function testPool(url: string, options: Omit<PoolConfig, 'connectionString'> = {}): Pool {
  const pool = new Pool({ connectionString: url, ...options });
  pool.on('error', () => undefined);
  return pool;
}

async function withServer<T>(work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: `${SERVER_URL}/postgres` });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** A topic prefix unique to one test file, so runs never see each other's messages. */
export function uniqueTopicPrefix(): string {
  return `${uniqueName('t')}.`;
}

/** Deletes every topic with the prefix (best effort: a test's cleanup must not fail the test). */
export async function deleteTopics(prefix: string): Promise<void> {
  const admin = createKafka({ brokers: KAFKA_BROKERS, clientId: 'test-cleanup' }).admin();
  try {
    await admin.connect();
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
    if (topics.length > 0) await admin.deleteTopics({ topics });
  } catch {
    // the broker may already be gone at the end of a run
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** Polls until `check` returns a value that is not undefined, or fails after `timeoutMs` with `what`. */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 30_000,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`,
  );
}

/** A free TCP port on loopback (the OS picks it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}
