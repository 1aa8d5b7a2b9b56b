import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { SERVER_URL } from '../../../test/support/infrastructure';
import { KafkaBroker } from '../infra/kafka-broker';
import { describe, log, sleep } from '../log';

/** The run's broker stopped (controlled) or SIGKILLed, down for `downMs`, started again. */
export async function restartKafka(
  broker: KafkaBroker,
  mode: 'clean' | 'hard',
  downMs: number,
): Promise<string> {
  const began = Date.now();
  if (mode === 'hard') await broker.hardKill();
  else await broker.stop();
  log(`nemesis: Kafka broker ${mode === 'hard' ? 'SIGKILLed' : 'stopped'}; down for ${downMs} ms`);
  await sleep(downMs);
  for (let attempt = 1; ; attempt++) {
    try {
      await broker.start();
      break;
    } catch (error) {
      if (attempt >= 3) throw error;
      log(`nemesis: broker start failed (${describe(error)}); again`);
    }
  }
  return `${mode} restart, back after ${Date.now() - began} ms`;
}

/**
 * "PostgreSQL restarts" on the run's database only (the server is shared by everyone on the
 * machine and is never restarted): new connections refused (ALLOW_CONNECTIONS false — REVOKE
 * CONNECT would not bind the superuser the apps connect as) and every existing one terminated
 * every 200 ms, then connections allowed again — what clients see when a server goes down and
 * comes back. As test/e2e/outages.e2e.test.ts does it.
 */
export async function cutPostgres(database: string, ms: number): Promise<string> {
  const admin = new Client({ connectionString: `${SERVER_URL}/postgres` });
  await admin.connect();
  let terminated = 0;
  try {
    await admin.query(`ALTER DATABASE "${database}" ALLOW_CONNECTIONS false`);
    log(`nemesis: PostgreSQL connections to ${database} cut for ${ms} ms`);
    const began = Date.now();
    while (Date.now() - began < ms) {
      const { rows } = await admin.query<{ n: number }>(
        `SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))::int AS n
           FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`,
        [database],
      );
      terminated += rows[0]!.n;
      await sleep(200);
    }
  } finally {
    await admin.query(`ALTER DATABASE "${database}" ALLOW_CONNECTIONS true`).catch(() => undefined);
    await admin.end().catch(() => undefined);
  }
  return `${terminated} backends terminated`;
}

const run = promisify(execFile);

/** The Debian cluster (version, name) that serves the shared PostgreSQL port. */
async function serverCluster(): Promise<[string, string]> {
  const port = new URL(SERVER_URL).port || '5432';
  const { stdout } = await run('pg_lsclusters', ['-h']);
  const line = stdout
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .find((f) => f[2] === port);
  if (!line) throw new Error(`pg_lsclusters lists no cluster on port ${port}`);
  return [line[0]!, line[1]!];
}

async function pgCtl(action: 'stop' | 'start', extra: string[] = []): Promise<void> {
  const [version, name] = await serverCluster();
  await run('pg_ctlcluster', ['--skip-systemctl-redirect', version, name, action, ...extra], {
    timeout: 60_000,
  });
}

/** Whether this machine lets the harness restart the server (Debian's tools, a known cluster). */
export async function canRestartPostgres(): Promise<boolean> {
  try {
    await serverCluster();
    return true;
  } catch (error) {
    log(
      `nemesis: cannot restart PostgreSQL here (${describe(error)}); cutting the database instead`,
    );
    return false;
  }
}

/**
 * A real PostgreSQL restart (`--pg-restart`): the whole server stopped with a fast shutdown
 * (every backend terminated, new connections refused), down for `ms`, then started again. Only
 * where nobody else uses the server: CI, or a machine of one's own.
 */
export async function restartPostgres(ms: number): Promise<string> {
  const began = Date.now();
  try {
    await pgCtl('stop', ['-m', 'fast']);
    log(`nemesis: PostgreSQL server stopped (fast shutdown); down for ${ms} ms`);
    await sleep(ms);
  } finally {
    await ensurePostgresRunning();
  }
  return `server restarted, back after ${Date.now() - began} ms`;
}

/** Starts the shared server if it is down (what a restart interrupted half-way left behind). */
export async function ensurePostgresRunning(): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const { stdout } = await run('pg_lsclusters', ['-h']);
    const port = new URL(SERVER_URL).port || '5432';
    if (stdout.split('\n').some((l) => l.includes(` ${port} online`))) return;
    try {
      await pgCtl('start');
      return;
    } catch (error) {
      if (attempt >= 3) throw error;
      log(`nemesis: PostgreSQL start failed (${describe(error)}); again`);
      await sleep(1000);
    }
  }
}

/** Connections to the run's database allowed again (whatever a cut left behind). */
export async function allowConnections(database: string): Promise<void> {
  const admin = new Client({ connectionString: `${SERVER_URL}/postgres` });
  await admin.connect();
  try {
    await admin.query(`ALTER DATABASE "${database}" ALLOW_CONNECTIONS true`);
  } finally {
    await admin.end();
  }
}
