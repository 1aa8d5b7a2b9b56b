import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Timers: step timeouts, retry backoff and saga deadlines. PostgreSQL holds every deadline,
 * written in the same transaction as the step that arms it; a key is deterministic
 * (`<saga>:<step>:<kind>:<attempt>:timeout|retry`, `<saga>:deadline`), so arming twice is one timer.
 */
export class SagaTimers1764200000000 implements MigrationInterface {
  name = 'SagaTimers1764200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE saga_timer (
        timer_key  text        PRIMARY KEY,
        saga_id    uuid        NOT NULL REFERENCES saga_instance (id) ON DELETE CASCADE,
        due_at     timestamptz NOT NULL,
        event      jsonb       NOT NULL CHECK (event->>'type' IN ('timedOut', 'retryDue', 'deadlineReached')),
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX saga_timer_due ON saga_timer (due_at)`);
    await q.query(`CREATE INDEX saga_timer_saga ON saga_timer (saga_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS saga_timer`);
  }
}
