import { Body, Controller, HttpCode, Post, Req } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { OperatorAction } from '@sagaflow/engine';
import { withConnection } from '@sagaflow/persistence';
import { OperatorActions, SagaRuntimeError } from '@sagaflow/runtime';
import { Request } from 'express';
import { DataSource } from 'typeorm';
import { ApiError } from '../errors/api-error';
import { BulkActionDto, BulkFilterDto } from './action.dto';
import { AuditLog } from '../audit/audit-log';
import { actionView, actorOf, ACTION_NAMES, scopeOf } from './action-runner';
import { IdempotentActions } from './idempotent-action';

type BulkAction = 'retry' | 'compensate' | 'cancel';

/** What happened to one saga of a bulk action. */
export interface BulkItemResult {
  readonly id: string;
  readonly outcome: 'applied' | 'forbidden' | 'refused' | 'not-found' | 'conflict' | 'error';
  readonly status?: string;
  readonly version?: number;
  readonly code?: string;
  readonly message?: string;
}

/** The statuses a filter selects by default: where the action can apply at all. */
const DEFAULT_STATUSES: Record<BulkAction, readonly string[]> = {
  retry: ['failed'],
  compensate: ['running', 'failed'],
  cancel: ['running', 'failed'],
};

/**
 * `POST /sagas/bulk/<action>` by id list or filter: each saga is acted on in its own
 * transaction with its own audit record, and reported item by item — one refusal does not
 * stop the others.
 */
@ApiTags('operator actions')
@Controller('sagas/bulk')
export class BulkActionsController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly actions: OperatorActions,
    private readonly idempotency: IdempotentActions,
    private readonly audit: AuditLog,
  ) {}

  @Post('retry')
  @HttpCode(200)
  @ApiOperation({ summary: 'Retry many failed sagas, by ids or filter' })
  retry(@Body() dto: BulkActionDto, @Req() req: Request) {
    return this.run(req, dto, 'retry');
  }

  @Post('compensate')
  @HttpCode(200)
  @ApiOperation({ summary: 'Compensate many sagas now, by ids or filter' })
  compensate(@Body() dto: BulkActionDto, @Req() req: Request) {
    return this.run(req, dto, 'compensate');
  }

  @Post('cancel')
  @HttpCode(200)
  @ApiOperation({ summary: 'Cancel many sagas, by ids or filter' })
  cancel(@Body() dto: BulkActionDto, @Req() req: Request) {
    return this.run(req, dto, 'cancel');
  }

  private async run(req: Request, dto: BulkActionDto, type: BulkAction) {
    if ((dto.ids === undefined) === (dto.filter === undefined))
      throw new ApiError(
        'VALIDATION_FAILED',
        'give either ids or filter, not both and not neither',
        [{ field: 'ids', messages: ['give either ids or filter'] }],
      );
    const ids = dto.ids
      ? [...new Set(dto.ids)]
      : await this.select(dto.filter!, type, dto.limit ?? 100);
    const results: BulkItemResult[] = [];
    for (const id of ids) results.push(await this.one(req, id, { type }, dto.reason));
    const summary: Record<BulkItemResult['outcome'], number> = {
      applied: 0,
      forbidden: 0,
      refused: 0,
      'not-found': 0,
      conflict: 0,
      error: 0,
    };
    for (const r of results) summary[r.outcome]++;
    return { action: ACTION_NAMES[type], requested: ids.length, summary, results };
  }

  private async one(
    req: Request,
    id: string,
    action: OperatorAction,
    reason: string,
  ): Promise<BulkItemResult> {
    try {
      const result = await this.actions.apply(
        {
          sagaId: id,
          action,
          actor: actorOf(req.principal!),
          reason,
          mayActOn: scopeOf(req.principal!),
        },
        (sql, result) =>
          this.idempotency.record(sql, req, {
            action: `bulk-${ACTION_NAMES[action.type]}`,
            sagaId: id,
            reason,
            idempotencyKey: undefined,
            response: { statusCode: 200, body: actionView(id, action, result) },
          }),
      );
      return {
        id,
        outcome: 'applied',
        status: result.instance.status,
        version: result.instance.version,
      };
    } catch (error) {
      const failure = itemFailure(id, error);
      if (failure.outcome === 'forbidden')
        await this.audit.recordItemDenied(req, {
          action: `bulk-${ACTION_NAMES[action.type]}`,
          sagaId: id,
          reason,
          code: failure.code!,
          message: failure.message!,
        });
      return failure;
    }
  }

  /** The sagas a filter names, oldest update first, at most `limit`. */
  private async select(filter: BulkFilterDto, type: BulkAction, limit: number): Promise<string[]> {
    const statuses = filter.status ? [filter.status] : DEFAULT_STATUSES[type];
    return withConnection(this.dataSource, async (sql) => {
      const rows = await sql.rows<{ id: string }>(
        `SELECT id FROM saga_instance
          WHERE status = ANY($1::text[])
            AND ($2::text IS NULL OR saga_type = $2)
            AND ($3::int IS NULL OR saga_version = $3)
            AND ($4::timestamptz IS NULL OR updated_at < $4)
          ORDER BY updated_at, id
          LIMIT $5`,
        [
          statuses,
          filter.sagaType ?? null,
          filter.sagaVersion ?? null,
          filter.updatedBefore ?? null,
          limit,
        ],
      );
      return rows.map((r) => r.id);
    });
  }
}

function itemFailure(id: string, error: unknown): BulkItemResult {
  const code = (error as { code?: string }).code;
  const message = error instanceof Error ? error.message : String(error);
  if (code === 'ACTION_FORBIDDEN') return { id, outcome: 'forbidden', code, message };
  if (code === 'SAGA_NOT_FOUND') return { id, outcome: 'not-found', code, message };
  if (code === 'ILLEGAL_ACTION') return { id, outcome: 'refused', code, message };
  if (code === 'OPTIMISTIC_LOCK_CONFLICT' || code === 'VERSION_MISMATCH')
    return { id, outcome: 'conflict', code, message };
  if (error instanceof SagaRuntimeError) return { id, outcome: 'refused', code, message };
  return {
    id,
    outcome: 'error',
    code: 'INTERNAL',
    message: 'internal error; the server log has the details',
  };
}
