import { Sql } from './sql';

/** A message that could not be applied, kept with the reason so an operator can act on it. */
export interface ParkedMessage {
  readonly topic: string;
  readonly partition: number | null;
  readonly offset: string | null;
  readonly key: string | null;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string | null;
  /** Stable machine-readable reason, e.g. `malformed`, `unknown-saga`, `invalid-reply`. */
  readonly reasonCode: string;
  readonly reason: string;
  readonly sagaId: string | null;
  /** The envelope's message id when it could be read (kept out of the inbox while parked). */
  readonly messageId?: string;
}

/**
 * PostgreSQL text cannot hold U+0000; a parked message must still be stored, so NUL becomes
 * U+FFFD here. The exact bytes stay addressable in Kafka by topic, partition and offset.
 */
function storable<T extends string | null>(value: T): T {
  return (value === null ? value : value.replaceAll('\u0000', '\uFFFD')) as T;
}

export class ParkedMessageRepository {
  async park(sql: Sql, messages: readonly ParkedMessage[]): Promise<void> {
    if (messages.length === 0) return;
    const values = messages.map((m) => ({
      topic: m.topic,
      partition: m.partition,
      kafka_offset: m.offset,
      message_key: storable(m.key),
      headers: Object.fromEntries(
        Object.entries(m.headers).map(([k, v]) => [storable(k), storable(v)]),
      ),
      body: storable(m.body),
      reason_code: m.reasonCode,
      reason: m.reason,
      saga_id: m.sagaId,
    }));
    await sql.exec(
      `INSERT INTO parked_message (topic, partition, kafka_offset, message_key, headers, body, reason_code, reason, saga_id)
       SELECT topic, partition, kafka_offset, message_key, headers, body, reason_code, reason, saga_id
         FROM jsonb_to_recordset($1::jsonb) AS v(topic text, partition integer, kafka_offset text, message_key text,
              headers jsonb, body text, reason_code text, reason text, saga_id uuid)`,
      [JSON.stringify(values)],
    );
  }

  async list(
    sql: Sql,
    limit = 100,
  ): Promise<Array<ParkedMessage & { id: string; parkedAt: Date }>> {
    const rows = await sql.rows<Record<string, unknown>>(
      `SELECT id, topic, partition, kafka_offset, message_key, headers, body, reason_code, reason, saga_id, parked_at
         FROM parked_message WHERE status = 'parked' ORDER BY id LIMIT $1`,
      [limit],
    );
    return rows.map((r) => ({
      id: String(r.id),
      topic: r.topic as string,
      partition: r.partition as number | null,
      offset: r.kafka_offset as string | null,
      key: r.message_key as string | null,
      headers: r.headers as Record<string, string>,
      body: r.body as string | null,
      reasonCode: r.reason_code as string,
      reason: r.reason as string,
      sagaId: r.saga_id as string | null,
      parkedAt: r.parked_at as Date,
    }));
  }
}
