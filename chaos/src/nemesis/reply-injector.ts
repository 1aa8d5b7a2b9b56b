import { randomUUID } from 'node:crypto';
import { PROTOCOL } from '@sagaflow/messaging';
import { Kafka, Partitioners, Producer } from 'kafkajs';
import { Pool } from 'pg';
import { SKIP_REPLIES } from '../driver/resolver';
import { patiently } from '../infra/chaos-database';
import { InjectionKind } from '../profiles';
import { Rng } from '../random';

/** One message the nemesis put on the reply topic, and what it targeted. */
export interface Injection {
  readonly id: string;
  readonly kind: InjectionKind;
  readonly at: number;
  /** The envelope's message id, when it has one. */
  messageId: string | null;
  sagaId: string | null;
  sent: boolean;
  note: string | null;
}

/** The header that tells injected messages apart, even when their body is not JSON. */
export const INJECTION_HEADER = 'chaos-injection';

interface JournalReply {
  saga_id: string;
  step: string;
  kind: string;
  attempt: number;
  detail: {
    messageId: string;
    outcome: {
      status: string;
      data?: unknown;
      retryable?: boolean;
      type?: string;
      message?: string;
    };
  };
}

/**
 * Writes duplicate, late, stale, malformed and forged replies straight onto the run's reply
 * topic, as a buggy or hostile producer could. Targets come from the store: a reply already
 * applied (to duplicate), a saga that has ended (late), a saga still running (an attempt never
 * sent, a forged `inReplyTo`, invalid data). Each message carries the `chaos-injection` header with its id.
 */
export class ReplyInjector {
  readonly injections: Injection[] = [];
  private producer: Producer | null = null;

  constructor(
    private readonly kafka: Kafka,
    private readonly pool: Pool,
    private readonly replyTopic: string,
    private readonly rng: Rng,
  ) {}

  async inject(kind: InjectionKind): Promise<Injection> {
    const injection: Injection = {
      id: `inj-${this.injections.length + 1}`,
      kind,
      at: Date.now(),
      messageId: null,
      sagaId: null,
      sent: false,
      note: null,
    };
    this.injections.push(injection);
    try {
      const message = await this.build(injection);
      if (!message) return injection;
      await this.send(message.key, message.value, injection.id);
      injection.sent = true;
    } catch (error) {
      injection.note = `not sent: ${error instanceof Error ? error.message : String(error)}`;
    }
    return injection;
  }

  async close(): Promise<void> {
    await this.producer?.disconnect().catch(() => undefined);
  }

  private async build(inj: Injection): Promise<{ key: string; value: string } | null> {
    const envelope = (r: JournalReply, messageId: string, attempt = r.attempt) => ({
      protocol: PROTOCOL,
      messageId,
      // The command this reply answers: what a participant echoes (a forged one is below).
      inReplyTo: `${r.saga_id}:${r.step}:${r.kind}:${attempt}`,
      sagaId: r.saga_id,
      step: r.step,
      kind: r.kind,
      attempt,
      idempotencyKey: `${r.saga_id}:${r.step}:${r.kind}`,
      ...outcomeOf(r.detail.outcome),
    });
    const target = async (sql: string) => {
      const { rows } = await patiently(() => this.pool.query<JournalReply>(sql));
      if (rows.length === 0) {
        inj.note = 'no target saga yet';
        return null;
      }
      const row = this.rng.pick(rows);
      inj.sagaId = row.saga_id;
      return row;
    };
    const json = (body: object) => {
      inj.messageId = (body as { messageId?: string }).messageId ?? null;
      return {
        key: (body as { sagaId?: string }).sagaId ?? randomUUID(),
        value: JSON.stringify(body),
      };
    };
    const fresh = `chaos-${inj.kind}-${inj.id}`;
    switch (inj.kind) {
      case 'duplicate': {
        const r = await target(APPLIED_REPLIES);
        return r && json(envelope(r, r.detail.messageId));
      }
      case 'late': {
        const r = await target(REPLIES_OF_ENDED_SAGAS);
        return r && json(envelope(r, fresh));
      }
      case 'stale': {
        const r = await target(CURRENT_COMMANDS);
        return (
          r &&
          json({ ...envelope(r, fresh, 999), outcome: 'success', data: SKIP_REPLIES[r.step] ?? {} })
        );
      }
      case 'forged': {
        const r = await target(CURRENT_COMMANDS);
        return r && json({ ...envelope(r, fresh), inReplyTo: `chaos-forged-${inj.id}` });
      }
      case 'invalid-data': {
        const r = await target(CURRENT_COMMANDS);
        return (
          r &&
          json({
            ...envelope(r, fresh),
            outcome: 'success',
            data: { reservationId: 42, chargeId: 42, confirmedAt: 42, extra: true },
          })
        );
      }
      case 'unknown-step': {
        const r = await target(APPLIED_REPLIES);
        return r && json({ ...envelope(r, fresh), step: 'chaosNoSuchStep' });
      }
      case 'unknown-saga': {
        const r = await target(APPLIED_REPLIES);
        return r && json({ ...envelope(r, fresh), sagaId: randomUUID() });
      }
      case 'wrong-protocol': {
        const r = await target(APPLIED_REPLIES);
        return r && json({ ...envelope(r, fresh), protocol: 'sagaflow.v0' });
      }
      case 'bad-saga-id': {
        const r = await target(APPLIED_REPLIES);
        return (
          r && { ...json({ ...envelope(r, fresh), sagaId: 'not-a-saga-id' }), key: 'not-a-saga-id' }
        );
      }
      case 'nul-char': {
        const r = await target(APPLIED_REPLIES);
        return (
          r &&
          json({
            ...envelope(r, fresh),
            outcome: 'failure',
            failure: { retryable: false, type: 'chaos', message: 'nul \u0000 inside' },
          })
        );
      }
      case 'missing-field': {
        const r = await target(APPLIED_REPLIES);
        if (!r) return null;
        const { attempt: _dropped, ...rest } = envelope(r, fresh);
        return json(rest);
      }
      case 'not-json':
        return {
          key: randomUUID(),
          value: `{"protocol": "sagaflow.v1", this is not JSON ${inj.id}`,
        };
    }
  }

  private async send(key: string, value: string, id: string): Promise<void> {
    if (!this.producer) {
      const producer = this.kafka.producer({
        createPartitioner: Partitioners.DefaultPartitioner,
        allowAutoTopicCreation: false,
        retry: { retries: 3 },
      });
      await producer.connect();
      this.producer = producer;
    }
    try {
      await this.producer.send({
        topic: this.replyTopic,
        acks: -1,
        messages: [
          { key, value, headers: { [INJECTION_HEADER]: id, 'content-type': 'application/json' } },
        ],
      });
    } catch (error) {
      await this.producer.disconnect().catch(() => undefined);
      this.producer = null;
      throw error;
    }
  }
}

function outcomeOf(o: JournalReply['detail']['outcome']): object {
  return o.status === 'success'
    ? { outcome: 'success', data: o.data ?? {} }
    : {
        outcome: 'failure',
        failure: {
          retryable: o.retryable ?? false,
          type: o.type ?? 'x',
          message: o.message ?? 'x',
        },
      };
}

const APPLIED_REPLIES = `
  SELECT saga_id, step, kind, attempt, detail FROM saga_journal
   WHERE type = 'reply.received' AND detail->>'messageId' LIKE 'reply:%'
   ORDER BY id DESC LIMIT 200`;
const REPLIES_OF_ENDED_SAGAS = `
  SELECT j.saga_id, j.step, j.kind, j.attempt, j.detail FROM saga_journal j
    JOIN saga_instance i ON i.id = j.saga_id
   WHERE i.status IN ('completed', 'compensated') AND j.type = 'reply.received'
     AND j.detail->>'messageId' LIKE 'reply:%'
   ORDER BY j.id DESC LIMIT 200`;
/** The command each running saga waits on (its latest one sent). */
const CURRENT_COMMANDS = `
  SELECT i.id AS saga_id, c.step, c.kind, c.attempt,
         jsonb_build_object('messageId', 'x', 'outcome', jsonb_build_object('status', 'success')) AS detail
    FROM saga_instance i
    JOIN LATERAL (SELECT step, kind, attempt FROM saga_journal
                   WHERE saga_id = i.id AND type = 'command.sent' ORDER BY id DESC LIMIT 1) c ON true
   WHERE i.status IN ('running', 'compensating')
   LIMIT 200`;
