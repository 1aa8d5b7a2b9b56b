import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsISO8601, IsOptional, IsString, IsUUID, Length, Matches } from 'class-validator';
import { AUDIT_OUTCOMES, AuditOutcome } from './audit-record';

/** `GET /audit-records` filters. Query values are strings; the controller converts them. */
export class ListAuditRecordsQuery {
  @ApiPropertyOptional({ format: 'uuid', description: 'only records of this saga' })
  @IsOptional()
  @IsUUID()
  sagaId?: string;

  @ApiPropertyOptional({ description: 'principal id, e.g. key:3f2a9c1e0b7d4a55 or jwt:alice' })
  @IsOptional()
  @IsString()
  @Length(1, 300)
  principal?: string;

  @ApiPropertyOptional({ enum: AUDIT_OUTCOMES })
  @IsOptional()
  @IsIn(AUDIT_OUTCOMES)
  outcome?: AuditOutcome;

  @ApiPropertyOptional({ format: 'date-time', description: 'records at or after this instant' })
  @IsOptional()
  @IsISO8601({ strict: true })
  since?: string;

  @ApiPropertyOptional({ description: 'keyset pagination: the `next` of the previous page' })
  @IsOptional()
  @Matches(/^[0-9]{1,18}$/, { message: 'after must be a record id (digits)' })
  after?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 500, default: 100 })
  @IsOptional()
  @Matches(/^(500|[1-4][0-9]{2}|[1-9][0-9]?)$/, {
    message: 'limit must be an integer from 1 to 500',
  })
  limit?: string;
}
