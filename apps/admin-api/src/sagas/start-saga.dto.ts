import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsObject, IsOptional, IsString, Length, Matches } from 'class-validator';

/** `POST /sagas`. The idempotency key may come here or in the `Idempotency-Key` header. */
export class StartSagaDto {
  @ApiProperty({
    description: 'The saga definition to start (its latest version is used)',
    example: 'order',
    minLength: 1,
    maxLength: 100,
    pattern: '^[a-z][a-z0-9.-]*$',
  })
  @IsString()
  @Matches(/^[a-z][a-z0-9.-]*$/, { message: 'sagaType must be a saga name such as "order"' })
  @Length(1, 100)
  sagaType!: string;

  @ApiProperty({
    description: "The saga input, validated by the definition's input schema",
    type: 'object',
    additionalProperties: true,
    example: {
      orderId: '1001',
      customerId: 'c-7',
      sku: 'SKU-1',
      quantity: 1,
      amount: 25,
      card: '4242424242424242',
    },
  })
  @IsObject({ message: 'input must be a JSON object' })
  input!: Record<string, unknown>;

  @ApiPropertyOptional({
    description:
      'Makes the start idempotent (or send the Idempotency-Key header); may not start with "event:"',
    example: 'order-1001',
    minLength: 1,
    maxLength: 200,
  })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  @Matches(/^(?!event:)/, {
    message:
      'idempotencyKey may not start with "event:": that prefix is reserved for sagas started by domain events',
  })
  idempotencyKey?: string;

  @ApiPropertyOptional({
    description: 'Your own reference for the saga, searchable with GET /sagas?businessKey=',
    example: '1001',
    minLength: 1,
    maxLength: 200,
  })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  businessKey?: string;
}
