import { Sql } from './sql';

export interface TimerToSchedule {
  readonly key: string;
  readonly sagaId: string;
  readonly delayMs: number;
  readonly event: { readonly type: string };
}

export interface DueTimer {
  readonly key: string;
  readonly sagaId: string;
  readonly event: { readonly type: string } & Record<string, unknown>;
  readonly dueAt: Date;
}

/** Saga timers in PostgreSQL: the source of truth for every deadline. */
export class TimerRepository {
  /** Arms timers relative to the database clock; an existing key is kept (idempotent). */
  async schedule(sql: Sql, timers: readonly TimerToSchedule[]): Promise<void> {
    if (timers.length === 0) return;
    const values = timers.map((t) => ({
      timer_key: t.key,
      saga_id: t.sagaId,
      delay_ms: t.delayMs,
      event: t.event,
    }));
    await sql.exec(
      `INSERT INTO saga_timer (timer_key, saga_id, due_at, event)
       SELECT timer_key, saga_id, now() + make_interval(secs => delay_ms / 1000.0), event
         FROM jsonb_to_recordset($1::jsonb) AS v(timer_key text, saga_id uuid, delay_ms bigint, event jsonb)
       ON CONFLICT (timer_key) DO NOTHING`,
      [JSON.stringify(values)],
    );
  }

  async cancel(sql: Sql, keys: readonly string[]): Promise<void> {
    if (keys.length > 0)
      await sql.exec(`DELETE FROM saga_timer WHERE timer_key = ANY($1::text[])`, [keys]);
  }

  async postpone(sql: Sql, keys: readonly string[], byMs: number): Promise<void> {
    if (keys.length > 0)
      await sql.exec(
        `UPDATE saga_timer SET due_at = now() + make_interval(secs => $2 / 1000.0) WHERE timer_key = ANY($1::text[])`,
        [keys, byMs],
      );
  }

  /** Claims due timers, oldest first; SKIP LOCKED lets any number of orchestrators share them. */
  claimDue(sql: Sql, limit: number): Promise<DueTimer[]> {
    return this.claim(sql, 'ORDER BY due_at LIMIT $1', [limit]);
  }

  /** Claims these timers if they are due (a wake-up may come a moment early, or after a sweep). */
  claimDueKeys(sql: Sql, keys: readonly string[]): Promise<DueTimer[]> {
    if (keys.length === 0) return Promise.resolve([]);
    return this.claim(sql, 'AND timer_key = ANY($1::text[])', [keys]);
  }

  /** `rest` narrows or orders the due rows (a fixed SQL fragment, never user input). */
  private async claim(sql: Sql, rest: string, params: readonly unknown[]): Promise<DueTimer[]> {
    const rows = await sql.rows<{
      timer_key: string;
      saga_id: string;
      event: DueTimer['event'];
      due_at: Date;
    }>(
      `SELECT timer_key, saga_id, event, due_at FROM saga_timer
        WHERE due_at <= now() ${rest} FOR UPDATE SKIP LOCKED`,
      params,
    );
    return rows.map((r) => ({
      key: r.timer_key,
      sagaId: r.saga_id,
      event: r.event,
      dueAt: r.due_at,
    }));
  }

  /** When the next timer is due, in ms from now (null when none is armed). */
  async nextDueInMs(sql: Sql): Promise<number | null> {
    const rows = await sql.rows<{ ms: string | null }>(
      `SELECT (extract(epoch FROM min(due_at) - now()) * 1000)::bigint AS ms FROM saga_timer`,
    );
    const ms = rows[0]?.ms;
    return ms === null || ms === undefined ? null : Math.max(0, Number(ms));
  }
}
