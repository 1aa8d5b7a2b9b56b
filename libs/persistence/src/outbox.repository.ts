import { Sql } from './sql';

/** A message to publish, written in the same transaction as the state change that caused it. */
export interface OutboxMessage {
  readonly messageId: string;
  readonly topic: string;
  readonly key: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: unknown;
}

export interface ClaimedMessage extends OutboxMessage {
  readonly seq: string;
}

/** The transactional outbox. Rows are deleted once published; the journal keeps the record. */
export class OutboxRepository {
  async enqueue(sql: Sql, messages: readonly OutboxMessage[]): Promise<void> {
    if (messages.length === 0) return;
    const values = messages.map((m) => ({
      message_id: m.messageId,
      topic: m.topic,
      message_key: m.key,
      headers: m.headers,
      body: m.body,
    }));
    await sql.exec(
      `INSERT INTO outbox_message (message_id, topic, message_key, headers, body)
       SELECT message_id, topic, message_key, headers, body
         FROM jsonb_to_recordset($1::jsonb) AS v(message_id text, topic text, message_key text, headers jsonb, body jsonb)`,
      [JSON.stringify(values)],
    );
  }

  /**
   * Claims the oldest unsent rows. SKIP LOCKED lets any number of relays share the table;
   * the claim lasts until the caller's transaction ends, so a crashed relay releases it.
   */
  async claim(sql: Sql, limit: number): Promise<ClaimedMessage[]> {
    const rows = await sql.rows<{
      seq: string;
      message_id: string;
      topic: string;
      message_key: string;
      headers: Record<string, string>;
      body: unknown;
    }>(
      `SELECT seq, message_id, topic, message_key, headers, body FROM outbox_message
        ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED`,
      [limit],
    );
    return rows.map((r) => ({
      seq: String(r.seq),
      messageId: r.message_id,
      topic: r.topic,
      key: r.message_key,
      headers: r.headers,
      body: r.body,
    }));
  }

  async remove(sql: Sql, seqs: readonly string[]): Promise<void> {
    if (seqs.length > 0)
      await sql.exec(`DELETE FROM outbox_message WHERE seq = ANY($1::bigint[])`, [seqs]);
  }

  async backlog(sql: Sql): Promise<number> {
    const rows = await sql.rows<{ n: string }>(`SELECT count(*) AS n FROM outbox_message`);
    return Number(rows[0]?.n ?? 0);
  }
}
