import { IsObject, IsOptional, IsString, Length, Matches } from 'class-validator';

/** `POST /sagas`. The idempotency key may come here or in the `Idempotency-Key` header. */
export class StartSagaDto {
  @IsString()
  @Matches(/^[a-z][a-z0-9.-]*$/, { message: 'sagaType must be a saga name such as "order"' })
  @Length(1, 100)
  sagaType!: string;

  @IsObject({ message: 'input must be a JSON object' })
  input!: Record<string, unknown>;

  @IsOptional()
  @IsString()
  @Length(1, 200)
  @Matches(/^(?!event:)/, {
    message:
      'idempotencyKey may not start with "event:": that prefix is reserved for sagas started by domain events',
  })
  idempotencyKey?: string;

  @IsOptional()
  @IsString()
  @Length(1, 200)
  businessKey?: string;
}
