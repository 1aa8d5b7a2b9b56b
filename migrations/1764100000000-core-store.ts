import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The core store. Statuses and step kinds are CHECK constraints that mirror the engine's
 * unions (libs/engine SAGA_STATUSES); the active-step and cause checks mirror which fields
 * exist in which status, so a row the engine could not produce cannot be written.
 */
export class CoreStore1764100000000 implements MigrationInterface {
  name = 'CoreStore1764100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE saga_definition (
        name          text        NOT NULL,
        version       integer     NOT NULL CHECK (version > 0),
        hash          text        NOT NULL,
        compiled      jsonb       NOT NULL,
        registered_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (name, version)
      )`);
    await q.query(`
      CREATE TABLE saga_instance (
        id              uuid        PRIMARY KEY,
        saga_type       text        NOT NULL,
        saga_version    integer     NOT NULL,
        status          text        NOT NULL,
        current_step    integer,
        attempt         integer,
        data            jsonb       NOT NULL,
        state           jsonb       NOT NULL,
        last_error      jsonb,
        business_key    text,
        idempotency_key text,
        version         integer     NOT NULL CHECK (version > 0),
        created_at      timestamptz NOT NULL DEFAULT now(),
        updated_at      timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT saga_instance_status_check
          CHECK (status IN ('running', 'compensating', 'completed', 'compensated', 'failed')),
        CONSTRAINT saga_instance_active_step_check
          CHECK ((status IN ('running', 'compensating')) = (current_step IS NOT NULL AND attempt IS NOT NULL)),
        CONSTRAINT saga_instance_cause_check
          CHECK ((status IN ('compensating', 'compensated', 'failed')) = (last_error IS NOT NULL)),
        CONSTRAINT saga_instance_definition_fk
          FOREIGN KEY (saga_type, saga_version) REFERENCES saga_definition (name, version)
      )`);
    await q.query(
      `CREATE UNIQUE INDEX saga_instance_idempotency_key ON saga_instance (saga_type, idempotency_key) WHERE idempotency_key IS NOT NULL`,
    );
    await q.query(
      `CREATE INDEX saga_instance_status_updated ON saga_instance (status, updated_at)`,
    );
    await q.query(
      `CREATE INDEX saga_instance_business_key ON saga_instance (business_key) WHERE business_key IS NOT NULL`,
    );
    await q.query(`
      CREATE TABLE saga_journal (
        id               bigserial   PRIMARY KEY,
        saga_id          uuid        NOT NULL REFERENCES saga_instance (id) ON DELETE CASCADE,
        instance_version integer     NOT NULL,
        type             text        NOT NULL,
        step             text,
        kind             text        CHECK (kind IN ('forward', 'compensate')),
        attempt          integer,
        actor            text        NOT NULL,
        detail           jsonb       NOT NULL DEFAULT '{}',
        recorded_at      timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX saga_journal_saga ON saga_journal (saga_id, id)`);
    await q.query(`
      CREATE TABLE outbox_message (
        seq         bigserial   PRIMARY KEY,
        message_id  text        NOT NULL UNIQUE,
        topic       text        NOT NULL,
        message_key text        NOT NULL,
        headers     jsonb       NOT NULL,
        body        jsonb       NOT NULL,
        created_at  timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE inbox_message (
        consumer    text        NOT NULL,
        message_id  text        NOT NULL,
        received_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (consumer, message_id)
      )`);
    await q.query(`CREATE INDEX inbox_message_received ON inbox_message (received_at)`);
    await q.query(`
      CREATE TABLE parked_message (
        id           bigserial   PRIMARY KEY,
        topic        text        NOT NULL,
        partition    integer,
        kafka_offset text,
        message_key  text,
        headers      jsonb       NOT NULL DEFAULT '{}',
        body         text,
        reason_code  text        NOT NULL CHECK (reason_code ~ '^[a-z][a-z-]*$'),
        reason       text        NOT NULL,
        saga_id      uuid,
        status       text        NOT NULL DEFAULT 'parked' CHECK (status IN ('parked', 'replayed', 'discarded')),
        parked_at    timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX parked_message_status ON parked_message (status, parked_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of [
      'parked_message',
      'inbox_message',
      'outbox_message',
      'saga_journal',
      'saga_instance',
      'saga_definition',
    ]) {
      await q.query(`DROP TABLE IF EXISTS ${table}`);
    }
  }
}
