import {
  Body,
  Controller,
  HttpCode,
  Param,
  ParseUUIDPipe,
  Post,
  Query,
  Req,
  Res,
} from '@nestjs/common';
import { ApiHeader, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { OperatorAction } from '@sagaflow/engine';
import { Request, Response } from 'express';
import { ApiError } from '../errors/api-error';
import { ActionDto, MarkCompensatedDto, SkipStepDto } from './action.dto';
import { ActionRunner } from './action-runner';

const UUID = new ParseUUIDPipe({ version: '4' });

/**
 * `POST /sagas/:id/<action>`: one operator action on one saga, through the engine core, in one
 * transaction with its audit record. Illegal for the saga's state → 409 with the reason.
 */
@ApiTags('operator actions')
@ApiHeader({
  name: 'If-Match',
  required: false,
  description: 'Act only on this saga version (the ETag), else 409.',
})
@ApiHeader({
  name: 'Idempotency-Key',
  required: false,
  description: 'Repeat-safe: the same key answers the first response.',
})
@Controller('sagas')
export class SagaActionsController {
  constructor(private readonly runner: ActionRunner) {}

  @Post(':id/retry')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Retry the failed step or compensation of a failed saga (new attempt, same idempotency key)',
  })
  retry(
    @Param('id', UUID) id: string,
    @Body() dto: ActionDto,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ) {
    return this.act(req, res, id, { type: 'retry' }, dto.reason);
  }

  @Post(':id/resume')
  @HttpCode(200)
  @ApiOperation({ summary: 'Send attempts waiting for a retry backoff now' })
  resume(
    @Param('id', UUID) id: string,
    @Body() dto: ActionDto,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ) {
    return this.act(req, res, id, { type: 'resume' }, dto.reason);
  }

  @Post(':id/compensate')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Compensate now; ?dryRun=true returns the exact plan and changes nothing',
  })
  @ApiQuery({ name: 'dryRun', required: false, enum: ['true', 'false'] })
  compensate(
    @Param('id', UUID) id: string,
    @Body() dto: ActionDto,
    @Query('dryRun') dryRun: string | undefined,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ) {
    if (dryRunOf(dryRun))
      return this.runner.preview(req, {
        sagaId: id,
        action: { type: 'compensate' },
        reason: dto.reason,
        ifMatch: header(req, 'if-match'),
      });
    return this.act(req, res, id, { type: 'compensate' }, dto.reason);
  }

  @Post(':id/cancel')
  @HttpCode(200)
  @ApiOperation({ summary: 'Cancel: compensate what completed, recorded as a cancellation' })
  cancel(
    @Param('id', UUID) id: string,
    @Body() dto: ActionDto,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ) {
    return this.act(req, res, id, { type: 'cancel' }, dto.reason);
  }

  @Post(':id/skip')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Treat an outstanding or failed forward step as succeeded with your reply data',
  })
  skip(
    @Param('id', UUID) id: string,
    @Body() dto: SkipStepDto,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ) {
    return this.act(req, res, id, { type: 'skip', step: dto.step, reply: dto.reply }, dto.reason);
  }

  @Post(':id/mark-compensated')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Record a failed compensation as done by hand, with evidence, and go on',
  })
  markCompensated(
    @Param('id', UUID) id: string,
    @Body() dto: MarkCompensatedDto,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ) {
    return this.act(req, res, id, { type: 'markCompensated', evidence: dto.evidence }, dto.reason);
  }

  private act(req: Request, res: Response, sagaId: string, action: OperatorAction, reason: string) {
    return this.runner.run(req, res, {
      sagaId,
      action,
      reason,
      ifMatch: header(req, 'if-match'),
      idempotencyKey: header(req, 'idempotency-key'),
    });
  }
}

export function header(req: Request, name: string): string | undefined {
  const value = req.headers[name];
  return typeof value === 'string' ? value : undefined;
}

function dryRunOf(value: string | undefined): boolean {
  if (value === undefined || value === 'false') return false;
  if (value === 'true') return true;
  throw new ApiError('VALIDATION_FAILED', 'dryRun must be "true" or "false"', [
    { field: 'dryRun', messages: ['dryRun must be "true" or "false"'] },
  ]);
}
