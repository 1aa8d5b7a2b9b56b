import { ApiPropertyOptional } from '@nestjs/swagger';
import { PARKED_STATUSES, ParkedStatus } from '@sagaflow/persistence';
import { Transform } from 'class-transformer';
import {
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUUID,
  Length,
  Matches,
  Max,
  Min,
} from 'class-validator';
import { ActionDto } from '../../actions/action.dto';
import { decimalNumber } from '../query-transforms';

export const MAX_PARKED_PAGE = 500;
export const DEFAULT_PARKED_PAGE = 50;

/** `GET /parked-messages`: filters (ANDed) and the page, newest first. */
export class ListParkedMessagesDto {
  @ApiPropertyOptional({ enum: PARKED_STATUSES })
  @IsOptional()
  @IsIn(PARKED_STATUSES, { message: `status must be one of ${PARKED_STATUSES.join(', ')}` })
  status?: ParkedStatus;

  @ApiPropertyOptional({ description: 'Why it was parked', example: 'invalid-reply' })
  @IsOptional()
  @IsString()
  @Matches(/^[a-z][a-z-]{0,99}$/, {
    message: 'reasonCode must be a reason code such as invalid-reply',
  })
  reasonCode?: string;

  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional()
  @IsUUID('all', { message: 'sagaId must be a saga id (UUID)' })
  sagaId?: string;

  @ApiPropertyOptional({
    description: 'The topic it was read from (with the deployment prefix)',
    example: 'sagaflow.replies',
  })
  @IsOptional()
  @IsString()
  @Length(1, 249)
  topic?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: MAX_PARKED_PAGE, default: DEFAULT_PARKED_PAGE })
  @IsOptional()
  @Transform(decimalNumber, { toClassOnly: true })
  @IsInt({ message: 'limit must be a whole number' })
  @Min(1)
  @Max(MAX_PARKED_PAGE)
  limit?: number;

  @ApiPropertyOptional({ description: 'nextCursor of the previous page, as returned' })
  @IsOptional()
  @IsString()
  cursor?: string;
}

/** `POST /parked-messages/:id/replay` and `/discard`: every resolution says why, like any action. */
export class ResolveParkedMessageDto extends ActionDto {}
