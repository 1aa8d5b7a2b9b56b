import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsIn,
  IsOptional,
  IsString,
  Length,
  Matches,
} from 'class-validator';
import { Role, ROLES } from './principal';

const REASON = { minLength: 1, maxLength: 500, description: 'why; kept in the audit log' };

/** `POST /api-keys`. */
export class CreateApiKeyDto {
  @ApiProperty({ minLength: 1, maxLength: 100, example: 'ci-deployer' })
  @IsString()
  @Length(1, 100)
  // eslint-disable-next-line no-control-regex -- control characters are what it refuses
  @Matches(/^[^\u0000-\u001f]+$/, { message: 'name may not contain control characters' })
  name!: string;

  @ApiProperty({ enum: ROLES })
  @IsIn(ROLES)
  role!: Role;

  @ApiPropertyOptional({
    type: [String],
    example: ['order'],
    description: 'Only these saga types may be started or acted on with the key; omit for all.',
  })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(50)
  @Matches(/^[a-z][a-z0-9.-]{0,99}$/, { each: true, message: 'sagaTypes must be saga names' })
  sagaTypes?: string[];

  @ApiProperty(REASON)
  @IsString()
  @Length(1, 500)
  reason!: string;
}

/** `DELETE /api-keys/:id` body; the reason may come here or as `?reason=`. */
export class RevokeApiKeyDto {
  @ApiPropertyOptional(REASON)
  @IsOptional()
  @IsString()
  @Length(1, 500)
  reason?: string;
}

export class RevokeApiKeyQuery {
  @ApiPropertyOptional(REASON)
  @IsOptional()
  @IsString()
  @Length(1, 500)
  reason?: string;
}

export class ApiKeyViewDto {
  @ApiProperty({ example: '3f2a9c1e0b7d4a55' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ enum: ROLES }) role!: Role;
  @ApiProperty({ type: [String], nullable: true, description: 'null: every saga type' })
  sagaTypes!: string[] | null;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ description: 'principal id of the creator, or cli:<user>' }) createdBy!: string;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) revokedAt!: string | null;
  @ApiProperty({ nullable: true, type: String }) revokedBy!: string | null;
  @ApiProperty({
    format: 'date-time',
    nullable: true,
    type: String,
    description: 'updated at most once a minute',
  })
  lastUsedAt!: string | null;
}

export class CreatedApiKeyDto extends ApiKeyViewDto {
  @ApiProperty({
    description: 'the raw key, shown this once and stored nowhere',
    example: 'sfk_3f2a9c1e0b7d4a55_…',
  })
  key!: string;
}
