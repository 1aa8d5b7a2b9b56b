import { SagaInstance } from '@sagaflow/engine';
import { OptimisticLockError } from './persistence-errors';
import { SagaInstanceRow, toInstance, toRow } from './saga-instance.mapper';
import { Sql } from './sql';

export interface StoredInstance {
  readonly instance: SagaInstance;
  readonly idempotencyKey: string | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export interface InstanceUpdate {
  readonly next: SagaInstance;
  /** The version read before deciding; the write succeeds only if it is still current. */
  readonly expectedVersion: number;
}

const COLUMNS =
  'id, saga_type, saga_version, status, current_step, attempt, data, state, last_error, business_key, idempotency_key, version, created_at, updated_at';

/** Reads and writes `saga_instance`; every update is optimistic-locked on `version`. */
export class SagaInstanceRepository {
  /** Inserts a new instance; returns false when the (type, idempotency key) already exists. */
  async insert(sql: Sql, instance: SagaInstance, idempotencyKey: string | null): Promise<boolean> {
    const row = toRow(instance);
    const inserted = await sql.rows(
      `INSERT INTO saga_instance (id, saga_type, saga_version, status, current_step, attempt, data, state, last_error, business_key, idempotency_key, version)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
       ON CONFLICT (saga_type, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
       RETURNING id`,
      [
        row.id,
        row.saga_type,
        row.saga_version,
        row.status,
        row.current_step,
        row.attempt,
        json(row.data),
        json(row.state),
        json(row.last_error),
        row.business_key,
        idempotencyKey,
        row.version,
      ],
    );
    return inserted.length === 1;
  }

  /** Writes many instances in one statement; throws OptimisticLockError naming any that moved on. */
  async updateMany(sql: Sql, updates: readonly InstanceUpdate[]): Promise<void> {
    if (updates.length === 0) return;
    const values = updates.map(({ next, expectedVersion }) => ({
      ...toRow(next),
      expected: expectedVersion,
    }));
    const updated = await sql.rows<{ id: string }>(
      `UPDATE saga_instance AS s
          SET status = v.status, current_step = v.current_step, attempt = v.attempt, data = v.data,
              state = v.state, last_error = v.last_error, version = v.version, updated_at = now()
         FROM jsonb_to_recordset($1::jsonb) AS v(id uuid, expected integer, status text, current_step integer,
              attempt integer, data jsonb, state jsonb, last_error jsonb, version integer)
        WHERE s.id = v.id AND s.version = v.expected
        RETURNING s.id`,
      [JSON.stringify(values)],
    );
    if (updated.length !== updates.length) {
      const done = new Set(updated.map((r) => r.id));
      throw new OptimisticLockError(updates.map((u) => u.next.id).filter((id) => !done.has(id)));
    }
  }

  async findById(sql: Sql, id: string): Promise<StoredInstance | null> {
    const rows = await sql.rows<
      SagaInstanceRow & { idempotency_key: string | null; created_at: Date; updated_at: Date }
    >(`SELECT ${COLUMNS} FROM saga_instance WHERE id = $1`, [id]);
    const row = rows[0];
    return row
      ? {
          instance: toInstance(row),
          idempotencyKey: row.idempotency_key,
          createdAt: row.created_at,
          updatedAt: row.updated_at,
        }
      : null;
  }

  async findByIdempotencyKey(
    sql: Sql,
    sagaType: string,
    key: string,
  ): Promise<SagaInstance | null> {
    const rows = await sql.rows<SagaInstanceRow>(
      `SELECT ${COLUMNS} FROM saga_instance WHERE saga_type = $1 AND idempotency_key = $2`,
      [sagaType, key],
    );
    return rows[0] ? toInstance(rows[0]) : null;
  }

  /** Loads many instances by id; ids that do not exist are simply absent from the map. */
  async findMany(sql: Sql, ids: readonly string[]): Promise<Map<string, SagaInstance>> {
    if (ids.length === 0) return new Map();
    const rows = await sql.rows<SagaInstanceRow>(
      `SELECT ${COLUMNS} FROM saga_instance WHERE id = ANY($1::uuid[])`,
      [ids],
    );
    return new Map(rows.map((r) => [r.id, toInstance(r)]));
  }
}

function json(value: unknown): string | null {
  return value === null || value === undefined ? null : JSON.stringify(value);
}
