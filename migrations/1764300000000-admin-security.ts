import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * API keys and the audit log (which also holds the responses of idempotent operator calls).
 * A key's secret is never stored: only its SHA-256 (the secret is 256 random bits, so a fast
 * hash is enough; see docs/admin-api.md "Authentication").
 */
export class AdminSecurity1764300000000 implements MigrationInterface {
  name = 'AdminSecurity1764300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE api_key (
        id           text        PRIMARY KEY CHECK (id ~ '^[0-9a-f]{16}$'),
        name         text        NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
        role         text        NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
        secret_hash  text        NOT NULL CHECK (secret_hash ~ '^[0-9a-f]{64}$'),
        created_at   timestamptz NOT NULL DEFAULT now(),
        created_by   text        NOT NULL,
        revoked_at   timestamptz,
        revoked_by   text,
        last_used_at timestamptz,
        -- NULL: every saga type; else the only types this key may act on (reads are not scoped).
        saga_types   text[]      CHECK (saga_types IS NULL OR cardinality(saga_types) > 0),
        CHECK ((revoked_at IS NULL) = (revoked_by IS NULL))
      )`);
    await q.query(`
      CREATE TABLE audit_record (
        id                  bigserial   PRIMARY KEY,
        recorded_at         timestamptz NOT NULL DEFAULT now(),
        principal_id        text,
        principal_name      text,
        role                text CHECK (role IN ('viewer', 'operator', 'admin')),
        via                 text CHECK (via IN ('api-key', 'jwt')),
        method              text        NOT NULL,
        route               text,
        path                text        NOT NULL,
        saga_id             uuid,
        action              text        NOT NULL,
        reason              text,
        idempotency_key     text,
        request_fingerprint text,
        outcome             text        NOT NULL CHECK (outcome IN ('applied', 'denied', 'rejected', 'failed')),
        status_code         int         NOT NULL CHECK (status_code BETWEEN 100 AND 599),
        response            jsonb,
        detail              jsonb       NOT NULL DEFAULT '{}'::jsonb,
        CHECK ((principal_id IS NULL) = (role IS NULL) AND (role IS NULL) = (via IS NULL))
      )`);
    await q.query(`CREATE INDEX audit_record_saga ON audit_record (saga_id, id)`);
    await q.query(`CREATE INDEX audit_record_principal ON audit_record (principal_id, id)`);
    await q.query(`
      CREATE UNIQUE INDEX audit_record_idempotency ON audit_record (principal_id, idempotency_key)
        WHERE outcome = 'applied' AND idempotency_key IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS audit_record`);
    await q.query(`DROP TABLE IF EXISTS api_key`);
  }
}
