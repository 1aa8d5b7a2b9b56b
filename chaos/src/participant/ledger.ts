import { PoolClient } from 'pg';

/**
 * The participant's effects ledger: one row per effect applied, unique on (saga, step, kind).
 * A second effect for the same key is not refused (that would roll the handler back and hide
 * the bug): it is written to `effect_duplicate` instead, in the same transaction, so a
 * duplicate effect is counted exactly when it would have happened.
 */
export async function ensureLedger(client: PoolClient, schema: string): Promise<void> {
  await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
  for (const table of ['effect_ledger', 'effect_duplicate']) {
    await client.query(`
      CREATE TABLE IF NOT EXISTS ${schema}.${table} (
        id           bigserial   PRIMARY KEY,
        saga_id      uuid        NOT NULL,
        step         text        NOT NULL,
        kind         text        NOT NULL CHECK (kind IN ('forward', 'compensate')),
        command_type text        NOT NULL,
        message_id   text,
        attempt      integer,
        -- 'participant', or 'operator' for a compensation an operator did by hand
        source       text        NOT NULL,
        detail       jsonb       NOT NULL DEFAULT '{}',
        applied_at   timestamptz NOT NULL DEFAULT clock_timestamp()
      )`);
  }
  await client.query(
    `CREATE UNIQUE INDEX IF NOT EXISTS effect_ledger_once ON ${schema}.effect_ledger (saga_id, step, kind)`,
  );
}

export interface Effect {
  readonly sagaId: string;
  readonly step: string;
  readonly kind: 'forward' | 'compensate';
  readonly commandType: string;
  readonly messageId: string | null;
  readonly attempt: number | null;
  readonly source: 'participant' | 'operator';
  readonly detail?: Record<string, unknown>;
}

/** Appends the effect; answers whether it was the first for its (saga, step, kind). */
export async function recordEffect(
  tx: Pick<PoolClient, 'query'>,
  schema: string,
  effect: Effect,
): Promise<'applied' | 'duplicate'> {
  const values = [
    effect.sagaId,
    effect.step,
    effect.kind,
    effect.commandType,
    effect.messageId,
    effect.attempt,
    effect.source,
    JSON.stringify(effect.detail ?? {}),
  ];
  const columns = 'saga_id, step, kind, command_type, message_id, attempt, source, detail';
  const first = await tx.query(
    `INSERT INTO ${schema}.effect_ledger (${columns}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     ON CONFLICT (saga_id, step, kind) DO NOTHING RETURNING id`,
    values,
  );
  if ((first.rowCount ?? 0) > 0) return 'applied';
  await tx.query(
    `INSERT INTO ${schema}.effect_duplicate (${columns}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    values,
  );
  return 'duplicate';
}
