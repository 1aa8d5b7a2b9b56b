import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import {
  IsIn,
  IsInt,
  IsISO8601,
  IsOptional,
  IsString,
  Length,
  Matches,
  Max,
  Min,
} from 'class-validator';
import { decimalNumber } from '../query-transforms';

export const DURATION_PATTERN = /^\d{1,9}(\.\d{1,3})?(ms|s|m|h|d)$/;

/** The filters shared by `GET /sagas` and `GET /sagas/counts`; all optional, all ANDed. */
export class SagaFilterDto {
  @ApiPropertyOptional({ description: 'Saga type (definition name)', example: 'order' })
  @IsOptional()
  @IsString()
  @Length(1, 100)
  @Matches(/^[a-z][a-z0-9.-]*$/, { message: 'type must be a saga name such as "order"' })
  type?: string;

  @ApiPropertyOptional({
    description: 'Definition version (needs no type, but usually goes with one)',
    example: 1,
    minimum: 1,
  })
  @IsOptional()
  @Transform(decimalNumber, { toClassOnly: true })
  @IsInt({ message: 'version must be a whole number' })
  @Min(1)
  @Max(2_147_483_647)
  version?: number;

  @ApiPropertyOptional({
    description:
      'Name of the step the saga is at: the step being run or undone (running, compensating) or where a failed saga stopped',
    example: 'chargePayment',
  })
  @IsOptional()
  @IsString()
  @Length(1, 100)
  step?: string;

  @ApiPropertyOptional({ description: 'Exact business key', example: 'order-1001' })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  businessKey?: string;

  @ApiPropertyOptional({
    description: 'Created at or after (ISO 8601)',
    example: '2025-11-01T00:00:00Z',
  })
  @IsOptional()
  @IsISO8601(
    { strict: true },
    { message: 'createdFrom must be an ISO 8601 date-time, e.g. 2025-11-01T00:00:00Z' },
  )
  createdFrom?: string;

  @ApiPropertyOptional({
    description: 'Created before (ISO 8601, exclusive)',
    example: '2025-12-01T00:00:00Z',
  })
  @IsOptional()
  @IsISO8601(
    { strict: true },
    { message: 'createdTo must be an ISO 8601 date-time, e.g. 2025-12-01T00:00:00Z' },
  )
  createdTo?: string;

  @ApiPropertyOptional({ description: 'Last changed at or after (ISO 8601)' })
  @IsOptional()
  @IsISO8601(
    { strict: true },
    { message: 'updatedFrom must be an ISO 8601 date-time, e.g. 2025-11-01T00:00:00Z' },
  )
  updatedFrom?: string;

  @ApiPropertyOptional({ description: 'Last changed before (ISO 8601, exclusive)' })
  @IsOptional()
  @IsISO8601(
    { strict: true },
    { message: 'updatedTo must be an ISO 8601 date-time, e.g. 2025-12-01T00:00:00Z' },
  )
  updatedTo?: string;

  @ApiPropertyOptional({
    description:
      'Running or compensating, and unchanged for longer than this (e.g. 30s, 5m, 1h, 2d)',
    example: '5m',
  })
  @IsOptional()
  @IsString()
  @Matches(DURATION_PATTERN, {
    message: 'stuckFor must be a duration such as 30s, 5m, 1h or 2d (units: ms, s, m, h, d)',
  })
  stuckFor?: string;

  @ApiPropertyOptional({
    description: 'true: running or compensating sagas whose deadline is overdue or has fired',
    enum: ['true', 'false'],
  })
  @IsOptional()
  @IsIn(['true', 'false'], { message: 'pastDeadline must be true or false' })
  pastDeadline?: string;
}
