import { Client, Pool } from 'pg';

/**
 * The harness's own tables in the run's database (schema `chaos`), next to the store under
 * test, so the checker can join them with it:
 *
 * - `fault`: every fault injected, by whom (nemesis or a participant) and where;
 * - `participant_crash`: the commands after which a participant killed itself (once each);
 * - `delivery`: how many times each command reached a participant;
 * - `timer_event`: every timer armed or removed in `saga_timer`, written by a trigger in the
 *   orchestrator's own transaction (so a rolled-back fire leaves nothing): the due time, and
 *   when it was removed. That is the only way to see timer lateness from outside, since the
 *   store deletes a timer as it fires.
 */
export async function installChaosSchema(url: string): Promise<void> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`CREATE SCHEMA IF NOT EXISTS chaos`);
    await client.query(`
      CREATE TABLE IF NOT EXISTS chaos.fault (
        id         bigserial   PRIMARY KEY,
        at         timestamptz NOT NULL DEFAULT clock_timestamp(),
        source     text        NOT NULL,
        type       text        NOT NULL,
        saga_id    uuid,
        step       text,
        kind       text,
        message_id text,
        detail     jsonb       NOT NULL DEFAULT '{}'
      )`);
    await client.query(`
      CREATE TABLE IF NOT EXISTS chaos.participant_crash (
        message_id text        PRIMARY KEY,
        service    text        NOT NULL,
        at         timestamptz NOT NULL DEFAULT clock_timestamp()
      )`);
    await client.query(`
      CREATE TABLE IF NOT EXISTS chaos.delivery (
        service    text    NOT NULL,
        message_id text    NOT NULL,
        saga_id    uuid    NOT NULL,
        step       text    NOT NULL,
        kind       text    NOT NULL,
        deliveries integer NOT NULL,
        PRIMARY KEY (service, message_id)
      )`);
    await client.query(`
      CREATE TABLE IF NOT EXISTS chaos.timer_event (
        id         bigserial   PRIMARY KEY,
        op         text        NOT NULL CHECK (op IN ('armed', 'removed')),
        timer_key  text        NOT NULL,
        saga_id    uuid        NOT NULL,
        event_type text        NOT NULL,
        due_at     timestamptz NOT NULL,
        at         timestamptz NOT NULL DEFAULT clock_timestamp(),
        txn_now    timestamptz NOT NULL DEFAULT now()
      )`);
    await client.query(
      `CREATE INDEX IF NOT EXISTS timer_event_key ON chaos.timer_event (timer_key)`,
    );
    await client.query(`
      CREATE OR REPLACE FUNCTION chaos.log_timer() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'INSERT' THEN
          INSERT INTO chaos.timer_event (op, timer_key, saga_id, event_type, due_at)
          VALUES ('armed', NEW.timer_key, NEW.saga_id, NEW.event->>'type', NEW.due_at);
          RETURN NEW;
        END IF;
        INSERT INTO chaos.timer_event (op, timer_key, saga_id, event_type, due_at)
        VALUES ('removed', OLD.timer_key, OLD.saga_id, OLD.event->>'type', OLD.due_at);
        RETURN OLD;
      END $$`);
    await client.query(`DROP TRIGGER IF EXISTS chaos_timer_log ON saga_timer`);
    await client.query(`
      CREATE TRIGGER chaos_timer_log AFTER INSERT OR DELETE ON saga_timer
      FOR EACH ROW EXECUTE FUNCTION chaos.log_timer()`);
  } finally {
    await client.end();
  }
}

/**
 * A pool for the harness that survives the PostgreSQL outages it causes itself: a terminated
 * idle connection must not crash the process (pg emits 'error' on the pool and the client).
 */
export function resilientPool(url: string, max = 4): Pool {
  const pool = new Pool({ connectionString: url, max, application_name: 'sagaflow-chaos' });
  pool.on('connect', (client) => client.on('error', () => undefined));
  pool.on('error', () => undefined);
  return pool;
}

/** Runs `query` until it succeeds or `timeoutMs` passes (the database may be cut right now). */
export async function patiently<T>(work: () => Promise<T>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await work();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}
