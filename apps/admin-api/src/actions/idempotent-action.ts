import { Injectable } from '@nestjs/common';
import { Sql, withConnection } from '@sagaflow/persistence';
import { Request } from 'express';
import { DataSource } from 'typeorm';
import { AuditLog } from '../audit/audit-log';
import { requestFingerprint } from '../audit/request-fingerprint';
import { ApiError } from '../errors/api-error';

/** What a mutating handler answers; stored with its audit record so a replay answers the same. */
export interface ActionResponse {
  readonly statusCode: number;
  readonly body: unknown;
}

/**
 * Idempotency for mutating calls: the response of an applied call is stored in its audit
 * record (same transaction), keyed by principal and `Idempotency-Key`. A repeat with the same
 * key and the same request answers the stored response; the same key for another request is a
 * 409 — a client bug worth hearing about.
 */
@Injectable()
export class IdempotentActions {
  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditLog,
  ) {}

  /** The stored response for this key, or null; throws when the key was used for another request. */
  async replay(req: Request, key: string | undefined): Promise<ActionResponse | null> {
    if (key === undefined) return null;
    const principal = req.principal!;
    const found = await withConnection(this.dataSource, (sql) =>
      this.audit.findReplay(sql, principal.id, key),
    );
    if (!found) return null;
    if (found.fingerprint !== requestFingerprint(req))
      throw new ApiError(
        'IDEMPOTENCY_KEY_REUSED',
        `Idempotency-Key "${key}" was already used for a different request; use a new key for a new request`,
      );
    return { statusCode: found.statusCode, body: found.response };
  }

  /** Writes the applied audit record inside the action's transaction. */
  async record(
    sql: Sql,
    req: Request,
    entry: {
      action: string;
      sagaId: string | null;
      reason: string;
      idempotencyKey: string | undefined;
      response: ActionResponse;
      detail?: object;
    },
  ): Promise<void> {
    await this.audit.recordApplied(sql, req, {
      action: entry.action,
      sagaId: entry.sagaId,
      reason: entry.reason,
      idempotencyKey: entry.idempotencyKey ?? null,
      fingerprint: entry.idempotencyKey === undefined ? null : requestFingerprint(req),
      statusCode: entry.response.statusCode,
      response: entry.response.body,
      ...(entry.detail ? { detail: entry.detail } : {}),
    });
  }
}

/** An idempotency key header: 1 to 200 printable characters. */
export function idempotencyKeyOf(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  if (!/^[\x21-\x7e]{1,200}$/.test(header))
    throw new ApiError(
      'VALIDATION_FAILED',
      'Idempotency-Key must be 1 to 200 visible ASCII characters',
      [
        {
          field: 'Idempotency-Key',
          messages: ['use 1 to 200 visible ASCII characters, e.g. a UUID'],
        },
      ],
    );
  return header;
}

/** Two requests raced with one key: the loser's audit insert hit the unique index. */
export function isKeyClash(error: unknown): boolean {
  return error instanceof ApiError && error.code === 'IDEMPOTENCY_KEY_REUSED';
}
