import { Injectable } from '@nestjs/common';
import {
  ParkedMessageRepository,
  Sql,
  StoredParkedMessage,
  withTransaction,
} from '@sagaflow/persistence';
import { Request } from 'express';
import { DataSource } from 'typeorm';
import { AuditLog, requestFingerprint } from '../../audit';
import { ApiError } from '../../errors/api-error';
import { parkedSummaryView } from './parked-message.view';

export type ParkedAction = 'replay' | 'discard';

export interface ResolveParkedCommand {
  readonly id: string;
  readonly action: ParkedAction;
  readonly reason: string;
  readonly idempotencyKey: string | null;
}

/** What the route answers: the status and body, also stored for a repeated idempotency key. */
export interface ParkedActionResponse {
  readonly statusCode: number;
  readonly body: unknown;
}

/**
 * Replays or discards a parked message, in one transaction with its audit record:
 *
 * - the row is locked first, so two operators (or a retried request) act one after the other;
 * - a repeated `Idempotency-Key` with the same request answers what the first one answered;
 * - only a `parked` message can be resolved (409 `ILLEGAL_ACTION` otherwise, saying how it was);
 * - a replay copies the original key, headers and body into the outbox, so the relay puts the
 *   message back on its topic and the consumer processes it again (a parked reply's id was
 *   left out of the inbox, so it is not taken for a duplicate).
 */
@Injectable()
export class ResolveParkedMessage {
  private readonly parked = new ParkedMessageRepository();

  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditLog,
  ) {}

  execute(req: Request, command: ResolveParkedCommand): Promise<ParkedActionResponse> {
    return withTransaction(this.dataSource, async (sql) => {
      const message = await this.parked.findById(sql, command.id, { forUpdate: true });
      if (!message) throw new ApiError('NOT_FOUND', `no parked message with id ${command.id}`);
      const repeated = await this.repeatedResponse(sql, req, command);
      if (repeated) return repeated;
      if (message.status !== 'parked') throw notParked(message, command.action);
      if (command.action === 'replay') {
        const refusal = replayRefusal(message.body);
        if (refusal)
          throw new ApiError(
            'ILLEGAL_ACTION',
            `parked message ${message.id} cannot be replayed: ${refusal}`,
          );
        await this.parked.requeue(sql, message.id);
      }
      await this.parked.resolve(sql, message.id, {
        status: command.action === 'replay' ? 'replayed' : 'discarded',
        by: req.principal?.name ?? 'unknown',
        note: command.reason,
      });
      const resolved = (await this.parked.findById(sql, message.id))!;
      const response = { statusCode: 200, body: parkedSummaryView(resolved) };
      await this.audit.recordApplied(sql, req, {
        action: `parked-message.${command.action}`,
        sagaId: message.sagaId,
        reason: command.reason,
        idempotencyKey: command.idempotencyKey,
        fingerprint: command.idempotencyKey === null ? null : requestFingerprint(req),
        statusCode: response.statusCode,
        response: response.body,
        detail: {
          parkedMessageId: message.id,
          topic: message.topic,
          reasonCode: message.reasonCode,
        },
      });
      return response;
    });
  }

  /**
   * The stored answer to an earlier request with this key. Looked up after the row lock: a
   * concurrent twin that got the lock first has committed by then, so its answer is found.
   */
  private async repeatedResponse(
    sql: Sql,
    req: Request,
    command: ResolveParkedCommand,
  ): Promise<ParkedActionResponse | null> {
    if (command.idempotencyKey === null || !req.principal) return null;
    const found = await this.audit.findReplay(sql, req.principal.id, command.idempotencyKey);
    if (!found) return null;
    if (found.fingerprint !== requestFingerprint(req)) {
      throw new ApiError(
        'IDEMPOTENCY_KEY_REUSED',
        `Idempotency-Key "${command.idempotencyKey}" was already used for a different request; use a new key for a new request`,
      );
    }
    req.auditRecorded = true; // the first request has its record; a replay adds none
    return { statusCode: found.statusCode, body: found.response };
  }
}

function notParked(message: StoredParkedMessage, action: ParkedAction): ApiError {
  const how = message.resolution
    ? ` by ${message.resolution.by ?? 'unknown'} at ${message.resolution.at.toISOString()}${
        message.resolution.note ? ` ("${message.resolution.note}")` : ''
      }`
    : '';
  return new ApiError(
    'ILLEGAL_ACTION',
    `parked message ${message.id} was already ${message.status}${how}; only a parked message can be ${
      action === 'replay' ? 'replayed' : 'discarded'
    }`,
  );
}

/**
 * Why the body cannot go back through the outbox, or null. The relay publishes the outbox's
 * jsonb, so only JSON that PostgreSQL's jsonb holds can be replayed as it was; anything else
 * would only be parked again (it stays readable at its topic, partition and offset).
 */
export function replayRefusal(body: string | null): string | null {
  if (body === null) return 'it has no body; discard it instead';
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return 'its body is not JSON (it would only be parked again); discard it instead';
  }
  if (parsed === null) return 'its body is JSON null; discard it instead';
  // jsonb refuses \u0000 and unpaired surrogates (JSON.stringify writes both as escapes).
  if (/\\u0000|\\ud[89a-f][0-9a-f]{2}/i.test(JSON.stringify(parsed))) {
    return 'its body holds characters PostgreSQL jsonb cannot store (\\u0000 or an unpaired surrogate); discard it instead';
  }
  return null;
}
