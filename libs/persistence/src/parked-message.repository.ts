import { SqlParams } from './saga-search.repository';
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

  /** A page of parked messages, newest first (keyset on id); bodies are left out. */
  async search(
    sql: Sql,
    filter: ParkedMessageFilter,
    page: { readonly limit: number; readonly afterId: string | null },
  ): Promise<{ items: ParkedMessageSummary[]; nextId: string | null }> {
    const params = new SqlParams();
    const where: string[] = [];
    if (filter.status) where.push(`status = ${params.add(filter.status)}`);
    if (filter.reasonCode) where.push(`reason_code = ${params.add(filter.reasonCode)}`);
    if (filter.sagaId) where.push(`saga_id = ${params.add(filter.sagaId)}::uuid`);
    if (filter.topic) where.push(`topic = ${params.add(filter.topic)}`);
    if (page.afterId) where.push(`id < ${params.add(page.afterId)}::bigint`);
    const rows = await sql.rows<ParkedRow>(
      `SELECT ${SUMMARY_COLUMNS} FROM parked_message
        ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY id DESC LIMIT ${params.add(page.limit + 1)}`,
      params.values,
    );
    const items = rows.slice(0, page.limit).map(toSummary);
    return {
      items,
      nextId: rows.length > page.limit ? (items[items.length - 1]?.id ?? null) : null,
    };
  }

  /** One parked message with its headers and body; `forUpdate` locks it for a resolution. */
  async findById(
    sql: Sql,
    id: string,
    options: { forUpdate?: boolean } = {},
  ): Promise<StoredParkedMessage | null> {
    const rows = await sql.rows<
      ParkedRow & { headers: Record<string, string>; body: string | null }
    >(
      `SELECT ${SUMMARY_COLUMNS}, headers, body FROM parked_message WHERE id = $1::bigint
        ${options.forUpdate ? 'FOR UPDATE' : ''}`,
      [id],
    );
    const row = rows[0];
    return row ? { ...toSummary(row), headers: row.headers, body: row.body } : null;
  }

  /**
   * Puts the message back on its topic through the outbox, exactly as it was parked: same key
   * (an absent key becomes empty: the outbox key is NOT NULL), headers and body. The body must
   * be JSON (the relay publishes the outbox's jsonb); the caller checks that first.
   */
  async requeue(sql: Sql, id: string): Promise<void> {
    await sql.exec(
      `INSERT INTO outbox_message (message_id, topic, message_key, headers, body)
       SELECT 'replay:parked:' || id, topic, coalesce(message_key, ''), headers, body::jsonb
         FROM parked_message WHERE id = $1::bigint
       ON CONFLICT (message_id) DO NOTHING`,
      [id],
    );
  }

  /** Marks a parked message replayed or discarded; false when it is no longer `parked`. */
  async resolve(sql: Sql, id: string, resolution: ParkedResolution): Promise<boolean> {
    const changed = await sql.exec(
      `UPDATE parked_message
          SET status = $2, resolved_at = now(), resolved_by = $3, resolution_note = $4
        WHERE id = $1::bigint AND status = 'parked'`,
      [id, resolution.status, resolution.by, resolution.note],
    );
    return changed === 1;
  }
}

export const PARKED_STATUSES = ['parked', 'replayed', 'discarded'] as const;
export type ParkedStatus = (typeof PARKED_STATUSES)[number];

export interface ParkedMessageFilter {
  readonly status?: ParkedStatus;
  readonly reasonCode?: string;
  readonly sagaId?: string;
  readonly topic?: string;
}

/** A parked message without its headers and body (lists). */
export interface ParkedMessageSummary {
  readonly id: string;
  readonly topic: string;
  readonly partition: number | null;
  readonly offset: string | null;
  readonly key: string | null;
  readonly reasonCode: string;
  readonly reason: string;
  readonly sagaId: string | null;
  readonly status: ParkedStatus;
  readonly parkedAt: Date;
  /** Size of the body in bytes (UTF-8), null when the message had none. */
  readonly bodyBytes: number | null;
  /** How it was resolved; null while parked. */
  readonly resolution: {
    readonly at: Date;
    readonly by: string | null;
    readonly note: string | null;
  } | null;
}

export interface StoredParkedMessage extends ParkedMessageSummary {
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string | null;
}

export interface ParkedResolution {
  readonly status: Exclude<ParkedStatus, 'parked'>;
  /** Who resolved it (the principal's name). */
  readonly by: string;
  /** Why (the operator's reason). */
  readonly note: string;
}

const SUMMARY_COLUMNS = `id, topic, partition, kafka_offset, message_key, reason_code, reason, saga_id, status,
  parked_at, octet_length(body) AS body_bytes, resolved_at, resolved_by, resolution_note`;

interface ParkedRow {
  id: string;
  topic: string;
  partition: number | null;
  kafka_offset: string | null;
  message_key: string | null;
  reason_code: string;
  reason: string;
  saga_id: string | null;
  status: ParkedStatus;
  parked_at: Date;
  body_bytes: number | null;
  resolved_at: Date | null;
  resolved_by: string | null;
  resolution_note: string | null;
}

function toSummary(r: ParkedRow): ParkedMessageSummary {
  return {
    id: String(r.id),
    topic: r.topic,
    partition: r.partition,
    offset: r.kafka_offset,
    key: r.message_key,
    reasonCode: r.reason_code,
    reason: r.reason,
    sagaId: r.saga_id,
    status: r.status,
    parkedAt: r.parked_at,
    bodyBytes: r.body_bytes === null ? null : Number(r.body_bytes),
    resolution: r.resolved_at
      ? {
          at: r.resolved_at,
          by: r.resolved_by,
          note: r.resolution_note,
        }
      : null,
  };
}
