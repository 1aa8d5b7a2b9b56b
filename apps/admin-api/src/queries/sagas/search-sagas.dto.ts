import { ApiPropertyOptional } from '@nestjs/swagger';
import { SAGA_STATUSES, SagaStatus } from '@sagaflow/engine';
import { Transform } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Max, Min } from 'class-validator';
import { commaSeparated, decimalNumber } from '../query-transforms';
import { SagaFilterDto } from './saga-filter.dto';

export const MAX_PAGE_SIZE = 500;
export const DEFAULT_PAGE_SIZE = 50;

/** `GET /sagas`: the filters, one or more statuses, the order and the page. */
export class SearchSagasDto extends SagaFilterDto {
  @ApiPropertyOptional({
    description: 'One or more statuses, comma-separated (or the parameter repeated)',
    example: 'running,failed',
    type: String,
  })
  @IsOptional()
  @Transform(commaSeparated, { toClassOnly: true })
  @IsIn(SAGA_STATUSES, {
    each: true,
    message: `status must be one or more of ${SAGA_STATUSES.join(', ')}, comma-separated`,
  })
  status?: SagaStatus[];

  @ApiPropertyOptional({ enum: ['createdAt', 'updatedAt'], default: 'updatedAt' })
  @IsOptional()
  @IsIn(['createdAt', 'updatedAt'], { message: 'sort must be createdAt or updatedAt' })
  sort?: 'createdAt' | 'updatedAt';

  @ApiPropertyOptional({ enum: ['asc', 'desc'], default: 'desc' })
  @IsOptional()
  @IsIn(['asc', 'desc'], { message: 'order must be asc or desc' })
  order?: 'asc' | 'desc';

  @ApiPropertyOptional({ minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE })
  @IsOptional()
  @Transform(decimalNumber, { toClassOnly: true })
  @IsInt({ message: 'limit must be a whole number' })
  @Min(1)
  @Max(MAX_PAGE_SIZE)
  limit?: number;

  @ApiPropertyOptional({ description: 'nextCursor of the previous page, as returned' })
  @IsOptional()
  @IsString()
  cursor?: string;
}
