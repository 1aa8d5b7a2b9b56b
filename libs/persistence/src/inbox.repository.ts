import { Sql } from './sql';

/** Processed message ids per consumer: the dedupe half of effectively-once processing. */
export class InboxRepository {
  /** Records the ids; returns those not seen before (the rest are duplicates to drop). */
  async recordNew(sql: Sql, consumer: string, messageIds: readonly string[]): Promise<Set<string>> {
    if (messageIds.length === 0) return new Set();
    const rows = await sql.rows<{ message_id: string }>(
      `INSERT INTO inbox_message (consumer, message_id)
       SELECT $1, id FROM unnest($2::text[]) AS id
       ON CONFLICT DO NOTHING RETURNING message_id`,
      [consumer, [...new Set(messageIds)]],
    );
    return new Set(rows.map((r) => r.message_id));
  }

  /** Removes ids again (a parked message must be able to come back with the same id). */
  async forget(sql: Sql, consumer: string, messageIds: readonly string[]): Promise<void> {
    if (messageIds.length > 0)
      await sql.exec(
        `DELETE FROM inbox_message WHERE consumer = $1 AND message_id = ANY($2::text[])`,
        [consumer, messageIds],
      );
  }
}
