import {
  Body,
  Controller,
  Get,
  Headers,
  HttpCode,
  Param,
  ParseUUIDPipe,
  Post,
  Res,
} from '@nestjs/common';
import { JournalRepository, SagaInstanceRepository, withConnection } from '@sagaflow/persistence';
import { DefinitionRegistry, SagaNotFoundError, StartSaga } from '@sagaflow/runtime';
import { Response } from 'express';
import { DataSource } from 'typeorm';
import { ValidationFailedException } from '../errors/validation-failed.exception';
import { sagaView } from './saga-view';
import { StartSagaDto } from './start-saga.dto';

@Controller('sagas')
export class SagasController {
  private readonly instances = new SagaInstanceRepository();
  private readonly journal = new JournalRepository();

  constructor(
    private readonly dataSource: DataSource,
    private readonly registry: DefinitionRegistry,
    private readonly startSaga: StartSaga,
  ) {}

  /** Starts a saga; repeating the idempotency key answers 200 with the first instance. */
  @Post()
  @HttpCode(201)
  async start(
    @Body() dto: StartSagaDto,
    @Headers('idempotency-key') headerKey: string | undefined,
    @Headers('traceparent') traceparent: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ) {
    const idempotencyKey = dto.idempotencyKey ?? headerKey;
    if (!idempotencyKey || idempotencyKey.length > 200 || idempotencyKey.startsWith('event:')) {
      throw new ValidationFailedException([
        {
          field: 'idempotencyKey',
          messages: [
            'idempotencyKey is required (1 to 200 characters), in the body or the Idempotency-Key header',
          ],
        },
      ]);
    }
    const { instance, created } = await this.startSaga.execute({
      sagaType: dto.sagaType,
      input: dto.input,
      idempotencyKey,
      businessKey: dto.businessKey ?? null,
      actor: 'api',
      ...(traceparent ? { traceparent } : {}),
    });
    if (!created) res.status(200);
    return {
      id: instance.id,
      sagaType: instance.sagaType,
      sagaVersion: instance.sagaVersion,
      status: instance.status,
      created,
    };
  }

  @Get(':id')
  async get(@Param('id', new ParseUUIDPipe({ version: '4' })) id: string) {
    return withConnection(this.dataSource, async (sql) => {
      const stored = await this.instances.findById(sql, id);
      if (!stored) throw new SagaNotFoundError(id);
      const definition = this.registry.find(stored.instance.sagaType, stored.instance.sagaVersion);
      return sagaView(stored, definition, await this.journal.timeline(sql, id));
    });
  }
}
