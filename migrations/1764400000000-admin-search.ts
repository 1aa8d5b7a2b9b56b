import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Indexes behind the admin API's saga search and parked-message list, and the columns that
 * record how a parked message was resolved.
 *
 * Every search page is keyset-paginated on (created_at, id) or (updated_at, id), so each index
 * ends with the sort column and `id`: a filtered page is an index range scan that stops after
 * `limit + 1` rows, whatever the table size. `(status, updated_at, id)` replaces the core
 * store's `(status, updated_at)`, which it covers. Each index costs every saga update a write
 * (updated_at changes on each transition, so updates were never HOT): the set is kept small.
 */
export class AdminSearch1764400000000 implements MigrationInterface {
  name = 'AdminSearch1764400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS saga_instance_status_updated`);
    await q.query(
      `CREATE INDEX saga_instance_status_updated_id ON saga_instance (status, updated_at, id)`,
    );
    await q.query(
      `CREATE INDEX saga_instance_type_status_updated ON saga_instance (saga_type, saga_version, status, updated_at, id)`,
    );
    await q.query(`CREATE INDEX saga_instance_created_id ON saga_instance (created_at, id)`);
    await q.query(`CREATE INDEX saga_instance_updated_id ON saga_instance (updated_at, id)`);
    // "Which failed sagas stopped at step X": failed rows are few, the index is small.
    await q.query(
      `CREATE INDEX saga_instance_failed_step ON saga_instance (saga_type, saga_version, ((state->>'failedStep')::integer))
        WHERE status = 'failed'`,
    );
    // pastDeadline: sagas whose deadline already fired (the timer row is gone by then).
    await q.query(
      `CREATE INDEX saga_journal_deadline_reached ON saga_journal (saga_id) WHERE type = 'saga.deadlineReached'`,
    );
    await q.query(`CREATE INDEX parked_message_status_id ON parked_message (status, id)`);
    await q.query(
      `CREATE INDEX parked_message_saga ON parked_message (saga_id, id) WHERE saga_id IS NOT NULL`,
    );
    await q.query(`
      ALTER TABLE parked_message
        ADD COLUMN resolved_at     timestamptz,
        ADD COLUMN resolved_by     text,
        ADD COLUMN resolution_note text,
        ADD CONSTRAINT parked_message_status_resolved_check
          CHECK (status <> 'parked' OR (resolved_at IS NULL AND resolved_by IS NULL))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE parked_message
        DROP CONSTRAINT IF EXISTS parked_message_status_resolved_check,
        DROP COLUMN IF EXISTS resolution_note,
        DROP COLUMN IF EXISTS resolved_by,
        DROP COLUMN IF EXISTS resolved_at`);
    for (const index of [
      'parked_message_saga',
      'parked_message_status_id',
      'saga_journal_deadline_reached',
      'saga_instance_failed_step',
      'saga_instance_updated_id',
      'saga_instance_created_id',
      'saga_instance_type_status_updated',
      'saga_instance_status_updated_id',
    ]) {
      await q.query(`DROP INDEX IF EXISTS ${index}`);
    }
    await q.query(
      `CREATE INDEX saga_instance_status_updated ON saga_instance (status, updated_at)`,
    );
  }
}
