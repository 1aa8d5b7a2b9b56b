import { Body, Controller, Headers, HttpCode, Post, Req, Res } from '@nestjs/common';
import { ApiHeader, ApiOperation, ApiTags } from '@nestjs/swagger';
import { StartSaga, StartSagaResult } from '@sagaflow/runtime';
import { Request, Response } from 'express';
import { actorOf } from '../actions/action-runner';
import { AuditLog } from '../audit/audit-log';
import { mayActOn } from '../auth/principal';
import { ApiError } from '../errors/api-error';
import { ValidationFailedException } from '../errors/validation-failed.exception';
import { StartSagaDto } from './start-saga.dto';

/**
 * `POST /sagas`. Reading sagas (`GET /sagas`, `GET /sagas/:id`) is the queries module's
 * (`queries/sagas/saga-queries.controller.ts`).
 */
@ApiTags('sagas')
@Controller('sagas')
export class SagasController {
  constructor(
    private readonly startSaga: StartSaga,
    private readonly audit: AuditLog,
  ) {}

  /** Starts a saga; repeating the idempotency key answers 200 with the first instance. */
  @Post()
  @HttpCode(201)
  @ApiOperation({
    summary: 'Start a saga',
    description:
      '201 with the new instance; the same idempotency key again answers 200 with the first one.',
  })
  @ApiHeader({
    name: 'Idempotency-Key',
    required: false,
    description: 'Required here or as idempotencyKey in the body (1 to 200 characters).',
  })
  async start(
    @Body() dto: StartSagaDto,
    @Headers('idempotency-key') headerKey: string | undefined,
    @Headers('traceparent') traceparent: string | undefined,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ) {
    const principal = req.principal!;
    if (!mayActOn(principal, dto.sagaType))
      throw new ApiError(
        'FORBIDDEN',
        `your credentials may not start "${dto.sagaType}" sagas: they are scoped to ${principal.sagaTypes!.join(', ')}`,
      );
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
    const view = ({ instance, created }: StartSagaResult) => ({
      id: instance.id,
      sagaType: instance.sagaType,
      sagaVersion: instance.sagaVersion,
      status: instance.status,
      created,
    });
    // The start and its audit record commit together.
    const result = await this.startSaga.execute(
      {
        sagaType: dto.sagaType,
        input: dto.input,
        idempotencyKey,
        businessKey: dto.businessKey ?? null,
        actor: actorOf(principal),
        ...(traceparent ? { traceparent } : {}),
      },
      (sql, result) =>
        this.audit.recordApplied(sql, req, {
          action: 'saga.start',
          sagaId: result.instance.id,
          reason: null,
          statusCode: result.created ? 201 : 200,
          response: view(result),
          detail: { sagaType: dto.sagaType, idempotencyKey },
        }),
    );
    if (!result.created) res.status(200);
    return view(result);
  }
}
