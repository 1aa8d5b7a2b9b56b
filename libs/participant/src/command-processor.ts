import { trace } from '@opentelemetry/api';
import { CommandEnvelope, PROTOCOL, ReplyEnvelope, replyMessageId } from '@sagaflow/messaging';
import { SpanTracer } from '@sagaflow/observability';
import { validate } from '@sagaflow/saga-dsl';
import { Pool, PoolClient } from 'pg';
import { HandlerRegistration } from './command-handler';
import { ParticipantFailure } from './participant-failure';
import { ProcessedCommandStore, StoredReply } from './processed-command.store';

const NOTHING_TO_UNDO: StoredReply = { outcome: 'success', data: {} };
const CANCELLED: StoredReply = {
  outcome: 'failure',
  failure: {
    retryable: false,
    type: 'cancelled',
    message: 'the saga compensated this step before the command arrived',
  },
};

/** A reply and the `traceparent` header it is sent with. */
export interface TracedReply {
  readonly reply: ReplyEnvelope;
  /**
   * A child of the command's trace: the `participant.command` span when this process records
   * spans, else the command's own header passed on (undefined when the command had none).
   */
  readonly traceparent: string | undefined;
}

export interface CommandProcessorOptions {
  /**
   * Starts the `participant.command` spans. Default: the global OpenTelemetry tracer, so a
   * service that registers an SDK records them and one that does not only passes the header on.
   */
  readonly tracer?: SpanTracer;
}

/**
 * Applies one command at most once per idempotency key and says what to reply. The handler's
 * writes and the record of the reply commit together; a redelivery replays the stored reply.
 * A compensation for a forward command that never took effect undoes nothing, and records a
 * tombstone so the forward, if it arrives late, is refused instead of applied.
 */
export class CommandProcessor {
  private readonly handlers: Map<string, HandlerRegistration>;
  private readonly tracer: SpanTracer;

  constructor(
    private readonly pool: Pool,
    private readonly store: ProcessedCommandStore,
    handlers: readonly HandlerRegistration[],
    options: CommandProcessorOptions = {},
  ) {
    this.handlers = new Map(handlers.map((h) => [h.command.type, h]));
    this.tracer = options.tracer ?? new SpanTracer(trace.getTracer('@sagaflow/participant'));
  }

  /**
   * `process` inside a `participant.command` span, a child of the command's `traceparent`
   * header; the reply is to be sent with the returned header, so the orchestrator's transition
   * joins the trace below this span.
   *
   * @example
   * const { reply, traceparent } = await processor.processTraced(command, headers.traceparent);
   * const wire = encodeReply(reply, command.replyTopic, traceparent);
   */
  async processTraced(
    command: CommandEnvelope,
    traceparent: string | undefined,
  ): Promise<TracedReply> {
    const span = this.tracer.start('participant.command', traceparent, {
      'saga.id': command.sagaId,
      'saga.type': command.sagaType,
      'saga.step': command.step,
      'saga.kind': command.kind,
      'saga.attempt': command.attempt,
      'sagaflow.command_type': command.commandType,
      'messaging.message.id': command.messageId,
    });
    let reply: ReplyEnvelope;
    try {
      reply = await this.process(command);
    } catch (error) {
      span.end(error);
      throw error;
    }
    // A business rejection is an answer, not an error; a transient failure is one.
    const transient = reply.outcome === 'failure' && reply.failure.retryable ? reply.failure : null;
    span.end(transient ? `${transient.type}: ${transient.message}` : undefined);
    return { reply, traceparent: span.traceparent };
  }

  async process(command: CommandEnvelope): Promise<ReplyEnvelope> {
    const registration = this.handlers.get(command.commandType);
    if (!registration) {
      return reply(command, {
        outcome: 'failure',
        failure: {
          retryable: false,
          type: 'unknown-command',
          message: `this participant has no handler for ${command.commandType}`,
        },
      });
    }
    const client = await this.pool.connect();
    // A checked-out client has no error listener of the pool's: a connection the server ends
    // between two queries (a restart, a terminated backend) would otherwise crash the process.
    let lost: Error | undefined;
    const onLost = (error: Error) => (lost = error);
    client.on('error', onLost);
    try {
      await client.query('BEGIN');
      const answer = await this.decide(client, command, registration);
      await client.query('COMMIT');
      return reply(command, answer);
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      return reply(command, transientFailure(lost ?? error));
    } finally {
      client.removeListener('error', onLost);
      client.release(lost); // a lost connection is discarded, not handed out again
    }
  }

  private async decide(
    client: PoolClient,
    command: CommandEnvelope,
    registration: HandlerRegistration,
  ): Promise<StoredReply> {
    await this.store.lockStep(client, command.sagaId, command.step);
    const stored = await this.store.find(client, command.idempotencyKey);
    if (stored) return stored;
    const key = {
      idempotencyKey: command.idempotencyKey,
      sagaId: command.sagaId,
      step: command.step,
      kind: command.kind,
    };
    if (
      command.kind === 'compensate' &&
      command.compensates &&
      !(await this.forwardTookEffect(client, command))
    ) {
      await this.store.save(client, key, NOTHING_TO_UNDO);
      return NOTHING_TO_UNDO;
    }
    const forwardReply =
      command.kind === 'compensate' && command.compensates
        ? await this.store.find(client, command.compensates)
        : null;
    const answer = await this.runHandler(
      client,
      command,
      registration,
      forwardReply?.outcome === 'success' ? forwardReply.data : null,
    );
    await this.store.save(client, key, answer);
    return answer;
  }

  /** Tombstones a forward that never arrived, so that compensation wins the race for good. */
  private async forwardTookEffect(client: PoolClient, command: CommandEnvelope): Promise<boolean> {
    const forward = await this.store.find(client, command.compensates!);
    if (forward) return forward.outcome === 'success';
    const key = {
      idempotencyKey: command.compensates!,
      sagaId: command.sagaId,
      step: command.step,
      kind: 'forward' as const,
    };
    await this.store.save(client, key, CANCELLED);
    return false;
  }

  /** Runs the handler in a savepoint: a business rejection keeps no partial writes but is recorded. */
  private async runHandler(
    client: PoolClient,
    command: CommandEnvelope,
    registration: HandlerRegistration,
    forwardReply: unknown,
  ): Promise<StoredReply> {
    const payload = validate(registration.command.payload, command.payload);
    if (!payload.ok) {
      const detail = payload.errors.map((e) => `${e.path || '(root)'}: ${e.message}`).join('; ');
      return {
        outcome: 'failure',
        failure: { retryable: false, type: 'invalid-payload', message: detail },
      };
    }
    await client.query('SAVEPOINT handler');
    try {
      const data = await registration.handle(payload.value, { command, tx: client, forwardReply });
      const checked = validate(registration.command.reply, data);
      if (!checked.ok)
        throw new Error(
          `handler for ${command.commandType} returned a reply that does not match its schema`,
        );
      return { outcome: 'success', data: checked.value };
    } catch (error) {
      if (!(error instanceof ParticipantFailure) || error.retryable) throw error;
      await client.query('ROLLBACK TO SAVEPOINT handler');
      return {
        outcome: 'failure',
        failure: { retryable: false, type: error.type, message: error.message },
      };
    }
  }
}

function transientFailure(error: unknown): StoredReply | ReplyFailure {
  const failure =
    error instanceof ParticipantFailure
      ? { retryable: true, type: error.type, message: error.message }
      : {
          retryable: true,
          type: 'participant-error',
          message: error instanceof Error ? error.message : String(error),
        };
  return { outcome: 'failure', failure };
}

type ReplyFailure = {
  outcome: 'failure';
  failure: { retryable: boolean; type: string; message: string };
};

function reply(command: CommandEnvelope, answer: StoredReply | ReplyFailure): ReplyEnvelope {
  const base = {
    protocol: PROTOCOL,
    messageId: replyMessageId(command.messageId),
    inReplyTo: command.messageId,
    sagaId: command.sagaId,
    step: command.step,
    kind: command.kind,
    attempt: command.attempt,
    idempotencyKey: command.idempotencyKey,
  } as const;
  return answer.outcome === 'success'
    ? { ...base, outcome: 'success', data: answer.data }
    : { ...base, outcome: 'failure', failure: answer.failure };
}
