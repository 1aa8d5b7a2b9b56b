import { Kafka } from 'kafkajs';
import { Pool } from 'pg';
import { sleep } from '../log';
import { ledgerSchema, SERVICES } from '../plan';

/** A consumer group and the topic it must have read to the end. */
export interface GroupTopic {
  readonly groupId: string;
  readonly topic: string;
}

/** Messages each group has not consumed yet (end offset minus committed offset, summed). */
export async function consumerLag(
  kafka: Kafka,
  groups: readonly GroupTopic[],
): Promise<Record<string, number>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const lag: Record<string, number> = {};
    for (const { groupId, topic } of groups) {
      const ends = await admin.fetchTopicOffsets(topic);
      const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
      const at = new Map((committed?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
      lag[groupId] = ends.reduce((sum, p) => {
        const done = Math.max(at.get(p.partition) ?? -1, Number(p.low));
        return sum + Math.max(0, Number(p.high) - done);
      }, 0);
    }
    return lag;
  } finally {
    await admin.disconnect();
  }
}

export interface Quiescence {
  readonly settledInMs: number | null;
  readonly outbox: number;
  readonly lag: Record<string, number>;
  /** Completed sagas whose customer notification has not been applied. */
  readonly unnotified: number;
}

/**
 * After the drain, the tail of the work: the last commands leave the outbox, the consumers
 * reach the end of their topics, and the notifications of the last completed sagas (sent as
 * they complete, applied a little later) land in the order participant's ledger.
 */
export async function settle(
  pool: Pool,
  kafka: Kafka,
  groups: readonly GroupTopic[],
  timeoutMs = 120_000,
): Promise<Quiescence> {
  const began = Date.now();
  let last: Quiescence = { settledInMs: null, outbox: -1, lag: {}, unnotified: -1 };
  while (Date.now() - began < timeoutMs) {
    try {
      const outbox = Number(
        (await pool.query(`SELECT count(*) AS n FROM outbox_message`)).rows[0].n,
      );
      const unnotified = Number(
        (
          await pool.query(
            `SELECT count(*) AS n FROM saga_instance i WHERE i.status = 'completed' AND NOT EXISTS (
               SELECT 1 FROM ${ledgerSchema('order')}.effect_ledger e
                WHERE e.saga_id = i.id AND e.step = 'notifyCustomer')`,
          )
        ).rows[0].n,
      );
      const lag = await consumerLag(kafka, groups);
      last = { settledInMs: null, outbox, lag, unnotified };
      if (outbox === 0 && unnotified === 0 && Object.values(lag).every((n) => n === 0))
        return { ...last, settledInMs: Date.now() - began };
    } catch {
      // the broker or the database may still be finding its feet
    }
    await sleep(1000);
  }
  return last;
}

/** Every consumer group of the run and its topic. */
export function runGroups(prefix: string): GroupTopic[] {
  return [
    { groupId: `${prefix}sagaflow-orchestrator`, topic: `${prefix}sagaflow.replies` },
    ...SERVICES.map((s) => ({ groupId: `${prefix}chaos-${s}`, topic: `${prefix}${s}.commands` })),
  ];
}
