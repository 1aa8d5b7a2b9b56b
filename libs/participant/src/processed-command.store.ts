import { PoolClient } from 'pg';

/** What a participant answered for one idempotency key, replayed verbatim on redelivery. */
export type StoredReply =
  | { readonly outcome: 'success'; readonly data: unknown }
  | {
      readonly outcome: 'failure';
      readonly failure: {
        readonly retryable: false;
        readonly type: string;
        readonly message: string;
      };
    };

export interface CommandKey {
  readonly idempotencyKey: string;
  readonly sagaId: string;
  readonly step: string;
  readonly kind: 'forward' | 'compensate';
}

/**
 * The participant's record of processed commands, in its own schema, written in the same
 * transaction as the handler's effects: that is what makes each effect happen at most once.
 */
export class ProcessedCommandStore {
  constructor(private readonly schema: string) {
    if (!/^[a-z_][a-z0-9_]*$/.test(schema))
      throw new Error(
        `participant schema "${schema}" is invalid: use lower-case letters, digits and "_".`,
      );
  }

  get table(): string {
    return `${this.schema}.sagaflow_processed_command`;
  }

  async ensureSchema(client: PoolClient): Promise<void> {
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${this.schema}`);
    await client.query(`
      CREATE TABLE IF NOT EXISTS ${this.table} (
        idempotency_key text PRIMARY KEY,
        saga_id uuid NOT NULL,
        step text NOT NULL,
        kind text NOT NULL CHECK (kind IN ('forward', 'compensate')),
        reply jsonb NOT NULL,
        processed_at timestamptz NOT NULL DEFAULT now()
      )`);
    await client.query(
      `CREATE INDEX IF NOT EXISTS sagaflow_processed_command_saga ON ${this.table} (saga_id, step, kind)`,
    );
  }

  /** Locks and returns the stored reply for a key, if any (serialises concurrent redeliveries). */
  async find(client: PoolClient, idempotencyKey: string): Promise<StoredReply | null> {
    const { rows } = await client.query(
      `SELECT reply FROM ${this.table} WHERE idempotency_key = $1 FOR UPDATE`,
      [idempotencyKey],
    );
    return rows[0] ? (rows[0].reply as StoredReply) : null;
  }

  /** Was the forward command of this saga step applied (successfully)? */
  async forwardApplied(client: PoolClient, sagaId: string, step: string): Promise<boolean> {
    const { rows } = await client.query(
      `SELECT reply->>'outcome' AS outcome FROM ${this.table} WHERE saga_id = $1 AND step = $2 AND kind = 'forward'`,
      [sagaId, step],
    );
    return rows[0]?.outcome === 'success';
  }

  /** Records a reply; a concurrent insert of the same key fails the transaction (and is redelivered). */
  async save(client: PoolClient, key: CommandKey, reply: StoredReply): Promise<void> {
    await client.query(
      `INSERT INTO ${this.table} (idempotency_key, saga_id, step, kind, reply) VALUES ($1, $2, $3, $4, $5)`,
      [key.idempotencyKey, key.sagaId, key.step, key.kind, JSON.stringify(reply)],
    );
  }

  /** Lock key for one saga step: a forward and its compensation never run at the same time. */
  async lockStep(client: PoolClient, sagaId: string, step: string): Promise<void> {
    await client.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [
      `${this.schema}:${sagaId}:${step}`,
    ]);
  }
}
