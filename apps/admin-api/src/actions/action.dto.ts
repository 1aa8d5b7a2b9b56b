import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsDefined,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUUID,
  Length,
  Matches,
  Max,
  Min,
  ValidateNested,
} from 'class-validator';

const REASON = {
  description: 'Why: recorded with the action in the saga timeline and the audit log.',
  minLength: 3,
  maxLength: 500,
  example: 'payment provider outage INC-42 is over',
};

/** Every operator action says why. */
export class ActionDto {
  @ApiProperty(REASON)
  @IsString()
  @Length(3, 500, { message: 'reason must be 3 to 500 characters: say why you act' })
  reason!: string;
}

export class SkipStepDto extends ActionDto {
  @ApiProperty({ description: 'The outstanding (or failed) forward step to treat as succeeded.' })
  @IsString()
  @Length(1, 100)
  step!: string;

  @ApiProperty({
    description: 'The reply data the step would have returned; validated against its reply schema.',
    type: 'object',
    additionalProperties: true,
    example: { chargeId: 'ch-manual-1' },
  })
  @IsDefined({ message: 'reply is required: the data the step would have replied with' })
  reply!: unknown;
}

export class MarkCompensatedDto extends ActionDto {
  @ApiProperty({
    description: 'How you know the compensation was done (ticket, reference, …).',
    minLength: 3,
    maxLength: 2000,
    example: 'released by hand, ticket OPS-123',
  })
  @IsString()
  @Length(3, 2000, { message: 'evidence must be 3 to 2000 characters' })
  evidence!: string;
}

export const BULK_STATUSES = ['running', 'compensating', 'failed'] as const;

/** Which sagas a bulk action applies to, when not given by id. */
export class BulkFilterDto {
  @ApiPropertyOptional({ example: 'order' })
  @IsOptional()
  @IsString()
  @Matches(/^[a-z][a-z0-9.-]*$/, { message: 'sagaType must be a saga name such as "order"' })
  sagaType?: string;

  @ApiPropertyOptional({ minimum: 1 })
  @IsOptional()
  @IsInt()
  @Min(1)
  sagaVersion?: number;

  @ApiPropertyOptional({ enum: BULK_STATUSES })
  @IsOptional()
  @IsIn(BULK_STATUSES, { message: `status must be one of ${BULK_STATUSES.join(', ')}` })
  status?: (typeof BULK_STATUSES)[number];

  @ApiPropertyOptional({
    description: 'Only sagas not updated since this time (ISO 8601).',
    example: '2026-11-26T10:00:00Z',
  })
  @IsOptional()
  @IsString()
  @Matches(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/, {
    message: 'updatedBefore must be an ISO 8601 time such as 2026-11-26T10:00:00Z',
  })
  updatedBefore?: string;
}

export const BULK_LIMIT = 500;

export class BulkActionDto extends ActionDto {
  @ApiPropertyOptional({
    type: [String],
    description: `Saga ids (at most ${BULK_LIMIT}); give ids or filter.`,
    example: ['3fa85f64-5717-4562-b3fc-2c963f66afa6'],
  })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(BULK_LIMIT)
  @IsUUID('4', { each: true, message: 'ids must be saga ids (UUID v4)' })
  ids?: string[];

  @ApiPropertyOptional({ type: BulkFilterDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => BulkFilterDto)
  filter?: BulkFilterDto;

  @ApiPropertyOptional({ minimum: 1, maximum: BULK_LIMIT, default: 100 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(BULK_LIMIT)
  limit?: number;
}
