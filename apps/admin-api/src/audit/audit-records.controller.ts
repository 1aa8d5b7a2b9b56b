import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { withConnection } from '@sagaflow/persistence';
import { DataSource } from 'typeorm';
import { ValidationFailedException } from '../errors';
import { AuditRecordView } from './audit-record';
import { AuditLog } from './audit-log';
import { ListAuditRecordsQuery } from './list-audit-records.dto';

/** `GET /audit-records` (admin): the audit log, filtered, oldest first, a page at a time. */
@ApiTags('audit')
@Controller('audit-records')
export class AuditRecordsController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditLog,
  ) {}

  @Get()
  @ApiOkResponse({
    description: '`{ items, next }`; pass `next` as `after` for the next page (null: no more)',
  })
  async list(
    @Query() query: ListAuditRecordsQuery,
  ): Promise<{ items: AuditRecordView[]; next: string | null }> {
    const limit = Number(query.limit ?? 100);
    const since = query.since ? new Date(query.since) : undefined;
    if (since && Number.isNaN(since.getTime())) {
      throw new ValidationFailedException([
        { field: 'since', messages: ['since must be a real instant'] },
      ]);
    }
    const items = await withConnection(this.dataSource, (sql) =>
      this.audit.list(sql, {
        limit,
        ...(query.sagaId ? { sagaId: query.sagaId } : {}),
        ...(query.principal ? { principalId: query.principal } : {}),
        ...(query.outcome ? { outcome: query.outcome } : {}),
        ...(since ? { since } : {}),
        ...(query.after ? { after: query.after } : {}),
      }),
    );
    return { items, next: items.length === limit ? items[items.length - 1]!.id : null };
  }
}
