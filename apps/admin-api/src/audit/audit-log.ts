import { Injectable, Logger } from '@nestjs/common';
import { Sql, withConnection } from '@sagaflow/persistence';
import { Request } from 'express';
import { DataSource } from 'typeorm';
import { isMutating } from '../auth/policy';
import { ApiError, ApiErrorBody, ErrorAuditor } from '../errors';
import { AuditRecordView, outcomeOf } from './audit-record';
import { AuditFilter, AuditRecordRepository } from './audit-record.repository';
import { defaultAction, idempotencyHeader, requestFields } from './audit-request';

/** What a handler records about the change it made. */
export interface AppliedEntry {
  /** A short name such as `saga.retry`. */
  readonly action: string;
  /** Defaults to the `:id` of `/sagas/:id/...`. */
  readonly sagaId?: string | null;
  readonly reason: string | null;
  readonly idempotencyKey?: string | null;
  /** `requestFingerprint(req)` when `idempotencyKey` is set. */
  readonly fingerprint?: string | null;
  readonly statusCode: number;
  /** Replayed as is for a repeated idempotency key: never put a secret here. */
  readonly response: unknown;
  readonly detail?: object;
}

/** Error codes whose messages the server wrote itself; others may echo the request, so only the code is kept. */
const MESSAGE_KEPT = new Set<string>([
  'UNAUTHENTICATED',
  'AUTHENTICATION_UNAVAILABLE',
  'FORBIDDEN',
  'RATE_LIMITED',
  'ILLEGAL_ACTION',
  'VERSION_MISMATCH',
  'OPTIMISTIC_LOCK_CONFLICT',
  'IDEMPOTENCY_KEY_REUSED',
  'SAGA_NOT_FOUND',
  'INTERNAL',
]);

/**
 * The audit log of operator actions. Handlers call `recordApplied` inside the transaction
 * that makes their change, so the change and its record commit or vanish together; the
 * interceptor and the exception filter record every other ending of a mutating request.
 */
@Injectable()
export class AuditLog implements ErrorAuditor {
  private readonly records = new AuditRecordRepository();
  private readonly logger = new Logger('Audit');

  constructor(private readonly dataSource: DataSource) {}

  /**
   * Records a change the handler made, in its transaction (`sql`).
   *
   * @throws ApiError IDEMPOTENCY_KEY_REUSED when another request of this principal with the same
   * key committed first (the transaction is then aborted: let it roll back, look the replay up).
   */
  async recordApplied(sql: Sql, req: Request, entry: AppliedEntry): Promise<void> {
    const fields = requestFields(req);
    try {
      req.auditRecordId = await this.records.insert(sql, {
        ...fields,
        sagaId: entry.sagaId === undefined ? fields.sagaId : entry.sagaId,
        action: entry.action,
        reason: entry.reason,
        idempotencyKey: entry.idempotencyKey ?? null,
        fingerprint: entry.fingerprint ?? null,
        outcome: 'applied',
        statusCode: entry.statusCode,
        response: entry.response,
        detail: entry.detail ?? {},
      });
    } catch (error) {
      if (isIdempotencyClash(error)) {
        throw new ApiError(
          'IDEMPOTENCY_KEY_REUSED',
          'another request with this Idempotency-Key was applied at the same time; repeat the request to get its response',
        );
      }
      throw error;
    }
    req.auditRecorded = true;
  }

  findReplay(
    sql: Sql,
    principalId: string,
    idempotencyKey: string,
  ): Promise<{ fingerprint: string | null; statusCode: number; response: unknown } | null> {
    return this.records.findApplied(sql, principalId, idempotencyKey);
  }

  /** The audit records of one saga, oldest first. */
  bySaga(sql: Sql, sagaId: string): Promise<AuditRecordView[]> {
    return this.records.bySaga(sql, sagaId);
  }

  list(sql: Sql, filter: AuditFilter): Promise<AuditRecordView[]> {
    return this.records.list(sql, filter);
  }

  /** Safety net, after a handler succeeded: records it as applied unless the handler did. */
  async recordSuccess(req: Request, statusCode: number, response: unknown): Promise<void> {
    if (!isMutating(req.method) || req.auditRecorded) return;
    const key = idempotencyHeader(req);
    await this.write(req, {
      outcome: 'applied',
      statusCode,
      response,
      // Not in the idempotency column: the handler did not promise replays under this key.
      detail: key ? { idempotencyKey: key } : {},
      idempotencyKey: null,
    });
  }

  /** Safety net, from the exception filter: one record of a mutating request that ended in an error. */
  async recordFailure(req: Request, body: ApiErrorBody): Promise<void> {
    if (!isMutating(req.method)) return;
    // A record the handler wrote may have been rolled back with its transaction; if it was
    // committed, the request already has its one record.
    if (req.auditRecordId && (await this.committed(req.auditRecordId))) return;
    const outcome = outcomeOf(body.statusCode);
    await this.write(req, {
      outcome,
      statusCode: body.statusCode,
      response: outcome === 'failed' ? body : null,
      detail: MESSAGE_KEPT.has(body.code)
        ? { code: body.code, message: body.message }
        : { code: body.code },
      idempotencyKey: idempotencyHeader(req),
    });
  }

  /**
   * One item of a bulk action refused for this caller (its credentials do not cover the
   * saga): a `denied` record of its own, so denials are audited item by item too.
   */
  async recordItemDenied(
    req: Request,
    item: { action: string; sagaId: string; reason: string; code: string; message: string },
  ): Promise<void> {
    await this.write(req, {
      outcome: 'denied',
      statusCode: 403,
      response: null,
      detail: { code: item.code, message: item.message },
      idempotencyKey: null,
      sagaId: item.sagaId,
      action: item.action,
      reason: item.reason,
    });
  }

  private committed(id: string): Promise<boolean> {
    return withConnection(this.dataSource, (sql) => this.records.exists(sql, id));
  }

  private async write(
    req: Request,
    r: {
      outcome: 'applied' | 'denied' | 'rejected' | 'failed';
      statusCode: number;
      response: unknown;
      detail: object;
      idempotencyKey: string | null;
      sagaId?: string;
      action?: string;
      reason?: string;
    },
  ): Promise<void> {
    const id = await withConnection(this.dataSource, (sql) =>
      this.records.insert(sql, {
        ...requestFields(req),
        action: defaultAction(req),
        reason: null,
        fingerprint: null,
        ...r,
      }),
    );
    req.auditRecorded = true;
    req.auditRecordId = id;
    this.logger.debug(`audit ${id}: ${req.method} ${req.path} → ${r.outcome}`);
  }
}

function isIdempotencyClash(error: unknown): boolean {
  const driverError = (error as { driverError?: { code?: string; constraint?: string } })
    .driverError;
  const pg = driverError ?? (error as { code?: string; constraint?: string });
  return pg?.code === '23505' && pg.constraint === 'audit_record_idempotency';
}
